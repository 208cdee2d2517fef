#include "api/http/idempotency.h"

#include <gtest/gtest.h>

namespace backline::http {
namespace {

using outcome = idempotency_store::outcome;

response ok(std::string body) {
  return response::text(201, std::move(body));
}

TEST(Idempotency, ARetryGetsTheFirstResponse) {
  idempotency_store s(8);
  auto scope = idempotency_store::scope("acme", "alice", "k1");
  auto fp = idempotency_store::fingerprint("POST", "/v1/calls/internal", "{}");
  EXPECT_EQ(s.begin(scope, fp).result, outcome::proceed);
  EXPECT_EQ(s.begin(scope, fp).result, outcome::in_flight);  // a concurrent retry: 409
  s.complete(scope, ok("first"));
  auto again = s.begin(scope, fp);
  ASSERT_EQ(again.result, outcome::replay);
  EXPECT_EQ(again.stored->status, 201);
  EXPECT_EQ(again.stored->body, "first");
  auto other = idempotency_store::fingerprint("POST", "/v1/calls/internal", "{\"x\":1}");
  EXPECT_EQ(s.begin(scope, other).result, outcome::mismatch);
}

TEST(Idempotency, KeysAreScopedByTenantAndPrincipal) {
  idempotency_store s(8);
  auto fp = idempotency_store::fingerprint("POST", "/p", "");
  EXPECT_EQ(s.begin(idempotency_store::scope("acme", "alice", "k"), fp).result, outcome::proceed);
  EXPECT_EQ(s.begin(idempotency_store::scope("acme", "bob", "k"), fp).result, outcome::proceed);
  EXPECT_EQ(s.begin(idempotency_store::scope("other", "alice", "k"), fp).result, outcome::proceed);
}

TEST(Idempotency, ServerErrorsAreNotStoredSoARetryRunsAgain) {
  idempotency_store s(8);
  auto scope = idempotency_store::scope("t", "p", "k");
  EXPECT_EQ(s.begin(scope, 1).result, outcome::proceed);
  s.complete(scope, response::text(503, "busy"));
  EXPECT_EQ(s.begin(scope, 1).result, outcome::proceed);
  s.release(scope);  // e.g. the handler timed out
  EXPECT_EQ(s.begin(scope, 1).result, outcome::proceed);
  EXPECT_EQ(s.in_flight(), 1u);
}

TEST(Idempotency, BoundedLruNeverEvictsInFlightEntries) {
  idempotency_store s(2);
  EXPECT_EQ(s.begin("a", 1).result, outcome::proceed);
  EXPECT_EQ(s.begin("b", 1).result, outcome::proceed);
  EXPECT_EQ(s.begin("c", 1).result, outcome::full);  // both in flight
  s.complete("a", ok("a"));
  s.complete("b", ok("b"));
  EXPECT_EQ(s.begin("a", 1).result, outcome::replay);   // a is now the most recent
  EXPECT_EQ(s.begin("c", 1).result, outcome::proceed);  // evicts b
  EXPECT_EQ(s.size(), 2u);
  EXPECT_EQ(s.begin("b", 1).result, outcome::proceed);  // b was evicted; now evicts a
  EXPECT_EQ(s.begin("a", 1).result, outcome::full);     // c and b are both in flight
  EXPECT_EQ(s.size(), 2u);
}

}  // namespace
}  // namespace backline::http
