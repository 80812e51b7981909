// Registration and dispatch of every `enigma` sub-command (one place, so --help lists them all).
#pragma once

namespace CLI {
class App;
}

namespace enigma::engine {

void register_commands(CLI::App& app);
// Runs whichever sub-command was parsed; returns the process exit code.
int run_selected_command(CLI::App& app);

}  // namespace enigma::engine
