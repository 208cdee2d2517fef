#pragma once
// The demo scenario `backlined --demo` drives through the actors: an inbound call, a consult,
// a warm transfer, a supervisor who whispers then barges (and one who is refused), wrap-up.
// Needs the demo directory (deploy/demo-callcenter.toml).

#include <functional>
#include <string>

namespace backline::actors {
class engine;
}

namespace backline::tools {

// Runs the scenario; `say` receives one human line per step. Returns false (and says why) when
// a step that should succeed is refused.
bool run_demo(actors::engine& engine, const std::function<void(const std::string&)>& say);

}  // namespace backline::tools
