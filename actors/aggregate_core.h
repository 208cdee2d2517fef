#pragma once
// Internal to actors/: what every aggregate actor (call, agent, queue) does around its pure
// `decide` / `evolve`, independent of the aggregate. Included only by the actors' .cc files.
//
//  - load(): folds the stream from the log and remembers the command ids that caused its events;
//  - handle(): idempotency (the first outcome of a recent command id again), expected version,
//    decide, then either a reply or an append. Events are folded as soon as they are queued for
//    the log (pipelining: the next command is decided on top of them), and every reply follows
//    durability: the writer thread replies to an append from its `done` callback, and a reply
//    that depends on in-flight events travels through an empty append that completes after them.
//  - An append that fails leaves the state ahead of the log: `handle` then sends the actor a
//    committed_atom with the error, and the actor must stop (crash-only; the next command
//    re-activates it from the log).
//
// REQUIRES: every member function runs on the owning actor (one thread at a time), except the
// `done` callbacks, which run on the log's writer thread and touch only what they captured.
//
// Traits: state (with `version`), command (a variant), event ({at_us, body}), context,
// decide(state, command, context), evolve(state, event), encode(meta, body) -> bytes,
// to_event(schemas::decoded) -> optional<event>, aliases(event, stream, append_request&),
// events_of(command_result&) -> the result's vector of this kind's events (with_events).

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/messages.h"
#include "eventlog/log.h"
#include "schemas/codec.h"

namespace backline::actors::detail {

// SplitMix64: the random bits of event ids. Eight bytes of state per actor (a Mersenne twister
// would cost 2.5 KiB per call).
struct splitmix64 {
  std::uint64_t state;
  std::uint64_t operator()() {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
};
std::uint64_t random_seed();  // one read of the OS entropy per process, then a sequence

// Where a command's reply goes: the requester and its request id.
struct reply_address {
  caf::strong_actor_ptr to;
  caf::message_id id;
};
// `from`, the aggregate's actor, is the reply's sender: the routing actor learns from it where
// to send that stream's next commands without the router (actors/routing_actor.cc).
void send_reply(const reply_address& a, command_result r, const caf::strong_actor_ptr& from);
// The address of the request the actor is handling now; the handler returns `promise`.
reply_address reply_address_of(caf::typed_response_promise<command_result>& promise);

template <class Traits>
class aggregate_core {
 public:
  using state_type = typename Traits::state;
  using command_type = typename Traits::command;
  using event_type = typename Traits::event;
  using context_type = typename Traits::context;
  using request_type = basic_request<command_type>;

  aggregate_core(std::string kind, std::string id, const stream_actor_config* config)
      : kind_(std::move(kind)),
        id_(std::move(id)),
        stream_(kind_ + "/" + id_),
        config_(config),
        random_{random_seed()} {}

  const state_type& state() const { return state_; }
  const std::string& id() const { return id_; }
  const std::string& stream() const { return stream_; }
  std::uint32_t appends_in_flight() const { return appending_->load(std::memory_order_acquire); }

  // Folds the stream. False when the log cannot be read or a record does not verify.
  bool load() {
    auto records = config_->log->read_stream(stream_);
    if (!records) return false;
    for (const auto& r : *records) {
      auto d = schemas::decode(r.envelope);
      if (!d) return false;
      auto e = Traits::to_event(*d);
      if (!e) return false;
      Traits::evolve(state_, *e);
      remember(d->meta.causation_id,
               {outcome::accepted, domain::errc::ok, {}, id_, r.position, state_.version, 1, true});
    }
    return true;
  }

  // `self` receives committed_atom when an append fails.
  void handle(const request_type& req, const reply_address& to, const context_type& ctx,
              const caf::strong_actor_ptr& self) {
    if (const remembered_command* first = recall(req.command_id)) {
      send_after_log(to, first->replay(id_), self);
      return;
    }
    if (req.expected_version != 0 && req.expected_version != state_.version) {
      send_after_log(to,
                     refuse(outcome::conflict, domain::errc::version_conflict,
                            "the stream is at version " + std::to_string(state_.version) +
                                ", not " + std::to_string(req.expected_version)),
                     self);
      return;
    }
    if (appends_in_flight() >= config_->pending_commands_max) {
      send_reply(to,
                 refuse(outcome::overloaded, domain::errc::ok,
                        "too many commands in flight for this stream; retry shortly"),
                 self);
      return;
    }
    auto decision = Traits::decide(state_, req.body, ctx);
    if (!decision) {
      send_after_log(to, refuse(outcome::rejected, decision.error().code, decision.error().detail),
                     self);
    } else if (decision->empty()) {
      command_result none{outcome::accepted, domain::errc::ok, {}, id_, 0, state_.version, 0};
      remember(req.command_id, none);
      send_after_log(to, std::move(none), self);
    } else {
      append(req, to, *decision, self);
    }
  }

 private:
  // A command's first outcome, without what command_result carries only for the first reply
  // (events) or knows anyway (the stream): a few dozen bytes per remembered command.
  struct remembered_command {
    std::size_t hash = 0;
    std::string command_id;
    outcome status = outcome::accepted;
    domain::errc rule = domain::errc::ok;
    std::uint32_t events = 0;
    std::string detail;
    std::uint64_t first_position = 0, stream_version = 0;

    command_result replay(const std::string& stream_id) const {
      return command_result{status,         rule,           detail, stream_id,
                            first_position, stream_version, events, true};
    }
  };

  command_result refuse(outcome o, domain::errc rule, std::string detail) const {
    return command_result{o, rule, std::move(detail), id_, 0, state_.version, 0, false};
  }

  const remembered_command* recall(const std::string& command_id) const {
    if (command_id.empty()) return nullptr;
    const std::size_t h = std::hash<std::string_view>{}(command_id);
    for (const auto& r : remembered_) {
      if (r.hash == h && r.command_id == command_id) return &r;
    }
    return nullptr;
  }

  // A ring: no allocation once warm, since assignments reuse the strings' buffers.
  void remember(const std::string& command_id, const command_result& r) {
    const std::size_t max = config_->remembered_commands_max;
    if (command_id.empty() || max == 0 || recall(command_id) != nullptr) return;
    if (remembered_.size() < max) remembered_.emplace_back();
    auto& slot = remembered_[remembered_next_];
    remembered_next_ = (remembered_next_ + 1) % max;
    slot.hash = std::hash<std::string_view>{}(command_id);
    slot.command_id = command_id;
    slot.status = r.status;
    slot.rule = r.rule;
    slot.events = r.events;
    slot.detail = r.detail;
    slot.first_position = r.first_position;
    slot.stream_version = r.stream_version;
  }

  void send_after_log(const reply_address& to, command_result r,
                      const caf::strong_actor_ptr& self) {
    if (appends_in_flight() == 0) {
      send_reply(to, std::move(r), self);
      return;
    }
    eventlog::append_request marker;
    marker.done = [to, r, self](const std::expected<std::uint64_t, std::error_code>&) {
      send_reply(to, r, self);
    };
    if (auto err = config_->log->append(std::move(marker)); err) {
      send_reply(to, refuse(outcome::overloaded, domain::errc::ok, err.message()), self);
    }
  }

  std::string encode(const request_type& req, const event_type& e, std::uint64_t version) {
    schemas::envelope_meta meta;
    meta.event_id = schemas::make_uuid_v7(e.at_us / 1000, random_(), random_());
    meta.stream_kind = kind_;
    meta.stream_id = id_;
    meta.stream_version = version;
    meta.occurred_at_us = e.at_us;
    meta.correlation_id = req.correlation_id.empty() ? id_ : req.correlation_id;
    meta.causation_id = req.command_id;
    meta.tenant = req.tenant.empty() ? config_->tenant : req.tenant;
    meta.principal = req.principal;
    return Traits::encode(meta, e.body);
  }

  void append(const request_type& req, const reply_address& to,
              const std::vector<event_type>& events, const caf::strong_actor_ptr& self) {
    eventlog::append_request batch;
    std::uint64_t version = state_.version;
    for (const auto& e : events) {
      ++version;
      batch.events.push_back({stream_, version, encode(req, e, version)});
      Traits::aliases(e, stream_, batch);
    }
    const command_result ok{outcome::accepted,
                            domain::errc::ok,
                            {},
                            id_,
                            0,
                            version,
                            static_cast<std::uint32_t>(events.size()),
                            false};
    command_result reply = ok;
    if (req.with_events) Traits::events_of(reply) = events;
    batch.done = [to, ok = std::move(reply), self, counter = appending_](
                     const std::expected<std::uint64_t, std::error_code>& r) mutable {
      counter->fetch_sub(1, std::memory_order_acq_rel);
      if (r) {
        ok.first_position = *r;
        send_reply(to, std::move(ok), self);
        return;
      }
      send_reply(
          to, command_result{outcome::failed, domain::errc::ok, r.error().message(), ok.stream_id},
          self);
      caf::anon_send(caf::actor_cast<caf::actor>(self), committed_atom::value,
                     append_failed{r.error().value()});
    };
    appending_->fetch_add(1, std::memory_order_acq_rel);
    if (auto err = config_->log->append(std::move(batch)); err) {
      appending_->fetch_sub(1, std::memory_order_acq_rel);
      const bool full = err == eventlog::errc::overloaded;
      send_reply(
          to, refuse(full ? outcome::overloaded : outcome::failed, domain::errc::ok, err.message()),
          self);
      return;
    }
    for (const auto& e : events) Traits::evolve(state_, e);
    remember(req.command_id, ok);  // without the events
  }

  std::string kind_, id_, stream_;
  const stream_actor_config* config_;
  state_type state_;
  // Appends not yet done; decremented on the writer thread.
  std::shared_ptr<std::atomic<std::uint32_t>> appending_ =
      std::make_shared<std::atomic<std::uint32_t>>(0);
  std::vector<remembered_command> remembered_;
  std::size_t remembered_next_ = 0;
  splitmix64 random_;
};

}  // namespace backline::actors::detail
