#include "engine/commands.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "engine/report.hpp"
#include "tuning/host_check.hpp"

namespace enigma::engine {

namespace {

struct CheckHostArgs {
  std::string cores;
} g_check_host;

struct ReportArgs {
  std::string run_dir;
} g_report;

int cmd_check_host() {
  tuning::HostCheckOptions opt;
  if (!g_check_host.cores.empty()) opt.trading_cores = tuning::parse_cpu_list(g_check_host.cores);
  const auto checks = tuning::check_host(opt);
  std::fputs(tuning::format_checks(checks).c_str(), stdout);
  int warns = 0;
  for (const auto& c : checks) warns += c.status == tuning::CheckStatus::warn;
  std::printf("check-host: %zu checks, %d warnings%s\n", checks.size(), warns,
              warns ? " (apply fixes with tuning/apply.sh; dry-run by default)" : "");
  return 0;
}

int cmd_report() {
  const std::string html = write_report(g_report.run_dir);
  std::printf("report: wrote %s/report.md and %s\n", g_report.run_dir.c_str(), html.c_str());
  return 0;
}

std::vector<std::pair<CLI::App*, std::function<int()>>> g_commands;

}  // namespace

void register_commands(CLI::App& app) {
  {
    auto* c = app.add_subcommand("check-host", "Check host tuning for low latency (isolcpus, governor, C-states, THP, IRQs, ...)");
    c->add_option("--cores", g_check_host.cores, "Trading cores to check, e.g. 2-3 (default: all but cpu0)");
    g_commands.emplace_back(c, cmd_check_host);
  }
  {
    auto* c = app.add_subcommand("report", "Regenerate report.md and report.html for a run directory");
    c->add_option("run_dir", g_report.run_dir, "Run directory (runs/<timestamp>)")->required()->check(CLI::ExistingDirectory);
    g_commands.emplace_back(c, cmd_report);
  }
}

int run_selected_command(CLI::App& app) {
  for (auto& [sub, fn] : g_commands)
    if (sub->parsed()) return fn();
  throw Error("no command given (see --help)");
}

}  // namespace enigma::engine
