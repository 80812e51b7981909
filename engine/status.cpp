#include "engine/status.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <variant>

#include "core/clock.hpp"
#include "core/stage_runner.hpp"

namespace enigma::engine {

namespace {
template <std::size_t N>
void copy_text(char (&dst)[N], std::string_view src) noexcept {
  const std::size_t n = std::min(src.size(), N - 1);
  if (n != 0) std::memcpy(dst, src.data(), n);  // an empty view may carry a null pointer
  dst[n] = '\0';
}

// "60s", "5m", "4h": a timeframe as a column name.
template <std::size_t N>
void column_name(char (&dst)[N], const char* kind, std::uint32_t seconds) noexcept {
  if (seconds % 3600 == 0) std::snprintf(dst, N, "%s %uh", kind, seconds / 3600);
  else if (seconds % 60 == 0) std::snprintf(dst, N, "%s %um", kind, seconds / 60);
  else std::snprintf(dst, N, "%s %us", kind, seconds);
}

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;
}  // namespace

StatusPublisher::StatusPublisher(AdminServer& server, const InstrumentRegistry& registry, const char* mode,
                                 std::int64_t interval_ns)
    : server_(server), registry_(registry), mode_(mode) {
  const double tpns = 1.0 / TscClock::instance().ns_per_tick();
  interval_ticks_ = static_cast<std::uint64_t>(static_cast<double>(interval_ns) * tpns);
}

void StatusPublisher::maybe_publish(TradingCore& core, const FeedView& feed, bool running, bool force) noexcept {
  const std::uint64_t now = rdtsc();
  if (!force && now < next_tsc_) return;
  next_tsc_ = now + interval_ticks_;
  fill(snap_, core, feed, running);
  if (!server_.try_publish(snap_) && force) {
    // The admin thread is reading the previous one right now; the last snapshot must land.
    for (int i = 0; i < 1000 && !server_.try_publish(snap_); ++i) cpu_relax();
  }
}

void StatusPublisher::fill(StatusSnapshot& s, TradingCore& core, const FeedView& feed, bool running) const noexcept {
  const double npt = TscClock::instance().ns_per_tick();
  const auto& c = core.counters();
  const risk::RiskGate& gate = core.risk();
  copy_text(s.mode, mode_);
  copy_text(s.rollout_stage, rollout_stage_);
  copy_text(s.trading_state, core.risk().state() == risk::TradingState::active   ? "active"
                             : core.risk().state() == risk::TradingState::halted ? "halted"
                                                                                 : "reducing");
  copy_text(s.lifecycle, to_string(core.lifecycle()));
  copy_text(s.emergency_cause, core.emergency_cause() == EmergencyCause::none ? std::string_view{} : to_string(core.emergency_cause()));
  s.kill_latched = gate.kill_switch().latched();
  s.running = running;
  s.frames = feed.frames;
  s.events = feed.events;
  s.book_updates = feed.book_updates;
  s.signals = c.intents;
  s.orders = c.orders;
  s.fills = c.fills;
  s.rejects = c.risk_rejects + c.venue_rejects + c.pricing_rejects;
  s.risk_rejects = c.risk_rejects;
  s.venue_rejects = c.venue_rejects;
  s.cancels = c.cancels;
  s.dropped = c.dropped_rows;
  s.emergency_stops = c.emergency_stops;
  s.nreject_reasons = 0;
  for (int i = 1; i < risk::kRejectReasonCount && s.nreject_reasons < s.reject_reasons.size(); ++i) {
    const auto r = static_cast<risk::RejectReason>(i);
    const std::uint64_t n = gate.reject_count(r);
    if (n == 0) continue;
    CountView& v = s.reject_reasons[s.nreject_reasons++];
    copy_text(v.name, risk::to_string(r));
    v.count = n;
  }
  const oms::SimAccount& a = core.account();
  double realized = 0, funding = 0, unrealized = 0;
  s.npositions = 0;
  for (std::size_t i = 0; i < core.traded_count(); ++i) {
    const auto id = static_cast<InstrumentId>(i);
    const oms::SimPosition& p = core.position(id);
    realized += p.realized_pnl.to_double();
    funding += p.funding.to_double();
    if (p.qty.is_zero() || s.npositions >= s.positions.size()) continue;
    PositionView& v = s.positions[s.npositions++];
    copy_text(v.symbol, registry_.get(id).symbol.view());
    v.qty = p.qty.to_double();
    const double mult = registry_.get(id).multiplier.to_double();
    v.avg_price = p.entry_notional.to_double() / (p.qty.abs().to_double() * (mult > 0 ? mult : 1.0));
    v.unrealized = 0;
  }
  const double equity = core.last_equity().to_double();
  unrealized = equity - a.balance.to_double();
  if (s.npositions == 1) s.positions[0].unrealized = unrealized;
  s.realized_pnl = realized;
  s.fees = a.fees_paid.to_double();
  s.funding = funding;
  s.equity = equity;
  s.unrealized_pnl = unrealized;
  s.drawdown = std::max(0.0, core.peak_equity().to_double() - equity);
  s.max_drawdown = core.max_drawdown().to_double();
  s.feed_connected = feed.connected;
  s.last_frame_age_ms = feed.last_frame_tsc == 0 ? -1
                        : static_cast<std::int64_t>(static_cast<double>(rdtsc() - feed.last_frame_tsc) * npt / 1e6);
  s.reconnects = feed.reconnects;
  s.gaps = feed.gaps;
  s.resyncs = feed.resyncs;
  s.venue_used_weight = c.venue_used_weight;
  s.venue_order_count_short = c.venue_order_count_short;
  s.venue_order_count_long = c.venue_order_count_long;
  s.venue_http_429 = c.venue_http_429;
  s.venue_http_418 = c.venue_http_418;
  s.venue_rate_refusals = c.venue_rate_refusals;
  s.published_at_ns = wall_ns();
  // Per-stage latency: histograms are in TSC ticks while the run records them.
  s.nstages = 0;
  auto stage = [&](const char* name, const LatencyHistogram& h) {
    if (s.nstages >= s.stages.size() || h.count() == 0) return;
    StageLatencyView& v = s.stages[s.nstages++];
    copy_text(v.name, name);
    v.count = h.count();
    v.p50_ns = static_cast<std::int64_t>(static_cast<double>(h.percentile(50)) * npt);
    v.p99_ns = static_cast<std::int64_t>(static_cast<double>(h.percentile(99)) * npt);
    v.p999_ns = static_cast<std::int64_t>(static_cast<double>(h.percentile(99.9)) * npt);
    v.max_ns = static_cast<std::int64_t>(static_cast<double>(h.percentile(100)) * npt);
  };
  if (feed.stages != nullptr) {
    stage("decode", feed.stages->decode);
    stage("book", feed.stages->book);
    stage("signal", feed.stages->signal);
    stage("frame", feed.stages->frame);
  }
  stage("risk", core.hist_risk);
  stage("journal", core.hist_journal);
  stage("encode", core.hist_encode);
  stage("frame_to_order", core.hist_order);
}

void StatusPublisher::maybe_publish_signals(strategy::StrategyStage& strategies) noexcept {
  const std::uint64_t now = rdtsc();
  if (now < next_signals_tsc_) return;
  next_signals_tsc_ = now + interval_ticks_;
  fill_signals(signals_, strategies);
  (void)server_.try_publish_signals(signals_);  // missed: the next interval brings a newer one
}

void StatusPublisher::fill_signals(SignalSnapshot& s, strategy::StrategyStage& strategies) const noexcept {
  s.nsignals = 0;
  auto cell = [&](InstrumentId id) -> SignalView* {
    if (s.nsignals >= s.signals.size()) return nullptr;
    SignalView& v = s.signals[s.nsignals++];
    copy_text(v.instrument, registry_.get(id).symbol.view());
    v.alignment[0] = '\0';
    return &v;
  };
  for (std::size_t i = 0; i < strategies.size(); ++i) {
    std::visit(Overloaded{
                   // Top-of-book imbalance in [-1, 1]: positive means bids outweigh asks (a long signal).
                   [&](strategy::ImbalanceTaker& st) {
                     if (SignalView* v = cell(st.instrument())) {
                       copy_text(v->column, "imbalance");
                       v->score = st.last_imbalance();
                       v->norm = v->score;
                       v->ready = true;
                     }
                   },
                   // The confluence score of each timeframe, in [-130, 130].
                   [&](strategy::ConfluenceStrategy& st) {
                     for (std::size_t tf = 0; tf < confluence_tf_.timeframe_count && tf < strategy::kMaxTimeframes; ++tf) {
                       SignalView* v = cell(st.instrument());
                       if (v == nullptr) return;
                       column_name(v->column, "confluence", confluence_tf_.timeframes_s[tf]);
                       const strategy::SignalResult& r = st.last_signal(tf);
                       v->score = r.score;
                       v->norm = r.score / 130.0;
                       v->ready = r.ready;
                     }
                     // Several timeframes: their combined score and alignment at the last decision.
                     if (st.timeframe_count() > 1) {
                       SignalView* v = cell(st.instrument());
                       if (v == nullptr) return;
                       copy_text(v->column, "confluence mtf");
                       v->score = st.combined().score;
                       v->norm = v->score / 130.0;
                       v->ready = st.combined_ready();
                       copy_text(v->alignment, st.combined_ready() ? strategy::to_string(st.combined().alignment) : "");
                     }
                   },
                   // RSI in [0, 100]; below 50 leans long for a mean-reversion strategy, so norm = (50 - RSI) / 50.
                   [&](strategy::MeanReversionStrategy& st) {
                     if (SignalView* v = cell(st.instrument())) {
                       column_name(v->column, "rsi", mean_reversion_tf_.timeframes_s[0]);
                       v->score = st.rsi().value();
                       v->norm = st.rsi().ready() ? (50.0 - v->score) / 50.0 : 0.0;
                       v->ready = st.rsi().ready();
                     }
                   },
                   // Any other registered strategy publishes no signal column.
                   [](auto&) {}},
               strategies.at(i));
  }
  s.published_at_ns = wall_ns();
}

}  // namespace enigma::engine
