// The research commands of the `enigma` binary: `optimize`, `walkforward`, `runs` and `download` (cold path).
#pragma once

#include <optional>

namespace CLI {
class App;
}

namespace enigma::research {

void register_commands(CLI::App& app);
// Runs the research command the user chose and returns its exit status; nullopt when none was chosen.
// Throws enigma::Error on a runtime error (main prints it and exits 3).
[[nodiscard]] std::optional<int> run_selected_command(CLI::App& app);

}  // namespace enigma::research
