// Backtest metrics over a run's round-trip trades and equity curve (issue 14, DESIGN.md "research/").
// Plain functions over spans. The per-trade and per-point functions never allocate; the summaries
// (rolling_win_rate_summary, compute_metrics, evaluate_gates), the JSON text and the round-trip builder do, once.
//
// Conventions (also in README "Backtest metrics"):
// - A round trip's gross P&L is side * qty * (exit - entry) in quote; its net P&L subtracts fees and the funding
//   charged while it was open. A trade wins when its net P&L is > 0 (a zero-P&L trade is not a win).
// - Sharpe and Sortino: per-period simple returns of the equity curve sampled at a fixed period P (the equity
//   at t0 + k*P is the last curve point at or before it), annualised by sqrt(periods per year) with 365-day
//   years (crypto trades every day), risk-free rate 0, sample standard deviation (n - 1). Sortino's downside
//   deviation is sqrt(mean over ALL periods of min(r, 0)^2). Fewer than 2 returns, or zero deviation: NaN.
// - Annual return = mean period return * periods per year (arithmetic, consistent with Sharpe); Calmar =
//   annual return / max drawdown (fraction), NaN when there is no drawdown.
// - Max drawdown: largest fall from a running peak of the equity curve, as a fraction of that peak and in quote;
//   its duration: the longest time the curve spent below a previous peak (peak to recovery, or to the end).
// - NaN means "undefined for this input" and is written as null in JSON.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace enigma::strategy {

// A closed position: entry to exit (a partial close is its own round trip for the closed quantity).
struct RoundTrip {
  std::int64_t entry_ns = 0;
  std::int64_t exit_ns = 0;
  int side = 1;                     // +1 long, -1 short
  double qty = 0;                   // base units, > 0
  double entry_price = 0;           // average fill price of the entry
  double exit_price = 0;            // average fill price of the exit
  double fees = 0;                  // quote paid on entry and exit fills (negative: rebate)
  double funding = 0;               // quote paid in funding while open (negative: received)
  double expected_entry_price = 0;  // price the strategy expected when it decided; 0 = unknown
  double expected_exit_price = 0;   // likewise for the exit; 0 = unknown
};

[[nodiscard]] double gross_pnl(const RoundTrip& t) noexcept;  // side * qty * (exit - entry)
[[nodiscard]] double net_pnl(const RoundTrip& t) noexcept;    // gross - fees - funding

struct EquityPoint {
  std::int64_t time_ns = 0;
  double equity = 0;  // quote: balance + unrealised
};

// A price observation (mid, last trade or candle close) for the buy-and-hold baseline.
struct PricePoint {
  std::int64_t time_ns = 0;
  double price = 0;
};

constexpr std::int64_t kNsPerSecond = 1'000'000'000;
constexpr std::int64_t kNsPerDay = 86'400 * kNsPerSecond;
constexpr std::int64_t kNsPerYear = 365 * kNsPerDay;

struct TradeStats {
  std::size_t trades = 0, wins = 0, losses = 0;  // losses: net P&L < 0
  double win_rate = 0;                           // wins / trades (NaN with no trades)
  double gross_profit = 0;                       // sum of positive net P&L
  double gross_loss = 0;                         // -(sum of negative net P&L), >= 0
  double profit_factor = 0;          // gross_profit / gross_loss; +inf with profit and no loss; NaN with neither
  double expectancy = 0;             // mean net P&L per trade (quote)
  double avg_win = 0, avg_loss = 0;  // mean net P&L of wins / of losses (avg_loss <= 0); NaN when none
  double total_gross = 0;            // sum of gross P&L (before fees and funding)
  double total_fees = 0, total_funding = 0, total_net = 0;
  double fees_share_of_gross = 0;      // total_fees / total_gross; NaN when total_gross <= 0
  double funding_share_of_gross = 0;   // total_funding / total_gross; NaN when total_gross <= 0
  double avg_duration_s = 0;           // mean (exit - entry) in seconds
  std::int64_t time_in_market_ns = 0;  // union of [entry, exit) intervals (overlaps counted once)
};
[[nodiscard]] TradeStats trade_stats(std::span<const RoundTrip> trades) noexcept;

// TradeFill quality: slippage of each leg (entry or exit of a round trip, so a fill that closes two entries counts
// twice, for its share each) with a known expected price, positive = worse for us (buy: fill above expected;
// sell: fill below expected). Notional-weighted mean in basis points (weights qty * expected), and the total
// cost in quote (sum of qty * adverse price difference).
struct FillQuality {
  std::size_t legs = 0;         // legs with a known expected price
  double avg_slippage_bps = 0;  // NaN with no such fill
  double slippage_cost = 0;     // quote
};
[[nodiscard]] FillQuality fill_quality(std::span<const RoundTrip> trades) noexcept;

// Rolling win rate: for each trade (in exit order) the share of wins among trades that exited in
// (exit - window, exit]. `out` must have trades.size() entries. Trades must be sorted by exit_ns.
void rolling_win_rate(std::span<const RoundTrip> trades, std::int64_t window_ns, std::span<double> out) noexcept;
// Summary of a rolling win rate: its value at the last trade, and its minimum over the trades whose window
// lies wholly inside the data (exit - window >= span_start_ns); NaN when no trade qualifies.
struct RollingWinRate {
  double last = 0;
  double min_full_window = 0;
};
[[nodiscard]] RollingWinRate rolling_win_rate_summary(std::span<const RoundTrip> trades, std::int64_t window_ns,
                                                      std::int64_t span_start_ns);

struct DrawdownStats {
  double max_drawdown = 0;                  // fraction of the running peak, in [0, 1]
  double max_drawdown_abs = 0;              // quote
  std::int64_t peak_ns = 0, trough_ns = 0;  // where the max (fractional) drawdown began and bottomed
  std::int64_t max_duration_ns = 0;         // longest stretch below a previous peak
};
[[nodiscard]] DrawdownStats drawdown_stats(std::span<const EquityPoint> curve) noexcept;

struct ReturnStats {
  std::int64_t period_ns = 0;
  double periods_per_year = 0;
  std::size_t returns = 0;        // number of period returns
  double mean = 0, stdev = 0;     // per period
  double sharpe = 0;              // annualised
  double sortino = 0;             // annualised
  double annual_return = 0;       // mean * periods_per_year
  double skew = 0, kurtosis = 0;  // of the period returns (kurtosis not excess: normal = 3), for the DSR
};
// Samples `curve` (sorted by time) every `period_ns` from its first point to its last.
[[nodiscard]] ReturnStats return_stats(std::span<const EquityPoint> curve, std::int64_t period_ns) noexcept;
// The same statistics over already-sampled per-period returns.
[[nodiscard]] ReturnStats return_stats_of(std::span<const double> period_returns, std::int64_t period_ns) noexcept;
// The period the engine samples at: the largest of 1 day, 1 hour, 1 minute, 1 second that gives at least
// `min_periods` periods over the span (1 second when none does).
[[nodiscard]] std::int64_t choose_sampling_period(std::int64_t span_ns, std::size_t min_periods = 30) noexcept;

struct BuyAndHold {
  double first_price = 0, last_price = 0;
  double return_frac = 0;   // last / first - 1
  double pnl = 0;           // initial_equity * return_frac (the whole account in the asset, unlevered)
  double max_drawdown = 0;  // of the price path, fraction
};
[[nodiscard]] BuyAndHold buy_and_hold(std::span<const PricePoint> prices, double initial_equity) noexcept;

// Per-indicator accuracy: the share of non-zero votes whose sign equals the sign of the forward return
// (a zero forward return agrees with no vote). votes[i] and forward_returns[i] belong to the same event.
struct IndicatorAccuracy {
  std::size_t votes = 0;  // non-zero votes
  std::size_t agreed = 0;
  double accuracy = 0;  // agreed / votes; NaN with no vote
};
[[nodiscard]] IndicatorAccuracy indicator_accuracy(std::span<const int> votes,
                                                   std::span<const double> forward_returns) noexcept;
// Forward simple return over `horizon` observations: out[i] = prices[i + horizon] / prices[i] - 1, NaN where
// i + horizon is past the end. `out` must have prices.size() entries.
void forward_returns(std::span<const double> prices, std::size_t horizon, std::span<double> out) noexcept;

// The plan's gates: win rate > 65 %, profit factor > 2, Sharpe > 1.5, max drawdown < 8 %.
struct Gates {
  double min_win_rate = 0.65, min_profit_factor = 2.0, min_sharpe = 1.5, max_drawdown = 0.08;
};

struct BacktestMetrics {
  std::int64_t start_ns = 0, end_ns = 0;
  double initial_equity = 0, final_equity = 0;
  TradeStats trades;
  RollingWinRate win_rate_7d, win_rate_30d;
  FillQuality fills;
  DrawdownStats drawdown;
  ReturnStats returns;
  double calmar = 0;    // returns.annual_return / drawdown.max_drawdown; NaN with no drawdown
  double exposure = 0;  // trades.time_in_market_ns / (end - start); NaN for an empty span
  BuyAndHold buy_and_hold;
  bool has_buy_and_hold = false;
  // Per-indicator accuracy of the run's signal votes (filled by the caller; empty: not measured, null in JSON).
  struct NamedAccuracy {
    const char* name;
    IndicatorAccuracy accuracy;
  };
  std::vector<NamedAccuracy> indicator_accuracy;
  std::size_t indicator_horizon_bars = 0;
  // Where the run's funding went (filled by the caller; has_funding_split false: null in JSON): the account's
  // total = the round trips' funding (trades.total_funding) + funding on positions still open at the end +
  // funding not attributed to any round trip (charged with no trip open; 0 when attribution is complete).
  struct FundingSplit {
    double run_total = 0, round_trips = 0, open_at_end = 0, unattributed = 0;
  };
  FundingSplit funding_split;
  bool has_funding_split = false;
};
// Everything above. `curve` sorted by time; `trades` sorted by exit time; `prices` may be empty (no
// baseline). period_ns 0: choose_sampling_period over the curve's span.
[[nodiscard]] BacktestMetrics compute_metrics(std::span<const RoundTrip> trades, std::span<const EquityPoint> curve,
                                              std::span<const PricePoint> prices, std::int64_t period_ns = 0);

struct GateResult {
  std::string name;  // "win_rate", "profit_factor", "sharpe", "max_drawdown"
  std::string rule;  // "> 65 %" ...
  double value;
  bool pass;  // NaN never passes
};
[[nodiscard]] std::vector<GateResult> evaluate_gates(const BacktestMetrics& m, const Gates& g = {});

// metrics.json's text: the fields above (NaN and infinities as null), the conventions, and the gates.
[[nodiscard]] std::string metrics_json(const BacktestMetrics& m, const Gates& g = {});

// Round trips from fills in time order for one instrument (FIFO: an exit closes the oldest open entry first;
// a fill that crosses zero closes the position and opens the rest the other way). Fees are split across
// round trips by quantity. Each funding payment (quote, positive = paid) is charged to the entry lots open
// after the first `after_fills` fills, by quantity, and travels with them into their round trips (a partial
// close takes its share). Fills still open at the end produce no round trip; `left`, when given, receives the
// funding still on those open lots and the funding of payments that found no lot open.
struct TradeFill {
  std::int64_t time_ns = 0;
  int side = 1;    // +1 buy, -1 sell
  double qty = 0;  // > 0
  double price = 0;
  double fee = 0;             // quote
  double expected_price = 0;  // 0 = unknown
};
struct FundingPayment {
  std::size_t after_fills = 0;  // charged on the position after this many of the fills (non-decreasing)
  double amount = 0;            // quote paid by the position (negative: received)
};
struct FundingLeft {
  double open = 0;  // on lots still open after the last fill
  double flat = 0;  // payments made when no lot was open (the fills and the payments disagree)
};
[[nodiscard]] std::vector<RoundTrip> round_trips_from_fills(std::span<const TradeFill> fills,
                                                            std::span<const FundingPayment> funding = {},
                                                            FundingLeft* left = nullptr);

}  // namespace enigma::strategy
