#include "actors/aggregate_core.h"

#include <random>

namespace backline::actors::detail {

std::uint64_t random_seed() {
  static const std::uint64_t process =
      std::random_device{}() ^ (std::uint64_t{std::random_device{}()} << 32);
  static std::atomic<std::uint64_t> actors{0};
  splitmix64 mix{process ^ actors.fetch_add(1, std::memory_order_relaxed)};
  return mix();
}

void send_reply(const reply_address& a, command_result r, const caf::strong_actor_ptr& from) {
  if (a.to) {
    a.to->enqueue(caf::make_mailbox_element(from, a.id.response_id(), {}, std::move(r)), nullptr);
  }
}

reply_address reply_address_of(caf::typed_response_promise<command_result>& promise) {
  caf::response_promise& raw = promise;
  return {raw.next(), raw.id()};
}

}  // namespace backline::actors::detail
