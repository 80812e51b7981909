// The stable state of a paper or live account between runs (README "State directory"): the order journal
// lives in one directory per account and venue (default `state/<mode>-<venue>`), not in the run directory,
// so a restart resumes the orders, positions and client-id counter of the run before it. One engine at a
// time: the directory is locked for the process lifetime.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/fixed_point.hpp"
#include "core/instrument.hpp"
#include "oms/order_state.hpp"
#include "oms/venue_answer.hpp"
#include "oms/venue_queries.hpp"

namespace enigma::engine {

class TradingCore;

// [live] unknown_orders: what start-up does with an open order at the venue that our journal does not
// hold (placed by hand, by another program, or lost with a journal): report it, report and cancel it, or
// adopt it (journaled under its own client id and managed as ours from then on: the risk gate counts it,
// the kill switch and the stop policy cancel it). Orders that cannot be adopted (an instrument we do not
// trade, a client id we cannot hold, an order type we do not manage) are reported and left working.
enum class UnknownOrderPolicy : std::uint8_t { report, cancel, adopt };

// What live start-up reconciliation found (also in reconciliation.json under "venue").
struct LiveReconciliation {
  std::size_t venue_open_orders{0};   // open at the venue (every symbol)
  std::size_t matched{0};             // our journal's working orders the venue still has open
  std::size_t resolved{0};            // our working orders the venue no longer has open: queried and applied
  std::size_t unknown_orders{0};      // open at the venue, not in our journal
  std::size_t unknown_canceled{0};    // of which cancelled (unknown_orders = "cancel")
  std::size_t unknown_adopted{0};     // of which adopted (unknown_orders = "adopt")
  std::size_t position_differences{0};  // traded instruments where the venue's position differed from ours
  Notional balance;                   // the venue's wallet balance (USDT), now the account's balance
};

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

// What start-up reconciliation asks the venue: oms/venue_queries.hpp, implemented by each venue
// (oms::<venue>::account_queries).
using VenueOrder = oms::VenueOrder;
using VenueQueries = oms::VenueQueries;

// Live start-up reconciliation (cold path, after TradingCore::go_live and before gateway.start()): the
// venue's open orders, positions and balance through `venue`. Our journal's working orders the venue no
// longer has open are queried by client id and the answer applied (filled, canceled, ...; journaled); open
// orders not in our journal are reported and, with UnknownOrderPolicy::cancel, cancelled by their venue order
// id (adopt: journaled and managed as ours); the venue's position of each traded instrument replaces ours
// (differences logged); the wallet balance replaces [sim] initial_balance. Every finding is logged; the
// summary is added to `<run_dir>/reconciliation.json`. Throws enigma::Error naming the endpoint and the
// venue's answer when one of the account queries fails: trading blind is not an option.
LiveReconciliation reconcile_live(TradingCore& core, const InstrumentRegistry& registry, VenueQueries& venue,
                                  UnknownOrderPolicy policy, const std::string& run_dir, std::int64_t now_ns);

}  // namespace enigma::engine
