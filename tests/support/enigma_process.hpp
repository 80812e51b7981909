// The `enigma` binary as a child process, for tests that drive the engine as a user does (signals, exit
// codes, files). The including test target defines ENIGMA_BINARY (tests/engine/*.cmake).
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#ifndef ENIGMA_BINARY
#error "ENIGMA_BINARY must name the enigma binary (target_compile_definitions in the test's .cmake)"
#endif

namespace enigma::testing {

// A whole file as text ("" when it cannot be read).
inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

// What a command printed and how it ended.
struct Out {
  int code;          // exit status, or 128 + signal when a signal ended it (as a shell reports it)
  std::string text;  // what it printed on the captured streams
};

// `cmd` run by /bin/sh; `streams` picks what is captured ("2>&1": stdout and stderr, "2>&1 >/dev/null":
// stderr only).
inline Out shell(const std::string& cmd, const std::string& streams = "2>&1") {
  FILE* p = ::popen((cmd + " " + streams).c_str(), "r");
  if (p == nullptr) return {-1, "popen failed: " + cmd};
  std::string text;
  std::array<char, 4096> buf;
  while (std::size_t n = std::fread(buf.data(), 1, buf.size(), p)) text.append(buf.data(), n);
  const int st = ::pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : (WIFSIGNALED(st) ? 128 + WTERMSIG(st) : -1), text};
}

// `enigma args` to completion (args are shell words: quote what needs it).
inline Out run_enigma(const std::string& args, const std::string& streams = "2>&1") {
  return shell(std::string(ENIGMA_BINARY) + " " + args, streams);
}

// `enigma args...` with stdout and stderr in the file `out`, so a test can signal it and read what it said.
// Killed (SIGKILL) if still running when destroyed, so an early ASSERT return leaves no process behind.
struct Child {
  pid_t pid{-1};
  std::string out_path;

  Child(const std::vector<std::string>& args, const std::string& out) : out_path(out) {
    std::vector<std::string> argv_s{ENIGMA_BINARY};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    pid = ::fork();
    if (pid == 0) {
      const int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      std::vector<char*> argv;
      for (auto& a : argv_s) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  // Exit status (128 + signal when a signal ended it, as a shell reports it).
  int wait() {
    int st = 0;
    ::waitpid(pid, &st, 0);
    pid = -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  }
  [[nodiscard]] std::string output() const { return slurp(out_path); }
  ~Child() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
};

// The first run directory under `runs` (not the `latest` link); empty while there is none.
inline std::filesystem::path first_run_dir(const std::string& runs) {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(runs, ec))
    if (e.is_directory() && !e.is_symlink()) return e.path();
  return {};
}

// `config` (a replay config's text, e.g. config/replay.toml) with everything from `[strategy]` up to `[risk]`
// replaced by `strategy`; empty when either table is missing.
inline std::string with_strategy_tables(const std::string& config, const std::string& strategy) {
  const auto a = config.find("[strategy]");
  const auto b = config.find("[risk]");
  if (a == std::string::npos || b == std::string::npos || b < a) return {};
  return config.substr(0, a) + strategy + "\n" + config.substr(b);
}

// The key=value words of a log line ("... alignment_change strategy=0 from=none ..." -> {strategy: 0, from: none}).
inline std::map<std::string, std::string> log_fields(const std::string& line) {
  std::map<std::string, std::string> out;
  std::istringstream in(line);
  for (std::string w; in >> w;)
    if (const auto eq = w.find('='); eq != std::string::npos) out[w.substr(0, eq)] = w.substr(eq + 1);
  return out;
}

// One row of a run directory's trades.csv (time_ns,symbol,side,price,qty,fee,liquidity,client_order_id,reason,
// expected_price), as text: tests compare it with expectations derived from the raw data themselves.
struct TradeRow {
  std::string time_ns, symbol, side, price, qty, fee, liquidity, client_order_id, reason, expected_price;
  std::size_t cells{0};  // cells on the line (10 in a well-formed row)
};

// Every row of `run_dir`/trades.csv after its header.
inline std::vector<TradeRow> read_trades_csv(const std::filesystem::path& run_dir) {
  std::istringstream csv(slurp(run_dir / "trades.csv"));
  std::vector<TradeRow> rows;
  std::string line;
  std::getline(csv, line);
  while (std::getline(csv, line)) {
    TradeRow r;
    std::string* const cols[] = {&r.time_ns, &r.symbol, &r.side, &r.price, &r.qty, &r.fee, &r.liquidity,
                                 &r.client_order_id, &r.reason, &r.expected_price};
    std::stringstream ss(line);
    for (std::string cell; std::getline(ss, cell, ',');) {
      if (r.cells < std::size(cols)) *cols[r.cells] = cell;
      ++r.cells;
    }
    rows.push_back(std::move(r));
  }
  return rows;
}

}  // namespace enigma::testing
