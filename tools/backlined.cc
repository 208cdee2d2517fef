// backlined: the Backline engine. Opens the embedded event log, loads the call center
// directory, starts the actors, and runs until SIGINT/SIGTERM.
#include <atomic>
#include <csignal>
#include <thread>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "actors/engine.h"
#include "actors/domain/directory.h"
#include "eventlog/log.h"
#include "schemas/codec.h"
#include "tools/demo.h"

namespace {

// Log lines: human text on a terminal, one JSON object per line otherwise.
void say(const std::string& line) {
  static const bool tty = isatty(STDERR_FILENO) != 0;
  if (tty) {
    fmt::print(stderr, "backlined: {}\n", line);
  } else {
    const auto msg = nlohmann::json(line).dump(-1, ' ', false,
                                            nlohmann::json::error_handler_t::replace);
    fmt::print(stderr, "{{\"component\":\"backlined\",\"msg\":{}}}\n", msg);
  }
}

std::string default_directory_file() {
  for (const char* candidate : {"deploy/demo-callcenter.toml", "/etc/backline/callcenter.toml"}) {
    if (std::filesystem::exists(candidate)) return candidate;
  }
  return {};
}

int wait_for_signal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"backlined: the Backline voice-call engine (event log + call actors)"};
  app.footer(R"(Examples:
  backlined                                   # ./var, deploy/demo-callcenter.toml
  backlined --data /srv/backline --directory /etc/backline/callcenter.toml --fsync
  backlined --demo                            # drive the demo scenario, print committed events
  backlined --demo --once                     # ... then exit

The engine recovers its state from the log in --data on every start.)");
  std::string data = "var", directory, durability = "wal";
  bool demo = false, once = false;
  std::size_t threads = 0;
  app.add_option("--data", data, "data directory (the RocksDB event log)")->capture_default_str();
  app.add_option("--directory", directory,
                 "call center directory TOML (default: deploy/demo-callcenter.toml if present)");
  app.add_option("--durability", durability,
                 "fsync: fsync every group commit; wal: write the WAL without sync")
      ->check(CLI::IsMember({"fsync", "wal"}))
      ->capture_default_str();
  app.add_flag("--fsync", [&](std::int64_t) { durability = "fsync"; }, "same as --durability fsync");
  app.add_option("--threads", threads, "actor scheduler threads (0: one per core)");
  app.add_flag("--demo", demo, "run the demo scenario through the actors");
  app.add_flag("--once", once, "with --demo: exit after the scenario");
  CLI11_PARSE(app, argc, argv);

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

  std::unique_ptr<backline::eventlog::subscription> printer;
  std::atomic<std::uint64_t> printed{log.committed_position()};
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
      return 0;
    }
  }
  say("running; stop with Ctrl-C (SIGINT) or SIGTERM");
  const int sig = wait_for_signal();
  say(fmt::format("received {}, stopping", sig == SIGINT ? "SIGINT" : "SIGTERM"));
  printer.reset();
  engine->reset();
  say("stopped cleanly");
  return 0;
}
