// `enigma` command line. Exit codes (documented in --help and the README):
//   0 success; 1 the command ran but its check failed (book-check mismatches, failed tests of a run);
//   2 usage error (bad flags); 3 runtime error (missing file, bad config, connection failure);
//   130 / 143 a run (replay, paper, live) stopped by SIGINT / SIGTERM: summary written, marked interrupted.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>

#include "core/error.hpp"
#include "engine/commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{
      "enigma - low-latency crypto trading engine\n"
      "Exit codes: 0 ok, 1 check failed, 2 usage error, 3 runtime error (missing file, bad config, I/O),\n"
      "130/143 run stopped by SIGINT/SIGTERM (summary written, marked interrupted)."};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every command");
  enigma::engine::register_commands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  try {
    return enigma::engine::run_selected_command(app);
  } catch (const enigma::Error& e) {
    std::fprintf(stderr, "enigma: error: %s\n", e.what());
    return 3;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "enigma: error: %s\n", e.what());
    return 3;
  }
}
