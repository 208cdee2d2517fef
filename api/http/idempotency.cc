#include "api/http/idempotency.h"

namespace backline::http {

idempotency_store::idempotency_store(std::size_t entries_max, std::chrono::seconds ttl)
    : entries_max_(entries_max == 0 ? 1 : entries_max), ttl_(ttl) {}

std::string idempotency_store::scope(std::string_view tenant, std::string_view subject,
                                     std::string_view key) {
  std::string s;
  s.reserve(tenant.size() + subject.size() + key.size() + 2);
  s.append(tenant).push_back('\x1f');
  s.append(subject).push_back('\x1f');
  s.append(key);
  return s;
}

std::uint64_t idempotency_store::fingerprint(std::string_view method, std::string_view path,
                                             std::string_view body) {
  std::uint64_t h = 14695981039346656037ull;
  auto mix = [&h](std::string_view part) {
    for (unsigned char c : part) {
      h ^= c;
      h *= 1099511628211ull;
    }
    h ^= 0xff;  // separator, so ("ab","c") != ("a","bc")
    h *= 1099511628211ull;
  };
  mix(method);
  mix(path);
  mix(body);
  return h;
}

bool idempotency_store::evict_one() {
  for (auto it = lru_.rbegin(); it != lru_.rend(); ++it) {
    auto e = entries_.find(*it);
    if (e->second.done) {
      lru_.erase(std::next(it).base());
      entries_.erase(e);
      return true;
    }
  }
  return false;
}

idempotency_store::begin_result idempotency_store::begin(const std::string& scope,
                                                         std::uint64_t fingerprint) {
  std::lock_guard lock(mutex_);
  auto now = clock::now();
  auto it = entries_.find(scope);
  if (it != entries_.end() && it->second.done && now - it->second.created > ttl_) {
    lru_.erase(it->second.lru);
    entries_.erase(it);
    it = entries_.end();
  }
  if (it != entries_.end()) {
    auto& e = it->second;
    if (e.fingerprint != fingerprint) return {outcome::mismatch, std::nullopt};
    if (!e.done) return {outcome::in_flight, std::nullopt};
    lru_.splice(lru_.begin(), lru_, e.lru);
    return {outcome::replay, e.stored};
  }
  if (entries_.size() >= entries_max_ && !evict_one()) return {outcome::full, std::nullopt};
  lru_.push_front(scope);
  entry e;
  e.fingerprint = fingerprint;
  e.created = now;
  e.lru = lru_.begin();
  entries_.emplace(scope, std::move(e));
  ++in_flight_;
  return {outcome::proceed, std::nullopt};
}

void idempotency_store::complete(const std::string& scope, const response& r) {
  if (r.status >= 500 || r.status < 200) {
    release(scope);
    return;
  }
  std::lock_guard lock(mutex_);
  auto it = entries_.find(scope);
  if (it == entries_.end() || it->second.done) return;
  it->second.done = true;
  it->second.stored = r;
  it->second.created = clock::now();
  --in_flight_;
}

void idempotency_store::release(const std::string& scope) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(scope);
  if (it == entries_.end() || it->second.done) return;
  lru_.erase(it->second.lru);
  entries_.erase(it);
  --in_flight_;
}

std::size_t idempotency_store::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

std::size_t idempotency_store::in_flight() const {
  std::lock_guard lock(mutex_);
  return in_flight_;
}

}  // namespace backline::http
