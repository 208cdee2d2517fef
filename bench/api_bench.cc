// api_bench: the Telephony Integration API's writes under `wrk` (Debian package), through the
// whole engine: JWT check, route, command to the call actor, append to the log, answer after
// durability. Issue 5's figure.
//
// Starts an engine in a scratch directory (the demo call center; WAL without sync, as
// `backlined` by default), the live projector (unless --no-projections) and the API on a
// loopback port, creates --calls calls to update, then runs `wrk --latency` twice on the same
// server: GET /livez (the anchor: no auth, no engine) and a mix of half creates
// (POST /telephony/v1/voiceCalls, a fresh vendorCallKey each) and half updates
// (PATCH /telephony/v1/voiceCalls/{id} with new callAttributes: one event each). Prints:
//   FIGURE api_telephony_writes_per_s <rate> 1/s anchor=http_livez_requests_per_s:<rate> ...
//   FIGURE api_telephony_write_latency_p99 <us> us anchor=http_livez_latency_p99:<us> ...
// wrk shares the machine's cores with the engine, so the rate is a lower bound. Each run also
// prints the CPU a request costs: wrk's, and the server's by thread (the HTTP I/O threads
// "bl-http-io", CAF's "caf.multiplexer", the log writer "bl-log-writer", RocksDB's threads).

#include <sys/resource.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "actors/engine.h"
#include "api/auth/dev_key.h"
#include "api/auth/jwt.h"
#include "api/http/server.h"
#include "api/service/service.h"
#include "bench/bench_util.h"
#include "projections/live.h"
#include "projections/store.h"

namespace bench = backline::bench;
namespace auth = backline::auth;

int main(int argc, char** argv) {
  CLI::App app{"api_bench: Telephony Integration API writes (create + update) under wrk"};
  app.footer(R"(Examples:
  api_bench                                   # wrk -t2 -c64 -d5s, 1 I/O thread
  api_bench --duration 10 --connections 128 --io-threads 2
  api_bench --no-projections                  # the engine alone, no read models

Needs wrk (Debian package `wrk`). Prints FIGURE lines; GET /livez in the same run is the anchor.)");
  int duration_s = 5, connections = 64, wrk_threads = 2;
  unsigned io_threads = 1;
  std::size_t calls = 1'000;
  bool no_projections = false;
  std::string wrk = "wrk";
  std::string directory = std::string(BACKLINE_SOURCE_DIR) + "/deploy/demo-callcenter.toml";
  app.add_option("--duration", duration_s, "seconds per wrk run")->capture_default_str();
  app.add_option("--connections", connections, "wrk -c (keep-alive connections)")
      ->capture_default_str();
  app.add_option("--wrk-threads", wrk_threads, "wrk -t")->capture_default_str();
  app.add_option("--io-threads", io_threads, "server I/O threads")->capture_default_str();
  app.add_option("--calls", calls, "calls created before the run, which the PATCHes update")
      ->capture_default_str();
  app.add_flag("--no-projections", no_projections, "do not run the live projector");
  app.add_option("--directory", directory, "call center directory TOML")->capture_default_str();
  app.add_option("--wrk", wrk, "the wrk binary")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  const auto dir = bench::scratch_dir("api-bench");
  backline::actors::engine_options eo;
  eo.data_dir = dir + "/data";
  eo.directory_file = directory;
  auto engine = backline::actors::engine::start(eo);
  if (!engine) {
    fmt::print(stderr, "api_bench: {}\n", engine.error());
    return 1;
  }
  std::unique_ptr<backline::projections::live_projector> live;
  if (!no_projections) {
    auto l = backline::projections::live_projector::start(
        (*engine)->log(), {.store_dir = backline::projections::default_store_dir(eo.data_dir)});
    if (!l) {
      fmt::print(stderr, "api_bench: projections: {}\n", l.error().message());
      return 1;
    }
    live = std::move(*l);
  }
  const std::string tenant = (*engine)->directory().call_center;
  auth::dev_key_options ko;
  ko.issuers = {tenant};
  ko.warn = [](std::string_view) {};
  auto key = auth::ensure_dev_key(eo.data_dir, ko);
  if (!key) {
    fmt::print(stderr, "api_bench: dev key: {}\n", key.error().detail);
    return 1;
  }
  auto verifier = auth::verifier::make(key->config);
  const std::int64_t now_s = (*engine)->now_us() / 1'000'000;
  auth::token_request tr;
  tr.tenant = tenant;
  tr.subject = "bench-telephony";
  tr.audience = {std::string(auth::dev_audience)};
  tr.roles = {auth::role::telephony};
  tr.iat_s = now_s;
  tr.exp_s = now_s + 3600;
  tr.key_id = std::string(auth::dev_key_id);
  auto token = auth::mint(key->signing_key, tr);
  if (!verifier || !token) {
    fmt::print(stderr, "api_bench: cannot mint a token\n");
    return 1;
  }

  // The calls the PATCHes update.
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < calls; ++i) {
    backline::domain::cmd::create_call c;
    c.voice_call_id = backline::actors::new_id((*engine)->now_us());
    c.vendor_call_key = fmt::format("pre-{}", i);
    c.from = "+15550199";
    c.to = "+14155550100";
    backline::actors::command_request r;
    r.command_id = backline::actors::new_id((*engine)->now_us());
    r.tenant = tenant;
    r.principal = tr.subject;
    r.body = c;
    if ((*engine)->execute(std::move(r)).status != backline::actors::outcome::accepted) {
      fmt::print(stderr, "api_bench: could not create the calls to update\n");
      return 1;
    }
    ids.push_back(c.voice_call_id);
  }

  backline::http::options ho;
  ho.port = 0;
  ho.io_threads = io_threads;
  auto server = std::make_unique<backline::http::server>(ho);
  backline::api::install(*server, {.engine = engine->get(),
                                   .projections = live.get(),
                                   .verifier = std::make_shared<const auth::verifier>(*verifier)});
  auto port = server->start();
  if (!port) {
    fmt::print(stderr, "api_bench: cannot start the server: {}\n", port.error().message());
    return 1;
  }

  const auto script = dir + "/writes.lua";
  {
    std::ofstream lua(script);
    lua << "local ids = {";
    for (const auto& id : ids) lua << '"' << id << "\",";
    lua << "}\n";
    lua << "local hdr = {[\"Content-Type\"] = \"application/json\", [\"Authorization\"] = "
           "\"Bearer "
        << *token << "\"}\n";
    lua << R"(local n = 0
local next_tid = 0
function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
end
function request()
  n = n + 1
  if n % 2 == 1 then
    return wrk.format("POST", "/telephony/v1/voiceCalls", hdr,
      '{"callCenterApiName":")"
        << tenant << R"(","vendorCallKey":"vk-' .. tid .. '-' .. n ..
      '","to":"+14155550100","from":"+15550199","initiationMethod":"Inbound"}')
  end
  local id = ids[(math.floor(n / 2) + tid * 7) % #ids + 1]
  return wrk.format("PATCH", "/telephony/v1/voiceCalls/" .. id, hdr,
    '{"callAttributes":{"subject":"bench ' .. n .. '"}}')
end
)";
  }
  const auto args = fmt::format("-t{} -c{} -d{}s", wrk_threads, connections, duration_s);
  const auto base = fmt::format("http://127.0.0.1:{}", *port);
  // CPU per request on each side: this process by thread, and wrk (its own, from rusage).
  struct cpu_use {
    double process_s = 0;
    std::map<std::string, double> threads;
  };
  const auto measured = [](cpu_use& use, auto&& run) {
    const double cpu0 = bench::cpu_seconds(RUSAGE_SELF);
    const auto threads0 = bench::cpu_by_thread();
    auto r = run();
    use.process_s = bench::cpu_seconds(RUSAGE_SELF) - cpu0;
    bench::add_cpu(use.threads, threads0, bench::cpu_by_thread());
    return r;
  };
  cpu_use livez_cpu, writes_cpu;
  auto livez = measured(livez_cpu, [&] { return bench::run_wrk(wrk, args, base + "/livez"); });
  auto writes = measured(writes_cpu, [&] {
    return bench::run_wrk(wrk, args + " -s " + script, base + "/telephony/v1/voiceCalls");
  });
  server.reset();
  live.reset();
  engine->reset();
  std::filesystem::remove_all(dir);
  if (!livez || !writes) {
    fmt::print(stderr,
               "api_bench: wrk failed (is it installed? `apt-get install wrk`, or --wrk PATH)\n");
    return 1;
  }
  fmt::print("GET /livez:        {:.0f} req/s, p50 {:.0f} us, p99 {:.0f} us, non-2xx {}\n",
             livez->requests_per_s, livez->p50_us, livez->p99_us, livez->non_2xx);
  fmt::print(
      "create + update:   {:.0f} req/s, p50 {:.0f} us, p99 {:.0f} us, non-2xx {}, "
      "socket errors {}\n",
      writes->requests_per_s, writes->p50_us, writes->p99_us, writes->non_2xx,
      writes->socket_errors);
  // On 2 cores, N requests/s leave 2,000,000 / N us of CPU per request for wrk and the server.
  const auto print_cpu = [](const char* what, const bench::wrk_result& r, const cpu_use& use) {
    const double per = 1e6 / static_cast<double>(std::max<std::uint64_t>(r.requests, 1));
    std::string by_thread;
    for (const auto& [name, s] : use.threads) {
      if (s * per >= 0.5) by_thread += fmt::format(", {} {:.1f}", name, s * per);
    }
    fmt::print("{} CPU per request: wrk {:.1f} us, server {:.1f} us ({})\n", what,
               r.wrk_cpu_s * per, use.process_s * per,
               by_thread.empty() ? "" : by_thread.substr(2));
  };
  print_cpu("GET /livez:       ", *livez, livez_cpu);
  print_cpu("create + update:  ", *writes, writes_cpu);
  bench::print_figure("api_telephony_writes_per_s", writes->requests_per_s, "1/s",
                      "http_livez_requests_per_s", livez->requests_per_s);
  bench::print_figure("api_telephony_write_latency_p99", writes->p99_us, "us",
                      "http_livez_latency_p99", livez->p99_us);
  return writes->non_2xx == 0 ? 0 : 2;
}
