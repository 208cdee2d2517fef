// backlined: the Backline engine. Opens the embedded event log, loads the call center
// directory, starts the actors, and runs until SIGINT/SIGTERM.
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <iostream>
#include <optional>
#include <thread>

#include <unistd.h>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "actors/domain/directory.h"
#include "actors/engine.h"
#include "api/auth/dev_key.h"
#include "api/auth/jwt.h"
#include "api/auth/revocation.h"
#include "api/http/server.h"
#include "api/service/service.h"
#include "eventlog/kafka/publisher.h"
#include "eventlog/log.h"
#include "projections/live.h"
#include "projections/store.h"
#include "schemas/codec.h"
#include "tools/demo.h"

namespace {

// Log lines: human text on a terminal, one JSON object per line otherwise.
void say(const std::string& line) {
  static const bool tty = isatty(STDERR_FILENO) != 0;
  if (tty) {
    fmt::print(stderr, "backlined: {}\n", line);
  } else {
    const auto msg =
        nlohmann::json(line).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    fmt::print(stderr, "{{\"component\":\"backlined\",\"msg\":{}}}\n", msg);
  }
}

std::string default_directory_file() {
  for (const char* candidate : {"deploy/demo-callcenter.toml", "/etc/backline/callcenter.toml"}) {
    if (std::filesystem::exists(candidate)) return candidate;
  }
  return {};
}

// Waits for SIGINT/SIGTERM; every `period` without one, calls `tick` (progress reports).
int wait_for_signal(std::chrono::seconds period, const std::function<void()>& tick) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  const timespec timeout{static_cast<time_t>(period.count()), 0};
  for (;;) {
    const int sig = sigtimedwait(&set, nullptr, &timeout);
    if (sig == SIGINT || sig == SIGTERM) return sig;
    tick();
  }
}

// `--kafka-config key=value` and `--kafka-topic kind=name`: split at the first '='.
std::optional<std::pair<std::string, std::string>> split_setting(const std::string& s) {
  const auto eq = s.find('=');
  if (eq == std::string::npos || eq == 0) return std::nullopt;
  return std::pair{s.substr(0, eq), s.substr(eq + 1)};
}

struct kafka_flags {
  std::string bootstrap;
  bool json = false;
  int partitions = 0, replication = -1;
  std::vector<std::string> config, topics;
};

void add_kafka_options(CLI::App& app, kafka_flags& k) {
  app.add_option("--kafka", k.bootstrap,
                 "publish every committed event to Kafka (BOOTSTRAP: host:port,...); without it "
                 "the engine runs embedded");
  app.add_flag("--kafka-json", k.json,
               "with --kafka: also publish CloudEvents JSON to <topic>.json");
  app.add_option("--kafka-partitions", k.partitions,
                 "with --kafka: create missing topics with this many partitions (0: leave "
                 "topic creation to the cluster)")
      ->capture_default_str();
  app.add_option("--kafka-replication", k.replication,
                 "with --kafka-partitions: replication factor of created topics (-1: the "
                 "broker's default)")
      ->capture_default_str();
  app.add_option("--kafka-topic", k.topics,
                 "KIND=NAME: topic of a stream kind (call, agent, queue, directory); repeatable");
  app.add_option("--kafka-config", k.config,
                 "KEY=VALUE passed to librdkafka (TLS, SASL, compression...); repeatable");
}

// Errors are sentences for the operator.
std::expected<backline::kafka::publisher_options, std::string> publisher_options_from(
    const kafka_flags& k, const std::string& data) {
  backline::kafka::publisher_options o;
  o.bootstrap = k.bootstrap;
  o.json_mirror = k.json;
  o.state_dir = data;
  o.topic_partitions = k.partitions;
  o.topic_replication = k.replication;
  o.log_line = say;
  for (const auto& c : k.config) {
    auto kv = split_setting(c);
    if (!kv) return std::unexpected("--kafka-config takes KEY=VALUE, e.g. security.protocol=SSL");
    o.producer_config.push_back(*kv);
  }
  for (const auto& t : k.topics) {
    auto kv = split_setting(t);
    std::string* slot = nullptr;
    if (kv && kv->first == "call") slot = &o.topics.call;
    if (kv && kv->first == "agent") slot = &o.topics.agent;
    if (kv && kv->first == "queue") slot = &o.topics.queue;
    if (kv && kv->first == "directory") slot = &o.topics.directory;
    if (!slot || kv->second.empty()) {
      return std::unexpected(
          "--kafka-topic takes KIND=NAME with KIND one of call, agent, queue, directory");
    }
    *slot = kv->second;
  }
  return o;
}

struct api_flags {
  std::string listen = "127.0.0.1:8080";
  unsigned io_threads = 1;
  std::string jwt_alg, jwt_public_key, jwt_hmac_secret_file, jwt_audience = "backline";
  std::vector<std::string> jwt_issuers;
};

void add_api_options(CLI::App& app, api_flags& a) {
  app.add_option("--listen", a.listen, "serve the HTTP API on ADDR:PORT ('off': no API)")
      ->capture_default_str();
  app.add_option("--http-threads", a.io_threads, "HTTP I/O threads")->capture_default_str();
  app.add_option("--jwt-alg", a.jwt_alg,
                 "the one accepted token algorithm: RS256, ES256, or HS256 (only with "
                 "--jwt-hmac-secret-file). Without it: the development key in <data>/auth")
      ->check(CLI::IsMember({"RS256", "ES256", "HS256"}));
  app.add_option("--jwt-public-key", a.jwt_public_key,
                 "RS256/ES256: the issuer's public key (PEM)");
  app.add_option("--jwt-hmac-secret-file", a.jwt_hmac_secret_file, "HS256: a file with the secret");
  app.add_option("--jwt-issuer", a.jwt_issuers,
                 "accepted token issuer (iss; the call center); repeatable (default: the "
                 "directory's call center)");
  app.add_option("--jwt-audience", a.jwt_audience, "required token audience (aud)")
      ->capture_default_str();
}

// "127.0.0.1:8080", "[::1]:8080" -> address and port.
std::optional<std::pair<std::string, std::uint16_t>> split_listen(const std::string& s) {
  const auto colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == s.size()) return std::nullopt;
  std::string host = s.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  unsigned port = 0;
  for (const char c : s.substr(colon + 1)) {
    if (c < '0' || c > '9' || port > 65535) return std::nullopt;
    port = port * 10 + static_cast<unsigned>(c - '0');
  }
  if (port > 65535) return std::nullopt;
  return std::pair{host, static_cast<std::uint16_t>(port)};
}

struct api_auth {
  std::shared_ptr<const backline::auth::verifier> verifier;
  std::shared_ptr<backline::auth::revocation_list> revoked;
  bool development = false;
};

// Production settings when --jwt-alg is given, else the development key (said loudly).
std::expected<api_auth, std::string> make_api_auth(const api_flags& a, const std::string& data,
                                                   const std::string& call_center) {
  namespace auth = backline::auth;
  const std::filesystem::path auth_dir = std::filesystem::path(data) / "auth";
  auto revoked = auth::revocation_list::open(auth_dir / "revoked.json");
  if (!revoked) return std::unexpected("revocation list: " + revoked.error().detail);
  std::vector<std::string> issuers = a.jwt_issuers;
  if (issuers.empty()) issuers.push_back(call_center);
  std::expected<auth::verifier_config, std::string> config;
  api_auth out;
  if (a.jwt_alg.empty()) {
    auth::dev_key_options o;
    o.issuers = issuers;
    o.audience = a.jwt_audience;
    o.warn = [](std::string_view text) { say(std::string(text)); };
    auto dev = auth::ensure_dev_key(data, o);
    if (!dev) return std::unexpected("development key: " + dev.error().detail);
    config = dev->config;
    out.development = true;
  } else {
    auth::settings s;
    s.alg = *auth::parse_algorithm(a.jwt_alg);
    s.public_key_path = a.jwt_public_key;
    if (!a.jwt_hmac_secret_file.empty()) {
      auto secret = auth::read_small_file(a.jwt_hmac_secret_file);
      if (!secret) return std::unexpected("--jwt-hmac-secret-file: " + secret.error().detail);
      s.hmac_secret = *secret;
    }
    s.issuers = issuers;
    s.audience = a.jwt_audience;
    auto loaded = auth::load_verifier_config(s);
    if (!loaded) return std::unexpected("token settings: " + loaded.error().detail);
    config = std::move(*loaded);
  }
  config->revoked = *revoked;
  auto v = auth::verifier::make(std::move(*config));
  if (!v) return std::unexpected("token settings: " + v.error().detail);
  out.verifier = std::make_shared<const auth::verifier>(std::move(*v));
  out.revoked = std::move(*revoked);
  return out;
}

void report_kafka(const backline::kafka::publisher& p) {
  static std::uint64_t errors_seen = 0;
  const auto s = p.stats();
  const std::uint64_t errors = s.producer_errors_total + s.delivery_errors_total;
  if (s.lag_events == 0 && errors == errors_seen) return;
  errors_seen = errors;
  say(
      fmt::format("kafka: lag {} events (published {} of {}), {} in flight, {} producer errors, "
                  "{} delivery errors, {} producer restarts",
                  s.lag_events, s.published_position, s.committed_position, s.in_flight_events,
                  s.producer_errors_total, s.delivery_errors_total, s.producer_restarts_total));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"backlined: the Backline voice-call engine (event log + call actors)"};
  app.footer(R"(Examples:
  backlined                                   # ./var, deploy/demo-callcenter.toml
  backlined --data /srv/backline --directory /etc/backline/callcenter.toml --fsync
  backlined --demo                            # drive the demo scenario, print committed events
  backlined --demo --once                     # ... then exit
  backlined --listen 0.0.0.0:8080             # serve the HTTP API on every interface
  backlined --listen off                      # no HTTP API
  backlined --jwt-alg RS256 --jwt-public-key /etc/backline/idp.pem --jwt-issuer acme_support
  backlined --kafka 127.0.0.1:9092            # also publish every event to Kafka
  backlined --kafka kafka-0:9093 --kafka-partitions 12 --kafka-json \
            --kafka-config security.protocol=SASL_SSL --kafka-config sasl.mechanism=SCRAM-SHA-512 \
            --kafka-config sasl.username=backline --kafka-config sasl.password=...
  backline kafka-dev --port-base 19092 &      # a development broker (in memory, tests only)

The engine recovers its state from the log in --data on every start.)");
  std::string data = "var", directory, durability = "wal";
  bool demo = false, once = false, no_projections = false;
  std::size_t threads = 0;
  app.add_option("--data", data, "data directory (the RocksDB event log)")->capture_default_str();
  app.add_option("--directory", directory,
                 "call center directory TOML (default: deploy/demo-callcenter.toml if present)");
  app.add_option("--durability", durability,
                 "fsync: fsync every group commit; wal: write the WAL without sync")
      ->check(CLI::IsMember({"fsync", "wal"}))
      ->capture_default_str();
  app.add_flag(
      "--fsync", [&](std::int64_t) { durability = "fsync"; }, "same as --durability fsync");
  app.add_option("--threads", threads, "actor scheduler threads (0: one per core)");
  app.add_flag("--demo", demo, "run the demo scenario through the actors");
  app.add_flag("--once", once, "with --demo: exit after the scenario");
  app.add_flag("--no-projections", no_projections,
               "do not keep the read models in <data>/projections up to date (then `backline "
               "replay` builds them)");
  kafka_flags kafka;
  add_kafka_options(app, kafka);
  api_flags api;
  add_api_options(app, api);
  CLI11_PARSE(app, argc, argv);
  std::optional<std::pair<std::string, std::uint16_t>> listen;
  if (api.listen != "off") {
    listen = split_listen(api.listen);
    if (!listen) {
      say(fmt::format("--listen takes ADDR:PORT (e.g. 127.0.0.1:8080) or off, not '{}'",
                      api.listen));
      return 2;
    }
  }
  std::optional<backline::kafka::publisher_options> kafka_options;
  if (!kafka.bootstrap.empty()) {
    auto o = publisher_options_from(kafka, data);
    if (!o) {
      say(o.error());
      return 2;
    }
    kafka_options = std::move(*o);
  }

  // Signals are taken by sigwait on the main thread; block them before any thread starts.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  if (directory.empty()) directory = default_directory_file();
  backline::actors::engine_options options;
  options.data_dir = data;
  options.fsync_per_batch = durability == "fsync";
  options.directory_file = directory;
  options.scheduler_threads = threads;
  say(fmt::format("starting: event log in {} (durability: {}), directory {}", data,
                  options.fsync_per_batch ? "fsync per batch" : "WAL without sync",
                  directory.empty() ? "(none)" : directory));
  auto engine = backline::actors::engine::start(options);
  if (!engine) {
    say("cannot start: " + engine.error());
    return 1;
  }
  auto& log = (*engine)->log();
  const auto& dir = (*engine)->directory();
  say(fmt::format("directory '{}' from {}: {} agents, {} queues, {} phone channels",
                  dir.call_center, directory.empty() ? "(none)" : directory, dir.agents.size(),
                  dir.queues.size(), dir.channels.size()));
  say(fmt::format("recovered the log: {} events committed", log.committed_position()));

  // The outbox relay runs on its own thread beside the engine; it only reads the log.
  std::unique_ptr<backline::kafka::publisher> publisher;
  if (kafka_options) {
    auto p = backline::kafka::publisher::start(log, std::move(*kafka_options));
    if (!p) {
      say("cannot start the Kafka publisher: " + p.error());
      return 1;
    }
    publisher = std::move(*p);
  }

  // The read models (`backline calls`, `chain`, `report`) follow the log on their own thread.
  std::unique_ptr<backline::projections::live_projector> live;
  if (!no_projections) {
    const std::string store_dir = backline::projections::default_store_dir(data);
    auto l = backline::projections::live_projector::start(log, {.store_dir = store_dir});
    if (!l) {
      say(fmt::format("cannot start the projections in {}: {}", store_dir, l.error().message()));
      return 1;
    }
    live = std::move(*l);
  }

  // The HTTP API (api/service): commands go to the engine, reads to the live read models.
  std::unique_ptr<backline::http::server> http_server;
  if (listen) {
    auto a = make_api_auth(api, data, dir.call_center);
    if (!a) {
      say("cannot start the API: " + a.error());
      return 1;
    }
    backline::http::options ho;
    ho.address = listen->first;
    ho.port = listen->second;
    ho.io_threads = std::max(1u, api.io_threads);
    http_server = std::make_unique<backline::http::server>(ho);
    backline::api::install(*http_server, {.engine = engine->get(),
                                          .projections = live.get(),
                                          .kafka = publisher.get(),
                                          .verifier = a->verifier,
                                          .revoked = a->revoked});
    auto port = http_server->start();
    if (!port) {
      say(fmt::format("cannot serve the API on {}: {}", api.listen, port.error().message()));
      return 1;
    }
    const std::string base = fmt::format("http://{}:{}", listen->first, *port);
    say(fmt::format("API on {} (OpenAPI: {}/openapi.json, metrics: {}/metrics)", base, base, base));
    if (a->development) {
      // The CLI sits next to this binary in a build tree; else it is on the PATH.
      const auto beside = std::filesystem::path(argv[0]).parent_path() / "backline";
      const std::string cli = std::filesystem::exists(beside) ? beside.string() : "backline";
      say(
          fmt::format("first call: TOKEN=$({} token --data {} --sub alice --role agent) && curl -H "
                      "\"Authorization: Bearer $TOKEN\" {}/v1/agents",
                      cli, data, base));
    }
  }

  // `printed` outlives `printer`, whose thread writes it.
  std::atomic<std::uint64_t> printed{log.committed_position()};
  std::unique_ptr<backline::eventlog::subscription> printer;
  if (demo) {
    // Prints every event as it is committed (after it is durable), as JSON lines on stdout.
    printer = log.subscribe(printed + 1, [&printed](const backline::eventlog::record& r) {
      auto d = backline::schemas::decode(r.envelope);
      std::string line = d ? backline::schemas::to_json(*d) : "{\"error\":\"undecodable\"}";
      std::fwrite(line.data(), 1, line.size(), stdout);
      std::fputc('\n', stdout);
      std::fflush(stdout);
      printed = r.position;
    });
    const bool ok = backline::tools::run_demo(**engine, say);
    if (!ok) return 2;
    if (once) {
      // Let the printer reach the last committed event (bounded: 5 s) before exiting.
      for (int i = 0; i < 500 && printed < log.committed_position(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      printer.reset();
      if (publisher &&
          !publisher->wait_published(log.committed_position(), std::chrono::seconds(10))) {
        report_kafka(*publisher);
        say("kafka: not every event was acknowledged within 10 s; the rest is sent on the next "
            "start");
      }
      publisher.reset();
      // The read models show every event before the process exits (bounded: 10 s).
      for (int i = 0; live && i < 1000 && live->lag() > 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      live.reset();
      return 0;
    }
  }
  say("running; stop with Ctrl-C (SIGINT) or SIGTERM");
  const int sig = wait_for_signal(std::chrono::seconds(10), [&] {
    if (publisher) report_kafka(*publisher);
  });
  say(fmt::format("received {}, stopping", sig == SIGINT ? "SIGINT" : "SIGTERM"));
  http_server.reset();  // answers what is in flight, then closes
  printer.reset();
  publisher.reset();  // flushes what is in flight and stores the published position
  live.reset();       // flushes the read models with their checkpoint
  engine->reset();
  say("stopped cleanly");
  return 0;
}
