// http_bench: the HTTP server core under `wrk` (Debian package) on loopback, keep-alive.
//
// Starts a backline::http::server in this process with a trivial ASYNC POST handler (the
// responder is handed to a worker thread that answers, like the engine's log writer does after
// durability) and the built-in GET /livez, then runs `wrk -t2 -c64 -d5s --latency` against
// /livez (the anchor) and against the POST, in the same run, and prints FIGURE lines:
//   FIGURE http_post_requests_per_s <rate> 1/s anchor=http_livez_requests_per_s:<rate> ...
//   FIGURE http_post_latency_p99 <us> us anchor=http_livez_latency_p99:<us> ...
// wrk and the server share the machine's cores, so absolute rates are a lower bound; the
// ratio to /livez is the figure that survives a noisy machine.

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <condition_variable>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "api/http/problem.h"
#include "api/http/server.h"
#include "bench/bench_util.h"

namespace http = backline::http;
namespace bench = backline::bench;

namespace {

// Answers responders on its own thread, in batches, like the log writer's done callbacks.
class answerer {
 public:
  answerer() : thread_([this] { run(); }) {}
  ~answerer() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  bool push(http::responder r) {
    std::lock_guard lock(mutex_);
    if (queue_.size() >= 65'536) return false;  // bounded like the log's queue
    queue_.push_back(std::move(r));
    if (queue_.size() == 1) cv_.notify_one();
    return true;
  }

 private:
  void run() {
    std::deque<http::responder> batch;
    while (true) {
      {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
        if (stop_ && queue_.empty()) return;
        batch.swap(queue_);
      }
      for (auto& r : batch) r(http::response::json(201, {{"voiceCallId", "0vc-bench"}}));
      batch.clear();
    }
  }
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<http::responder> queue_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"http_bench: the HTTP server core under wrk (async POST vs GET /livez)"};
  app.footer(R"(Examples:
  http_bench                                  # wrk -t2 -c64 -d5s --latency, 1 I/O thread
  http_bench --duration 10 --connections 128
  http_bench --io-threads 2 --inline          # answer in the handler, no worker thread
  http_bench --wrk /usr/local/bin/wrk

Needs wrk (Debian package `wrk`). Prints FIGURE lines; /livez in the same run is the anchor.)");
  int duration_s = 5, connections = 64, wrk_threads = 2;
  unsigned io_threads = 1;
  bool inline_answer = false;
  std::string wrk = "wrk";
  app.add_option("--duration", duration_s, "seconds per wrk run")->capture_default_str();
  app.add_option("--connections", connections, "wrk -c (keep-alive connections)")
      ->capture_default_str();
  app.add_option("--wrk-threads", wrk_threads, "wrk -t")->capture_default_str();
  app.add_option("--io-threads", io_threads, "server I/O threads")->capture_default_str();
  app.add_flag("--inline", inline_answer, "answer inside the handler instead of a worker thread");
  app.add_option("--wrk", wrk, "the wrk binary")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  http::options o;
  o.port = 0;
  o.io_threads = io_threads;
  http::server server(o);
  answerer worker;
  server.routes().add(http::method::post, "/telephony/v1/voiceCalls",
                      [&](http::request&, http::responder respond) {
                        if (inline_answer) {
                          respond(http::response::json(201, {{"voiceCallId", "0vc-bench"}}));
                        } else if (!worker.push(respond)) {
                          respond(http::overloaded(1, "bench worker queue full"));
                        }
                      });
  auto port = server.start();
  if (!port) {
    std::fprintf(stderr, "http_bench: cannot start the server: %s\n",
                 port.error().message().c_str());
    return 1;
  }
  auto dir = bench::scratch_dir("http-bench");
  auto script = dir + "/post.lua";
  std::ofstream(script) << R"(wrk.method = "POST"
wrk.body = '{"callCenterApiName":"acme_support","vendorCallKey":"vk-1","to":"+15550100","from":"+15550199","initiationMethod":"Inbound"}'
wrk.headers["Content-Type"] = "application/json"
)";
  auto args = fmt::format("-t{} -c{} -d{}s", wrk_threads, connections, duration_s);
  auto base = fmt::format("http://127.0.0.1:{}", *port);
  auto livez = bench::run_wrk(wrk, args, base + "/livez");
  auto post = bench::run_wrk(wrk, args + " -s " + script, base + "/telephony/v1/voiceCalls");
  std::filesystem::remove_all(dir);
  if (!livez || !post) {
    std::fprintf(
        stderr, "http_bench: wrk failed (is it installed? `apt-get install wrk`, or --wrk PATH)\n");
    return 1;
  }
  fmt::print(
      "GET /livez:  {:.0f} req/s, p50 {:.0f} us, p99 {:.0f} us, non-2xx {}, socket errors {}\n",
      livez->requests_per_s, livez->p50_us, livez->p99_us, livez->non_2xx, livez->socket_errors);
  fmt::print(
      "POST async:  {:.0f} req/s, p50 {:.0f} us, p99 {:.0f} us, non-2xx {}, socket errors {}\n",
      post->requests_per_s, post->p50_us, post->p99_us, post->non_2xx, post->socket_errors);
  bench::print_figure("http_livez_requests_per_s", livez->requests_per_s, "1/s",
                      "http_livez_requests_per_s", livez->requests_per_s);
  bench::print_figure("http_post_requests_per_s", post->requests_per_s, "1/s",
                      "http_livez_requests_per_s", livez->requests_per_s);
  bench::print_figure("http_post_latency_p99", post->p99_us, "us", "http_livez_latency_p99",
                      livez->p99_us);
  return post->non_2xx == 0 && livez->non_2xx == 0 ? 0 : 2;
}
