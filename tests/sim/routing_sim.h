#pragma once
// A seeded, virtual-time simulation of a contact-center day driven through the routing protocol
// (actors/domain/routing_protocol.h) and the pure call, agent and queue aggregates. Every command
// goes through the aggregates' decide/evolve; every event is appended to an in-memory log whose
// FNV-1a hash (over a canonical rendering) identifies the run: the same seed gives the same hash.
//
// Invariants checked after every event (each violation is recorded, the run goes on):
// no agent over capacity; no offer to an offline or away agent; order within a priority is FIFO
// (no item is offered while an earlier one of the same priority the agent could take waits);
// a callback (an agent's callback request, a customer's callback in a queue) never loses its
// place; and at the end, every call ended answered, abandoned or called back.
//
// Single-threaded, no clock, no I/O: the timer queue is the only notion of time.

#include <cstdint>
#include <string>
#include <vector>

#include "actors/domain/directory.h"

namespace backline::sim {

struct sim_config {
  std::uint64_t seed = 1;
  int agents = 200;
  int queues = 20;  // the last one is "General", the fallback
  std::int64_t day_us = 8LL * 3600 * 1'000'000;
  double customer_calls_per_s = 0.55;
  double internal_calls_per_s = 0.03;
  double consult_probability = 0.1;  // of answered customer calls
  double mean_talk_s = 240, mean_patience_s = 300;
  double customer_callback_probability = 0.25;  // of impatient customers
  std::int64_t ring_timeout_ms = 20'000;
};

struct sim_summary {
  std::uint64_t calls = 0;               // voice calls created (customer, internal, callback calls)
  std::uint64_t internal_callbacks = 0;  // internal calls that left a callback request
  std::uint64_t customer_calls = 0, internal_calls = 0, answered = 0, abandoned = 0;
  std::uint64_t called_back = 0, customer_callbacks = 0, internal_refused = 0;
  std::uint64_t callbacks_requested = 0, callbacks_completed = 0, callbacks_cancelled = 0;
  std::uint64_t offers = 0, accepted = 0, missed = 0, declined = 0, withdrawn = 0;
  std::uint64_t overflowed = 0, consults = 0, consults_refused = 0, refusals = 0;
  std::uint64_t events = 0, steps = 0;
  std::uint64_t hash = 0;
  std::int64_t end_us = 0;
  std::vector<std::string> violations;  // empty when every invariant held
};

domain::directory make_directory(const sim_config& config);
sim_summary run_simulation(const sim_config& config);
std::string render(const sim_summary& s);

}  // namespace backline::sim
