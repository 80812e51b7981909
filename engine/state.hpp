// The stable state of a paper or live account between runs (README "State directory"): the order journal
// lives in one directory per account and venue (default `state/<mode>-<venue>`), not in the run directory,
// so a restart resumes the orders, positions and client-id counter of the run before it. One engine at a
// time: the directory is locked for the process lifetime.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/instrument.hpp"

namespace enigma::engine {

class TradingCore;

// `state/<mode>-<venue>`, e.g. `state/paper-binance-usdm` (relative to the working directory, as `runs`).
[[nodiscard]] std::string default_state_dir(std::string_view mode, Venue venue);

// Creates the directory (and its parents) and holds an exclusive flock on `<dir>/lock` until destroyed;
// the lock file holds our pid. The kernel drops the lock when the process dies, even by SIGKILL, so a
// stale lock file never blocks a restart.
class StateDirLock {
 public:
  // Throws enigma::Error naming the directory (and the pid in the lock file) when another process holds
  // it, or naming the path and errno when it cannot be created or locked.
  explicit StateDirLock(std::string dir);
  ~StateDirLock();
  StateDirLock(const StateDirLock&) = delete;
  StateDirLock& operator=(const StateDirLock&) = delete;

  [[nodiscard]] const std::string& dir() const noexcept { return dir_; }
  [[nodiscard]] std::string journal_path() const { return dir_ + "/journal.bin"; }

 private:
  std::string dir_;
  int fd_{-1};
};

// Start-up resume report (cold path): logs what the journal rebuilt, line by line (orders still working
// with client id, side, qty, filled and status; open positions; the next client id) and writes it to
// `<run_dir>/reconciliation.json`. With `simulated_exchange` (paper) the working orders are then resolved
// canceled at `now_ns` (journaled): the simulated exchange starts empty, so none of them rests there.
// Returns the JSON text; throws enigma::Error when the file cannot be written.
std::string write_resume_report(TradingCore& core, const InstrumentRegistry& registry, const std::string& run_dir, const std::string& state_dir,
                                std::string_view mode, bool simulated_exchange, std::int64_t now_ns);

}  // namespace enigma::engine
