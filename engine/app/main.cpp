// `enigma` command line. Exit codes (documented in --help and the README):
//   0 success; 1 the command ran but its check failed (book-check mismatches, failed tests of a run);
//   2 usage error (unknown command, bad flags or flag values); 3 runtime error (missing file, bad config,
//   bad input rows, bad credentials, connection failure);
//   130 / 143 a run (replay, paper, live) stopped by SIGINT / SIGTERM: summary written, marked interrupted.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>
#include <string>

#include "core/error.hpp"
#include "engine/commands.hpp"
#include "research/commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{
      "enigma - low-latency crypto trading engine\n"
      "Exit codes: 0 ok, 1 check failed, 2 usage error, 3 runtime error (missing file, bad config, bad input\n"
      "rows, bad credentials, I/O),\n"
      "130/143 run stopped by SIGINT/SIGTERM (summary written, marked interrupted)."};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every command");
  enigma::engine::register_commands(app);
  enigma::research::register_commands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // A first word that is not an option and matched no command: say so and name the commands, rather
    // than CLI11's "arguments were not expected".
    if (argc > 1 && argv[1][0] != '-' && app.get_subcommands().empty()) {
      std::string names;
      for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
        names += (names.empty() ? "" : ", ") + sub->get_name();
      std::fprintf(stderr, "enigma: unknown command '%s'; commands: %s (enigma --help)\n", argv[1], names.c_str());
      return 2;
    }
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  try {
    if (const auto rc = enigma::research::run_selected_command(app)) return *rc;
    return enigma::engine::run_selected_command(app);
  } catch (const enigma::Error& e) {
    std::fprintf(stderr, "enigma: error: %s\n", e.what());
    return 3;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "enigma: error: %s\n", e.what());
    return 3;
  }
}
