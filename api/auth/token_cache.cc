#include "api/auth/token_cache.h"

#include "api/auth/revocation.h"
#include "eventlog/bounded_cache.h"

namespace backline::auth {

result<claims> token_cache::verify(std::string_view token, std::int64_t now_s) {
  const auto& config = verifier_->config();
  {
    const std::lock_guard lock(mutex_);
    const auto it = verified_.find(token);
    if (it != verified_.end()) {
      const claims& c = it->second;
      const bool expired = now_s >= c.exp_s + config.clock_skew_s;
      const bool revoked = config.revoked && !c.jti.empty() && config.revoked->contains(c.jti);
      if (!expired && !revoked) return c;
      verified_.erase(it);
    }
  }
  auto checked = verifier_->verify(token, now_s);
  if (checked) {
    const std::lock_guard lock(mutex_);
    eventlog::insert_or_assign_bounded(verified_, entries_max_, std::string(token), *checked);
  }
  return checked;
}

std::size_t token_cache::size() const {
  const std::lock_guard lock(mutex_);
  return verified_.size();
}

}  // namespace backline::auth
