#include "strategy/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>
#include <sstream>

namespace enigma::strategy {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

double ratio_or_nan(double num, double den) noexcept { return den > 0 ? num / den : kNaN; }

}  // namespace

double gross_pnl(const RoundTrip& t) noexcept { return t.side * t.qty * (t.exit_price - t.entry_price); }
double net_pnl(const RoundTrip& t) noexcept { return gross_pnl(t) - t.fees - t.funding; }

TradeStats trade_stats(std::span<const RoundTrip> trades) noexcept {
  TradeStats s;
  s.trades = trades.size();
  double win_sum = 0, loss_sum = 0, duration_ns = 0;
  for (const RoundTrip& t : trades) {
    const double net = net_pnl(t);
    s.total_gross += gross_pnl(t);
    s.total_fees += t.fees;
    s.total_funding += t.funding;
    s.total_net += net;
    duration_ns += static_cast<double>(t.exit_ns - t.entry_ns);
    if (net > 0) {
      ++s.wins;
      win_sum += net;
    } else if (net < 0) {
      ++s.losses;
      loss_sum += net;
    }
  }
  s.gross_profit = win_sum;
  s.gross_loss = -loss_sum;
  if (s.trades == 0) {
    s.win_rate = s.profit_factor = s.expectancy = s.avg_win = s.avg_loss = s.avg_duration_s = kNaN;
  } else {
    const auto n = static_cast<double>(s.trades);
    s.win_rate = static_cast<double>(s.wins) / n;
    s.expectancy = s.total_net / n;
    s.avg_duration_s = duration_ns / n / static_cast<double>(kNsPerSecond);
    s.profit_factor = s.gross_loss > 0 ? s.gross_profit / s.gross_loss : (s.gross_profit > 0 ? kInf : kNaN);
    s.avg_win = s.wins ? win_sum / static_cast<double>(s.wins) : kNaN;
    s.avg_loss = s.losses ? loss_sum / static_cast<double>(s.losses) : kNaN;
  }
  s.fees_share_of_gross = ratio_or_nan(s.total_fees, s.total_gross);
  s.funding_share_of_gross = ratio_or_nan(s.total_funding, s.total_gross);

  // Sweep the intervals in entry order; `cursor` is the end of the union so far. Round trips of one
  // instrument built FIFO are already in entry order (linear); otherwise the next interval by (entry, index)
  // is found by a scan, quadratic but allocation-free.
  const bool by_entry = std::is_sorted(trades.begin(), trades.end(),
                                       [](const RoundTrip& a, const RoundTrip& b) { return a.entry_ns < b.entry_ns; });
  std::int64_t cursor = std::numeric_limits<std::int64_t>::min();
  std::size_t prev = trades.size();  // index of the interval taken last
  for (std::size_t done = 0; done < trades.size(); ++done) {
    std::size_t next = done;
    if (!by_entry) {
      next = trades.size();
      for (std::size_t i = 0; i < trades.size(); ++i) {
        const bool after_prev = prev == trades.size() || trades[i].entry_ns > trades[prev].entry_ns ||
                                (trades[i].entry_ns == trades[prev].entry_ns && i > prev);
        if (after_prev && (next == trades.size() || trades[i].entry_ns < trades[next].entry_ns)) next = i;
      }
    }
    prev = next;
    const RoundTrip& t = trades[next];
    const std::int64_t start = std::max(t.entry_ns, cursor);
    if (t.exit_ns > start) s.time_in_market_ns += t.exit_ns - start;
    cursor = std::max(cursor, t.exit_ns);
  }
  return s;
}

FillQuality fill_quality(std::span<const RoundTrip> trades) noexcept {
  FillQuality q;
  double weighted_bps = 0, notional = 0;
  auto add = [&](int side, double qty, double fill, double expected) {
    if (expected <= 0 || qty <= 0) return;
    // side: +1 we bought, -1 we sold; paying more than expected on a buy (or getting less on a sell) is adverse.
    const double adverse = side * (fill - expected);
    ++q.legs;
    q.slippage_cost += qty * adverse;
    weighted_bps += qty * expected * (adverse / expected * 1e4);
    notional += qty * expected;
  };
  for (const RoundTrip& t : trades) {
    add(t.side, t.qty, t.entry_price, t.expected_entry_price);
    add(-t.side, t.qty, t.exit_price, t.expected_exit_price);
  }
  q.avg_slippage_bps = notional > 0 ? weighted_bps / notional : kNaN;
  return q;
}

void rolling_win_rate(std::span<const RoundTrip> trades, std::int64_t window_ns, std::span<double> out) noexcept {
  // Two pointers over exit times: [lo, i] are the trades that exited in (exit_i - window, exit_i].
  std::size_t lo = 0, wins = 0;
  for (std::size_t i = 0; i < trades.size() && i < out.size(); ++i) {
    if (net_pnl(trades[i]) > 0) ++wins;
    while (trades[lo].exit_ns <= trades[i].exit_ns - window_ns) {
      if (net_pnl(trades[lo]) > 0) --wins;
      ++lo;
    }
    out[i] = static_cast<double>(wins) / static_cast<double>(i - lo + 1);
  }
}

RollingWinRate rolling_win_rate_summary(std::span<const RoundTrip> trades, std::int64_t window_ns,
                                        std::int64_t span_start_ns) {
  RollingWinRate r{kNaN, kNaN};
  if (trades.empty()) return r;
  std::vector<double> series(trades.size());
  rolling_win_rate(trades, window_ns, series);
  r.last = series.back();
  for (std::size_t i = 0; i < trades.size(); ++i)
    if (trades[i].exit_ns - window_ns >= span_start_ns && !(series[i] >= r.min_full_window))
      r.min_full_window = series[i];
  return r;
}

DrawdownStats drawdown_stats(std::span<const EquityPoint> curve) noexcept {
  DrawdownStats d;
  if (curve.empty()) return d;
  double peak = curve[0].equity;
  std::int64_t peak_ns = curve[0].time_ns;
  bool below = false;
  for (const EquityPoint& p : curve) {
    if (p.equity >= peak) {
      // Recovered (or a new high): the stretch below the old peak ends here.
      if (below) d.max_duration_ns = std::max(d.max_duration_ns, p.time_ns - peak_ns);
      below = false;
      peak = p.equity;
      peak_ns = p.time_ns;
      continue;
    }
    below = true;
    const double dd_abs = peak - p.equity;
    const double dd = peak > 0 ? dd_abs / peak : 0;
    d.max_drawdown_abs = std::max(d.max_drawdown_abs, dd_abs);
    if (dd > d.max_drawdown) {
      d.max_drawdown = dd;
      d.peak_ns = peak_ns;
      d.trough_ns = p.time_ns;
    }
  }
  if (below) d.max_duration_ns = std::max(d.max_duration_ns, curve.back().time_ns - peak_ns);
  return d;
}

namespace {

// Moments of a return stream in one pass without a buffer, updated stably (Welford / Terriberry): raw power
// sums would cancel catastrophically for returns whose mean is large next to their spread.
struct Moments {
  std::size_t n = 0;
  double mean = 0, m2 = 0, m3 = 0, m4 = 0, down2 = 0;
  void add(double r) noexcept {
    const double n1 = static_cast<double>(n);
    ++n;
    const double nn = static_cast<double>(n);
    const double delta = r - mean, dn = delta / nn, dn2 = dn * dn, term = delta * dn * n1;
    mean += dn;
    m4 += term * dn2 * (nn * nn - 3 * nn + 3) + 6 * dn2 * m2 - 4 * dn * m3;
    m3 += term * dn * (nn - 2) - 3 * dn * m2;
    m2 += term;
    if (r < 0) down2 += r * r;
  }
};

ReturnStats finish(const Moments& m, std::int64_t period_ns) noexcept {
  ReturnStats r;
  r.period_ns = period_ns;
  r.periods_per_year = period_ns > 0 ? static_cast<double>(kNsPerYear) / static_cast<double>(period_ns) : kNaN;
  r.returns = m.n;
  if (m.n < 2) {
    r.mean = m.n ? m.mean : kNaN;
    r.stdev = r.sharpe = r.sortino = r.skew = r.kurtosis = kNaN;
    r.annual_return = m.n ? r.mean * r.periods_per_year : kNaN;
    return r;
  }
  const auto n = static_cast<double>(m.n);
  r.mean = m.mean;
  r.stdev = std::sqrt(m.m2 / (n - 1));
  const double annual = std::sqrt(r.periods_per_year);
  r.sharpe = r.stdev > 0 ? r.mean / r.stdev * annual : kNaN;
  const double downside = std::sqrt(m.down2 / n);
  r.sortino = downside > 0 ? r.mean / downside * annual : kNaN;
  r.annual_return = r.mean * r.periods_per_year;
  // Population skewness and (non-excess) kurtosis, as the PSR/DSR formulas use them.
  r.skew = m.m2 > 0 ? std::sqrt(n) * m.m3 / std::pow(m.m2, 1.5) : kNaN;
  r.kurtosis = m.m2 > 0 ? n * m.m4 / (m.m2 * m.m2) : kNaN;
  return r;
}

}  // namespace

ReturnStats return_stats(std::span<const EquityPoint> curve, std::int64_t period_ns) noexcept {
  Moments m;
  if (curve.size() >= 2 && period_ns > 0) {
    const std::int64_t t0 = curve.front().time_ns;
    const std::int64_t periods = (curve.back().time_ns - t0) / period_ns;
    std::size_t at = 0;  // last curve point at or before the sample time
    double prev = curve[0].equity;
    for (std::int64_t k = 1; k <= periods; ++k) {
      const std::int64_t t = t0 + k * period_ns;
      while (at + 1 < curve.size() && curve[at + 1].time_ns <= t) ++at;
      const double e = curve[at].equity;
      if (prev != 0) m.add(e / prev - 1);
      prev = e;
    }
  }
  return finish(m, period_ns);
}

ReturnStats return_stats_of(std::span<const double> period_returns, std::int64_t period_ns) noexcept {
  Moments m;
  for (double r : period_returns) m.add(r);
  return finish(m, period_ns);
}

std::int64_t choose_sampling_period(std::int64_t span_ns, std::size_t min_periods) noexcept {
  for (std::int64_t p : {kNsPerDay, 3600 * kNsPerSecond, 60 * kNsPerSecond})
    if (span_ns / p >= static_cast<std::int64_t>(min_periods)) return p;
  return kNsPerSecond;
}

BuyAndHold buy_and_hold(std::span<const PricePoint> prices, double initial_equity) noexcept {
  BuyAndHold b;
  if (prices.empty()) return b;
  b.first_price = prices.front().price;
  b.last_price = prices.back().price;
  b.return_frac = b.first_price > 0 ? b.last_price / b.first_price - 1 : kNaN;
  b.pnl = initial_equity * b.return_frac;
  double peak = prices.front().price;
  for (const PricePoint& p : prices) {
    peak = std::max(peak, p.price);
    if (peak > 0) b.max_drawdown = std::max(b.max_drawdown, (peak - p.price) / peak);
  }
  return b;
}

IndicatorAccuracy indicator_accuracy(std::span<const int> votes, std::span<const double> forward_returns) noexcept {
  IndicatorAccuracy a;
  const std::size_t n = std::min(votes.size(), forward_returns.size());
  for (std::size_t i = 0; i < n; ++i) {
    const double f = forward_returns[i];
    if (votes[i] == 0 || std::isnan(f)) continue;  // no vote, or no forward price to judge it by
    ++a.votes;
    if ((votes[i] > 0 && f > 0) || (votes[i] < 0 && f < 0)) ++a.agreed;
  }
  a.accuracy = a.votes ? static_cast<double>(a.agreed) / static_cast<double>(a.votes) : kNaN;
  return a;
}

void forward_returns(std::span<const double> prices, std::size_t horizon, std::span<double> out) noexcept {
  for (std::size_t i = 0; i < prices.size() && i < out.size(); ++i)
    out[i] = (i + horizon < prices.size() && prices[i] > 0) ? prices[i + horizon] / prices[i] - 1 : kNaN;
}

BacktestMetrics compute_metrics(std::span<const RoundTrip> trades, std::span<const EquityPoint> curve,
                                std::span<const PricePoint> prices, std::int64_t period_ns) {
  BacktestMetrics m;
  if (!curve.empty()) {
    m.start_ns = curve.front().time_ns;
    m.end_ns = curve.back().time_ns;
    m.initial_equity = curve.front().equity;
    m.final_equity = curve.back().equity;
  }
  if (!prices.empty()) {
    // The span is whatever the data covered: the earliest and latest of the curve and the prices.
    if (curve.empty()) m.start_ns = prices.front().time_ns, m.end_ns = prices.back().time_ns;
    m.start_ns = std::min(m.start_ns, prices.front().time_ns);
    m.end_ns = std::max(m.end_ns, prices.back().time_ns);
  }
  m.trades = trade_stats(trades);
  m.win_rate_7d = rolling_win_rate_summary(trades, 7 * kNsPerDay, m.start_ns);
  m.win_rate_30d = rolling_win_rate_summary(trades, 30 * kNsPerDay, m.start_ns);
  m.fills = fill_quality(trades);
  m.drawdown = drawdown_stats(curve);
  const std::int64_t span = m.end_ns - m.start_ns;
  m.returns = return_stats(curve, period_ns > 0 ? period_ns : choose_sampling_period(span));
  m.calmar = m.drawdown.max_drawdown > 0 ? m.returns.annual_return / m.drawdown.max_drawdown : kNaN;
  m.exposure = span > 0 ? static_cast<double>(m.trades.time_in_market_ns) / static_cast<double>(span) : kNaN;
  if (!prices.empty()) {
    m.buy_and_hold = buy_and_hold(prices, m.initial_equity);
    m.has_buy_and_hold = true;
  }
  return m;
}

std::vector<GateResult> evaluate_gates(const BacktestMetrics& m, const Gates& g) {
  // Comparisons with NaN are false, so an undefined metric (no trades, too short for a Sharpe) fails its gate.
  auto pct = [](double v) {
    std::ostringstream o;
    o << v * 100;
    return o.str();
  };
  auto plain = [](double v) {
    std::ostringstream o;
    o << v;
    return o.str();
  };
  return {
      {"win_rate", "> " + pct(g.min_win_rate) + " %", m.trades.win_rate, m.trades.win_rate > g.min_win_rate},
      {"profit_factor", "> " + plain(g.min_profit_factor), m.trades.profit_factor,
       m.trades.profit_factor > g.min_profit_factor},
      {"sharpe", "> " + plain(g.min_sharpe), m.returns.sharpe, m.returns.sharpe > g.min_sharpe},
      {"max_drawdown", "< " + pct(g.max_drawdown) + " %", m.drawdown.max_drawdown,
       m.drawdown.max_drawdown < g.max_drawdown},
  };
}

namespace {

// Shortest text that reads back as the same double; null for NaN and infinities (JSON has neither).
std::string num(double v) {
  if (!std::isfinite(v)) return "null";
  std::ostringstream o;
  o.precision(17);
  o << v;
  return o.str();
}

}  // namespace

std::string metrics_json(const BacktestMetrics& m, const Gates& g) {
  const TradeStats& t = m.trades;
  std::ostringstream j;
  j << "{\n";
  j << "  \"conventions\": {\"sharpe\": \"per-period simple returns of the equity curve sampled every period_s, "
       "annualised by sqrt(periods_per_year), 365-day year, risk-free 0, sample stdev\", \"sortino\": \"downside "
       "deviation sqrt(mean(min(r,0)^2)) over all periods\", \"calmar\": \"annual_return (mean period return * "
       "periods_per_year) / max_drawdown\", \"trip_net\": \"gross_pnl - fees - funding charged while the trip "
       "was open; wins, losses, win_rate, profit_factor, expectancy, avg_win, avg_loss, net_pnl and by_instrument "
       "use it\", \"win\": \"trip_net > 0\", \"null\": \"undefined for this run\"},\n";
  j << "  \"start_ns\": " << m.start_ns << ",\n  \"end_ns\": " << m.end_ns << ",\n";
  j << "  \"initial_equity\": " << num(m.initial_equity) << ",\n  \"final_equity\": " << num(m.final_equity) << ",\n";
  j << "  \"trades\": " << t.trades << ",\n  \"wins\": " << t.wins << ",\n  \"losses\": " << t.losses << ",\n";
  j << "  \"win_rate\": " << num(t.win_rate) << ",\n";
  j << "  \"win_rate_7d\": {\"last\": " << num(m.win_rate_7d.last)
    << ", \"min_full_window\": " << num(m.win_rate_7d.min_full_window) << "},\n";
  j << "  \"win_rate_30d\": {\"last\": " << num(m.win_rate_30d.last)
    << ", \"min_full_window\": " << num(m.win_rate_30d.min_full_window) << "},\n";
  j << "  \"profit_factor\": " << num(t.profit_factor) << ",\n";
  j << "  \"expectancy\": " << num(t.expectancy) << ",\n";
  j << "  \"avg_win\": " << num(t.avg_win) << ",\n  \"avg_loss\": " << num(t.avg_loss) << ",\n";
  j << "  \"gross_profit\": " << num(t.gross_profit) << ",\n  \"gross_loss\": " << num(t.gross_loss) << ",\n";
  j << "  \"gross_pnl\": " << num(t.total_gross) << ",\n  \"fees\": " << num(t.total_fees)
    << ",\n  \"funding\": " << num(t.total_funding) << ",\n  \"net_pnl\": " << num(t.total_net) << ",\n";
  if (m.has_funding_split)
    j << "  \"funding_split\": {\"run_total\": " << num(m.funding_split.run_total)
      << ", \"round_trips\": " << num(m.funding_split.round_trips)
      << ", \"open_at_end\": " << num(m.funding_split.open_at_end)
      << ", \"unattributed\": " << num(m.funding_split.unattributed) << "},\n";
  else
    j << "  \"funding_split\": null,\n";
  j << "  \"fees_share_of_gross\": " << num(t.fees_share_of_gross)
    << ",\n  \"funding_share_of_gross\": " << num(t.funding_share_of_gross) << ",\n";
  j << "  \"avg_trade_duration_s\": " << num(t.avg_duration_s) << ",\n";
  j << "  \"exposure\": " << num(m.exposure) << ",\n";
  j << "  \"sharpe\": " << num(m.returns.sharpe) << ",\n  \"sortino\": " << num(m.returns.sortino)
    << ",\n  \"calmar\": " << num(m.calmar) << ",\n";
  j << "  \"returns\": {\"period_s\": " << num(static_cast<double>(m.returns.period_ns) / kNsPerSecond)
    << ", \"periods_per_year\": " << num(m.returns.periods_per_year) << ", \"count\": " << m.returns.returns
    << ", \"mean\": " << num(m.returns.mean) << ", \"stdev\": " << num(m.returns.stdev)
    << ", \"annual_return\": " << num(m.returns.annual_return) << ", \"skew\": " << num(m.returns.skew)
    << ", \"kurtosis\": " << num(m.returns.kurtosis) << "},\n";
  j << "  \"max_drawdown\": " << num(m.drawdown.max_drawdown)
    << ",\n  \"max_drawdown_abs\": " << num(m.drawdown.max_drawdown_abs)
    << ",\n  \"max_drawdown_duration_s\": " << num(static_cast<double>(m.drawdown.max_duration_ns) / kNsPerSecond)
    << ",\n";
  j << "  \"fill_quality\": {\"legs\": " << m.fills.legs << ", \"avg_slippage_bps\": " << num(m.fills.avg_slippage_bps)
    << ", \"slippage_cost\": " << num(m.fills.slippage_cost) << "},\n";
  if (m.has_buy_and_hold)
    j << "  \"buy_and_hold\": {\"first_price\": " << num(m.buy_and_hold.first_price)
      << ", \"last_price\": " << num(m.buy_and_hold.last_price) << ", \"return\": " << num(m.buy_and_hold.return_frac)
      << ", \"pnl\": " << num(m.buy_and_hold.pnl) << ", \"max_drawdown\": " << num(m.buy_and_hold.max_drawdown)
      << "},\n";
  else
    j << "  \"buy_and_hold\": null,\n";
  if (m.indicator_accuracy.empty()) {
    j << "  \"indicator_accuracy\": null,\n";
  } else {
    j << "  \"indicator_accuracy\": {\"horizon_bars\": " << m.indicator_horizon_bars << ", \"components\": {";
    for (std::size_t i = 0; i < m.indicator_accuracy.size(); ++i) {
      const IndicatorAccuracy& a = m.indicator_accuracy[i].accuracy;
      j << (i ? ", " : "") << "\"" << m.indicator_accuracy[i].name << "\": {\"votes\": " << a.votes
        << ", \"agreed\": " << a.agreed << ", \"accuracy\": " << num(a.accuracy) << "}";
    }
    j << "}},\n";
  }
  j << "  \"gates\": [";
  const auto gates = evaluate_gates(m, g);
  for (std::size_t i = 0; i < gates.size(); ++i)
    j << (i ? ", " : "") << "{\"name\": \"" << gates[i].name << "\", \"rule\": \"" << gates[i].rule
      << "\", \"value\": " << num(gates[i].value) << ", \"pass\": " << (gates[i].pass ? "true" : "false") << "}";
  j << "]\n}\n";
  return j.str();
}

std::vector<RoundTrip> round_trips_from_fills(std::span<const TradeFill> fills, std::span<const FundingPayment> funding,
                                              FundingLeft* left) {
  // Open entry lots, oldest first. Each lot remembers its share of the entry fee per unit of quantity.
  struct Lot {
    std::int64_t time_ns;
    int side;
    double qty, price, fee_per_qty, expected, funding;
  };
  std::deque<Lot> open;
  std::vector<RoundTrip> out;
  FundingLeft rest;
  std::size_t next_funding = 0;
  auto charge_funding_until = [&](std::size_t fills_done) {
    // Payments made after `fills_done` fills go to the lots open then, by quantity.
    for (; next_funding < funding.size() && funding[next_funding].after_fills <= fills_done; ++next_funding) {
      double total = 0;
      for (const Lot& l : open) total += l.qty;
      if (total <= 0) {
        rest.flat += funding[next_funding].amount;
        continue;
      }
      for (Lot& l : open) l.funding += funding[next_funding].amount * l.qty / total;
    }
  };
  constexpr double kEps = 1e-12;
  for (std::size_t i = 0; i < fills.size(); ++i) {
    const TradeFill& f = fills[i];
    charge_funding_until(i);
    double left_qty = f.qty;
    const double fee_per_qty = f.qty > 0 ? f.fee / f.qty : 0;
    while (left_qty > kEps && !open.empty() && open.front().side != f.side) {
      Lot& lot = open.front();
      const double q = std::min(left_qty, lot.qty);
      const double funding_part = lot.funding * q / lot.qty;
      out.push_back({lot.time_ns, f.time_ns, lot.side, q, lot.price, f.price, (lot.fee_per_qty + fee_per_qty) * q,
                     funding_part, lot.expected, f.expected_price});
      lot.funding -= funding_part;
      lot.qty -= q;
      left_qty -= q;
      if (lot.qty <= kEps) {
        // A residue below kEps closes with the lot: its funding goes to the trip just closed.
        out.back().funding += lot.funding;
        open.pop_front();
      }
    }
    if (left_qty > kEps) open.push_back({f.time_ns, f.side, left_qty, f.price, fee_per_qty, f.expected_price, 0});
  }
  charge_funding_until(std::numeric_limits<std::size_t>::max());  // payments after the last fill
  for (const Lot& l : open) rest.open += l.funding;
  if (left != nullptr) *left = rest;
  return out;
}

}  // namespace enigma::strategy
