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

namespace enigma::oms::binance_futures {
class Encoder;
}
namespace enigma::oms::kucoin_futures {
class Encoder;
}
namespace enigma::oms::okx_swap {
class Encoder;
}
namespace enigma::oms::bybit_linear {
class Encoder;
}

namespace enigma::engine {

class TradingCore;
class LiveGateway;

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

// One open order as the venue lists it, in the venue-neutral words reconciliation uses (side BUY / SELL, type
// LIMIT / STOP_MARKET / TAKE_PROFIT_MARKET / other, time in force GTC / IOC, decimal texts as sent).
struct VenueOrder {
  std::string client_id, symbol, side, qty, status, type, price, stop_price, executed, tif;
  bool reduce_only{false};
  std::string order_id;  // the venue's id (Binance: digits, KuCoin: 24 hex)
};

// What start-up reconciliation asks a venue (cold path; one signed request each on the gateway's control
// connection before it starts). Every method throws enigma::Error naming the endpoint and the venue's answer
// when the query fails, except query() and cancel(), whose failure is reported and logged.
class VenueQueries {
 public:
  virtual ~VenueQueries() = default;
  [[nodiscard]] virtual Venue venue() const noexcept = 0;
  // Every open order of the account (every symbol; untriggered stops included).
  virtual std::vector<VenueOrder> open_orders() = 0;
  // Our order's state by client id: true with `out` (ExecKind::status) when the venue answered it; else false
  // with the HTTP status and body in `why`.
  virtual bool query(const oms::OrderState& o, oms::RestAnswer& out, std::string& why) = 0;
  // Cancels an order we never sent, by the venue's id. False with the reason in `why`.
  virtual bool cancel(const VenueOrder& v, std::string& why) = 0;
  // The signed position (base units as our Qty) and entry price of `symbol`; zero when flat.
  virtual std::pair<Qty, Price> position(std::string_view symbol) = 0;
  // The wallet balance of the settlement asset (USDT).
  virtual Notional balance() = 0;
  // The account's fee rates on `instrument` where the venue's fills or order answers carry no fee (KuCoin
  // Futures: GET /api/v1/trade-fees; Binance's order answers: GET /fapi/v1/commissionRate), handed to the
  // gateway's decoder and the queries' own (fills found by a query are priced at them); nullopt where every
  // fill and answer carries its own (Bybit, OKX).
  virtual std::optional<oms::FeeRates> fee_rates(InstrumentId instrument) = 0;
  // The endpoint names for the log and errors, e.g. "GET /fapi/v1/openOrders".
  [[nodiscard]] virtual std::string_view open_orders_endpoint() const noexcept = 0;
};

// The adapters: Binance USD-M (GET /fapi/v1/openOrders, /fapi/v1/order, /fapi/v2/positionRisk, /fapi/v2/balance)
// and KuCoin Futures (GET /api/v1/orders?status=active and /api/v1/stopOrders, /api/v1/orders/byClientOid,
// /api/v1/positions, /api/v1/account-overview?currency=USDT), signed with `encoder`, sent with gateway.call().
std::unique_ptr<VenueQueries> binance_usdm_queries(LiveGateway& gateway, oms::binance_futures::Encoder& encoder,
                                                   const InstrumentRegistry& registry);
std::unique_ptr<VenueQueries> kucoin_futures_queries(LiveGateway& gateway, oms::kucoin_futures::Encoder& encoder,
                                                     const InstrumentRegistry& registry);
// Bybit V5 linear: GET /v5/order/realtime (settleCoin=USDT pages; by orderLinkId, open then openOnly=1),
// POST /v5/order/cancel by orderId, GET /v5/position/list, GET /v5/account/wallet-balance (USDT walletBalance).
std::unique_ptr<VenueQueries> bybit_linear_queries(LiveGateway& gateway, oms::bybit_linear::Encoder& encoder,
                                                   const InstrumentRegistry& registry);
// OKX V5 swaps: GET /api/v5/trade/orders-pending and orders-algo-pending (after= pages), GET /api/v5/trade/order
// (order-algo for a stop) by client id, POST cancel-order / cancel-algos by the venue's id,
// GET /api/v5/account/positions?instType=SWAP, GET /api/v5/account/balance?ccy=USDT (eq).
std::unique_ptr<VenueQueries> okx_swap_queries(LiveGateway& gateway, oms::okx_swap::Encoder& encoder,
                                               const InstrumentRegistry& registry);

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
