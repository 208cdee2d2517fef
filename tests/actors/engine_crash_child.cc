// Helper process for the kill -9 test: starts the engine on the data directory given as its
// argument and issues commands forever on a few calls, printing "ack <call> <version>" for each
// acknowledged command. The parent kills it with SIGKILL at a moment of its choosing.
#include <cstdio>

#include "actors/engine.h"

int main(int argc, char** argv) {
  using namespace backline;
  if (argc < 3) {
    std::fprintf(stderr, "usage: engine_crash_child DATA_DIR fsync|wal\n");
    return 2;
  }
  actors::engine_options o;
  o.data_dir = argv[1];
  o.fsync_per_batch = std::string(argv[2]) == "fsync";
  auto e = actors::engine::start(o);
  if (!e) return 1;
  auto& engine = **e;
  for (std::uint64_t n = 0;; ++n) {
    const std::string call = "crash-" + std::to_string(n / 20);
    domain::command_body body;
    if (n % 20 == 0) {
      body = domain::cmd::create_call{call, domain::call_type::inbound,
                                      domain::initiation_method::inbound, {}, "+15550001"};
    } else {
      const std::string id = "m" + std::to_string(n);
      body = domain::cmd::add_transcript{call, id, "+15550001", "EndUser", 0, 1, "hello"};
    }
    auto r = engine.execute({"cmd-" + std::to_string(n), 0, {}, "crash", std::move(body)});
    if (r.status == actors::outcome::accepted) {
      std::printf("ack %s %llu\n", call.c_str(),
                  static_cast<unsigned long long>(r.stream_version));
      std::fflush(stdout);
    }
  }
}
