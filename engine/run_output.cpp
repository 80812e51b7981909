#include "engine/run_output.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/files.hpp"
#include "core/logger.hpp"
#include "strategy/metrics.hpp"

namespace enigma::engine {

namespace {

void mkdir_p(const std::string& path) {
  std::string cur;
  std::stringstream ss(path);
  std::string part;
  if (!path.empty() && path[0] == '/') cur = "/";
  while (std::getline(ss, part, '/')) {
    if (part.empty()) continue;
    cur += part;
    if (::mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST)
      throw Error("cannot create directory '" + cur + "': " + std::strerror(errno));
    cur += '/';
  }
}

std::string money(Notional n) { return n.to_string(2); }

// A JSON string literal (paths and error texts may hold quotes, backslashes or control bytes).
std::string json_string(std::string_view v) {
  std::string o = "\"";
  for (const char c : v) {
    if (c == '"' || c == '\\') {
      o += '\\';
      o += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char esc[8];
      std::snprintf(esc, sizeof esc, "\\u%04x", static_cast<unsigned>(c));
      o += esc;
    } else {
      o += c;
    }
  }
  return o + "\"";
}

struct Stage {
  std::string name;
  const LatencyHistogram* h;
  bool hgrm{true};  // written as <name>.hgrm (the order frames' stage split is not: the summary has its percentiles)
};

std::vector<Stage> stages_of(const StageHistograms& h) {
  std::vector<Stage> out{{"decode", &h.decode}, {"book", &h.book},     {"signal", &h.signal},
                         {"risk", &h.risk},     {"journal", &h.journal}, {"encode", &h.encode},
                         {"frame_to_order", &h.order}, {"order_frame", &h.order_frame}};
  for (const auto& [name, stage] : StageHistograms::OrderFrameStages::named(h.order_stages))
    out.push_back({std::string("order_frame.") + name, stage, false});
  for (const Stage& s : {Stage{"frame", &h.frame}, Stage{"ring_hop", &h.hop}, Stage{"signed_to_kernel", &h.signed_to_kernel},
                         Stage{"tick_to_wire", &h.tick_to_wire}, Stage{"kill_to_wire", &h.kill_to_wire}})
    out.push_back(s);
  return out;
}

void write_file(const std::string& path, const std::string& text) { write_file_atomic(path, text); }

// The strategy instance trading each configured instrument (a portfolio has at most one per instrument);
// nullptr where none does.
std::vector<const StrategyInstance*> strategy_by_instrument(const std::vector<StrategyInstance>& all, std::size_t n) {
  std::vector<const StrategyInstance*> out(n, nullptr);
  for (const StrategyInstance& s : all)
    if (s.common().instrument < n) out[s.common().instrument] = &s;
  return out;
}

// A JSON number that is null for NaN and infinities.
std::string json_num(double v) {
  if (!std::isfinite(v)) return "null";
  return fmt::format("{}", v);
}

}  // namespace

std::string json_escape(std::string_view in) {
  std::string out;
  for (const char c : in) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if (static_cast<unsigned char>(c) < 0x20)
      out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
    else
      out.push_back(c);
  }
  return out;
}

std::string make_run_dir(const std::string& runs_dir, const std::string& prefix) {
  mkdir_p(runs_dir);
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
  const std::string base = runs_dir + "/" + prefix + stamp;
  std::string dir = base;
  // mkdir(2) is the atomic test-and-create: whoever gets EEXIST takes the next suffix, so two runs started
  // in the same second (two processes included) never share a log, journal or summary.
  for (int n = 1; ::mkdir(dir.c_str(), 0755) != 0; ++n) {
    if (errno != EEXIST) throw Error("cannot create run directory '" + dir + "': " + std::strerror(errno));
    if (n > 9999) throw Error("cannot create run directory '" + base + "': 10000 runs already use this second");
    dir = base + "-" + std::to_string(n);
  }
  if (::mkdir((dir + "/logs").c_str(), 0755) != 0)
    throw Error("cannot create directory '" + dir + "/logs': " + std::strerror(errno));
  return dir;
}

void point_latest_at(const std::string& runs_dir, const std::string& run_dir) {
  const std::string latest = runs_dir + "/latest";
  // A private temporary link renamed over `latest`: the switch is atomic, and two runs pointing it at the
  // same time never remove each other's link. Relative target so the runs folder can move; a filesystem
  // without symlinks only loses the shortcut.
  const std::string tmp = latest + ".tmp-" + std::to_string(::getpid());
  ::unlink(tmp.c_str());
  const std::string target =
      run_dir.compare(0, runs_dir.size() + 1, runs_dir + "/") == 0 ? run_dir.substr(runs_dir.size() + 1) : run_dir;
  if (::symlink(target.c_str(), tmp.c_str()) == 0 && ::rename(tmp.c_str(), latest.c_str()) != 0) ::unlink(tmp.c_str());
}

std::string engine_layout(const EngineConfig& e, std::string_view topology) {
  const bool fused = topology != "pipelined";
  static constexpr const char* kFused[] = {"engine"};
  static constexpr const char* kPipelined[] = {"feed", "strategy", "oms"};
  std::string out = "topology=" + std::string(topology);
  const std::size_t n = fused ? 1 : 3;
  for (std::size_t i = 0; i < n; ++i) {
    out += ' ';
    out += fused ? kFused[i] : kPipelined[i];
    out += i < e.cores.size() ? "=cpu" + std::to_string(e.cores[i]) : std::string("=unpinned");
  }
  out += std::string(" idle=") + (e.idle == IdlePolicy::spin ? "spin" : "backoff");
  out += std::string(" mlockall=") + (e.mlockall ? "true" : "false");
  out += " warm_interval_us=" + std::to_string(e.warm_interval_us);
  return out;
}

namespace {

// The run's round trips: FIFO per instrument over its fills (quantity in base units: contracts x multiplier),
// each carrying the funding the simulated exchange charged while it was open (payments ordered among the
// fills by the exchange's fill count), all in exit order; and where the run's funding went.
struct RunTrips {
  std::vector<strategy::RoundTrip> trips;
  std::vector<std::size_t> instrument;  // of each trip
  strategy::BacktestMetrics::FundingSplit funding;
};

RunTrips run_round_trips(const RunSummaryInput& in) {
  const TradingCore& core = *in.core;
  RunTrips by_id;
  std::vector<strategy::TradeFill> fills;
  std::vector<strategy::FundingPayment> payments;
  for (std::size_t id = 0; id < in.registry->size(); ++id) {
    fills.clear();
    payments.clear();
    const double multiplier = in.registry->get(static_cast<InstrumentId>(id)).multiplier.to_double();
    for (const TradeRow& t : core.trades())
      if (t.instrument == id)
        fills.push_back({t.time_ns, t.side == Side::buy ? 1 : -1, t.qty.to_double() * multiplier, t.price.to_double(),
                         t.fee.to_double(), t.expected.to_double()});
    for (const oms::SimFundingPayment& p : core.sim().funding_payments())  // none live (the venue books it)
      if (p.instrument == id) payments.push_back({static_cast<std::size_t>(p.fills_before), p.amount.to_double()});
    strategy::FundingLeft left;
    const auto closed = strategy::round_trips_from_fills(fills, payments, &left);
    by_id.trips.insert(by_id.trips.end(), closed.begin(), closed.end());
    by_id.instrument.insert(by_id.instrument.end(), closed.size(), id);
    by_id.funding.open_at_end += left.open;
    by_id.funding.unattributed += left.flat;
  }
  std::vector<std::size_t> order(by_id.trips.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return by_id.trips[a].exit_ns < by_id.trips[b].exit_ns; });
  RunTrips out;
  out.funding = by_id.funding;
  for (const std::size_t i : order) {
    out.trips.push_back(by_id.trips[i]);
    out.instrument.push_back(by_id.instrument[i]);
    out.funding.round_trips += by_id.trips[i].funding;
  }
  out.funding.unattributed += core.live() ? 0.0 : core.sim().unkept_funding().to_double();
  out.funding.run_total = core.account().funding_paid.to_double();
  return out;
}

}  // namespace

std::string run_metrics_json(const RunSummaryInput& in) {
  const TradingCore& core = *in.core;
  const RunTrips run = run_round_trips(in);
  const std::vector<strategy::RoundTrip>& trips = run.trips;
  // A portfolio's split: each configured instrument's FIFO round trips (and the strategy trading it).
  std::string by_instrument = "  \"by_instrument\": [";
  {
    const std::vector<StrategyInstance> all = in.config->strategy_instances();
    const auto owner = strategy_by_instrument(all, core.traded_count());
    std::vector<strategy::RoundTrip> mine;
    for (std::size_t id = 0; id < core.traded_count(); ++id) {
      mine.clear();
      double funding = 0;
      for (std::size_t i = 0; i < trips.size(); ++i)
        if (run.instrument[i] == id) {
          mine.push_back(trips[i]);
          funding += trips[i].funding;
        }
      const strategy::TradeStats ts = strategy::trade_stats(mine);
      const auto f = core.figures(static_cast<InstrumentId>(id));
      by_instrument += fmt::format(
          "{}\n    {{\"symbol\": \"{}\", \"strategy_id\": {}, \"strategy\": {}, \"trades\": {}, \"win_rate\": {}, "
          "\"profit_factor\": {}, \"expectancy\": {}, \"trip_funding\": {}, \"net_pnl\": {}}}",
          id ? "," : "", json_escape(in.registry->get(static_cast<InstrumentId>(id)).symbol.view()),
          owner[id] ? std::to_string(owner[id]->common().strategy_id) : std::string("null"),
          owner[id] ? "\"" + std::string(to_string_kind(owner[id]->kind)) + "\"" : std::string("null"), ts.trades,
          json_num(ts.win_rate), json_num(ts.profit_factor), json_num(ts.expectancy), json_num(funding), f.net.to_string(2));
    }
  }
  by_instrument += "\n  ],\n";
  std::vector<strategy::EquityPoint> curve;
  std::vector<strategy::PricePoint> prices;  // instrument 0's mid at each equity sample: the buy-and-hold baseline
  for (const EquityRow& e : core.equity()) {
    curve.push_back({e.time_ns, e.equity.to_double()});
    if (!e.mark.is_zero()) prices.push_back({e.time_ns, e.mark.to_double()});
  }
  strategy::BacktestMetrics m = strategy::compute_metrics(trips, curve, prices);
  // Each trip's net already carries the funding charged while it was open; the split says where the rest went.
  m.funding_split = run.funding;
  m.has_funding_split = true;
  // Per-indicator accuracy of the confluence strategies' votes, summed over their instruments.
  for (std::size_t i = 0; in.strategies != nullptr && i < in.strategies->size(); ++i) {
    const auto* st = std::get_if<strategy::ConfluenceStrategy>(&in.strategies->at(i));
    if (st == nullptr) continue;
    if (m.indicator_accuracy.empty())
      for (std::size_t c = 0; c < strategy::kComponentCount; ++c)
        m.indicator_accuracy.push_back({strategy::to_string(static_cast<strategy::Component>(c)), {}});
    m.indicator_horizon_bars = st->accuracy().horizon();
    const auto per_component = st->accuracy().result();
    for (std::size_t c = 0; c < strategy::kComponentCount; ++c) {
      m.indicator_accuracy[c].accuracy.votes += per_component[c].accuracy.votes;
      m.indicator_accuracy[c].accuracy.agreed += per_component[c].accuracy.agreed;
    }
  }
  for (auto& a : m.indicator_accuracy)
    a.accuracy.accuracy = a.accuracy.votes
                              ? static_cast<double>(a.accuracy.agreed) / static_cast<double>(a.accuracy.votes)
                              : std::numeric_limits<double>::quiet_NaN();
  // by_instrument goes in as the object's first field: metrics_json's text opens with "{\n".
  return "{\n" + by_instrument + strategy::metrics_json(m).substr(2);
}

namespace {

// The latency model a run used and what it drew ([sim] order_latency*, feed_latency; live: the venue's).
struct LatencyUsed {
  std::string order_model;     // constant | uniform | normal | lognormal | file | venue (live)
  std::string order_describe;  // parameters, one line
  std::uint64_t order_count{0};
  std::int64_t order_p50{0}, order_p99{0}, order_max{0};  // ns
  std::string feed_model;                                 // constant | capture | venue (live)
  std::uint64_t feed_frames{0}, feed_frames_without_time{0};
  std::int64_t feed_p50{0}, feed_p99{0}, feed_max{0}, feed_offset{0};
};

// One live row's latency: the venue's own time on its first answer minus our send time when the venue
// stamped it and the clocks agree (>= 0), else half the round trip.
std::int64_t live_latency_ns(const TradingCore::LiveOrderLatency& r) {
  if (r.venue_ns > 0 && r.venue_ns >= r.send_ns) return r.venue_ns - r.send_ns;
  return (r.ack_ns - r.send_ns) / 2;
}

LatencyUsed latency_used(const RunSummaryInput& in) {
  const TradingCore& core = *in.core;
  const oms::SimConfig& sc = in.config->trading.sim;
  LatencyUsed u;
  if (in.mode == "live") {
    std::vector<std::int64_t> v;
    for (const auto& r : core.live_order_latency()) v.push_back(live_latency_ns(r));
    std::sort(v.begin(), v.end());
    u.order_model = "venue";
    u.order_describe = "measured: the venue's answer time - send time (half the round trip without a venue time)";
    u.order_count = v.size();
    const auto at = [&](double p) {
      return v.empty() ? 0 : v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
    };
    u.order_p50 = at(0.5);
    u.order_p99 = at(0.99);
    u.order_max = v.empty() ? 0 : v.back();
    u.feed_model = "venue";
    return u;
  }
  const oms::LatencyModel& m = core.sim().order_latency_model();
  const LatencyHistogram& h = core.sim().order_latency_hist();
  u.order_model = std::string(oms::to_string(m.config().dist));
  u.order_describe = m.describe();
  u.order_count = h.count();
  u.order_p50 = h.percentile(50);
  u.order_p99 = h.percentile(99);
  u.order_max = h.max_value();
  if (sc.feed_latency_capture) {
    const LatencyHistogram& f = core.feed_latency_hist();
    u.feed_model = "capture";
    u.feed_frames = f.count();
    u.feed_frames_without_time = core.feed_frames_without_time();
    u.feed_p50 = f.percentile(50);
    u.feed_p99 = f.percentile(99);
    u.feed_max = f.max_value();
    u.feed_offset = core.feed_clock_offset_ns();
  } else {
    u.feed_model = "constant";
    u.feed_p50 = u.feed_p99 = u.feed_max = sc.feed_latency_ns;
  }
  return u;
}

double us(std::int64_t ns) { return static_cast<double>(ns) / 1000.0; }
// Microseconds to the nanosecond in JSON ("1798.905"): exact, where the default stream precision would round.
std::string us_text(std::int64_t ns) { return fmt::format("{:.3f}", us(ns)); }

}  // namespace

void write_run_files(const std::string& dir, const RunSummaryInput& in) {
  const PipelineResult& r = *in.result;
  const TradingCore& core = *in.core;
  const auto& acct = core.account();
  const Notional initial = in.config->trading.sim.initial_balance;
  const Notional equity = core.last_equity();
  const Notional net = equity - initial;

  // trades.csv: one row per fill, data time only (byte-identical across runs of the same input).
  {
    std::ostringstream o;
    o << "time_ns,symbol,side,price,qty,fee,liquidity,client_order_id,reason,expected_price\n";
    for (const auto& t : core.trades())
      o << t.time_ns << ',' << in.registry->get(t.instrument).symbol.view() << ','
        << (t.side == Side::buy ? "buy" : "sell") << ',' << t.price.to_string() << ',' << t.qty.to_string() << ','
        << t.fee.to_string() << ',' << (t.maker ? "maker" : "taker") << ',' << t.client_id.view() << ','
        << strategy::to_string(t.reason) << ',' << t.expected.to_string() << '\n';
    write_file(dir + "/trades.csv", o.str());
  }
  // round_trips.csv: metrics.json's round trips in exit order (qty in base units), net = gross - fees - funding.
  {
    const RunTrips run = run_round_trips(in);
    const std::vector<StrategyInstance> all = in.config->strategy_instances();
    const auto owner = strategy_by_instrument(all, core.traded_count());
    std::string o = "entry_ns,exit_ns,symbol,strategy_id,side,qty,entry_price,exit_price,gross,fees,funding,net\n";
    for (std::size_t i = 0; i < run.trips.size(); ++i) {
      const strategy::RoundTrip& t = run.trips[i];
      const std::size_t id = run.instrument[i];
      fmt::format_to(std::back_inserter(o), "{},{},{},{},{},{},{},{},{},{},{},{}\n", t.entry_ns, t.exit_ns,
                     in.registry->get(static_cast<InstrumentId>(id)).symbol.view(),
                     id < owner.size() && owner[id] ? std::to_string(owner[id]->common().strategy_id) : std::string(),
                     t.side > 0 ? "long" : "short", t.qty, t.entry_price, t.exit_price, strategy::gross_pnl(t), t.fees,
                     t.funding, strategy::net_pnl(t));
    }
    write_file(dir + "/round_trips.csv", o);
  }
  {
    std::ostringstream o;
    // Then one column per configured instrument: its net P&L so far (realized + unrealized - fees - funding);
    // they sum to equity - initial balance.
    o << "time_ns,equity,balance,position";
    for (std::size_t i = 0; i < core.traded_count(); ++i)
      o << ",pnl_" << in.registry->get(static_cast<InstrumentId>(i)).symbol.view();
    o << '\n';
    for (std::size_t row = 0; row < core.equity().size(); ++row) {
      const EquityRow& e = core.equity()[row];
      o << e.time_ns << ',' << e.equity.to_string(2) << ',' << e.balance.to_string(2) << ',' << e.position.to_string();
      for (const Notional& pnl : core.equity_by_instrument(row)) o << ',' << pnl.to_string(2);
      o << '\n';
    }
    write_file(dir + "/equity.csv", o.str());
  }
  for (const auto& s : stages_of(r.hist))
    if (s.hgrm && s.h->count() > 0) write_file(dir + "/" + s.name + ".hgrm", s.h->hgrm(1000.0));
  // order_latency.csv: every order-entry message in send order (simulated: new orders and cancels, arrival at
  // the matching engine; live: new orders and the venue's first answer). [sim] order_latency_file reads it.
  {
    std::ostringstream o;
    o << "kind,client_order_id,send_ns,venue_ns,ack_ns,latency_ns\n";
    if (in.mode == "live") {
      for (const auto& l : core.live_order_latency())
        o << "new," << l.id.view() << ',' << l.send_ns << ',' << l.venue_ns << ',' << l.ack_ns << ','
          << live_latency_ns(l) << '\n';
    } else {
      for (const auto& l : core.sim().order_latency())
        o << (l.cancel ? "cancel," : "new,") << l.id.view() << ',' << l.send_ns << ',' << l.arrival_ns << ",,"
          << l.arrival_ns - l.send_ns << '\n';
    }
    write_file(dir + "/order_latency.csv", o.str());
  }

  std::ostringstream j;
  const auto& c = r.orders;
  j << "{\n  \"mode\": \"" << in.mode << "\",\n  \"venue\": \"" << to_string(in.config->venue)
    << "\",\n  \"topology\": \"" << in.topology << "\",\n  \"strategy\": \"" << in.config->strategy_name()
    << "\",\n  \"data_files\": " << in.config->data.size() << ",\n  \"data_start_ns\": " << r.data_start_ns
    << ",\n  \"data_end_ns\": " << r.data_end_ns << ",\n";
  // null for a run that ended on its own; a stopped replay processed fewer frames than its input holds.
  j << "  \"layout\": \"" << engine_layout(in.config->engine, in.topology) << "\",\n";
  j << "  \"interrupted\": " << (r.interrupted.empty() ? "null" : "\"" + r.interrupted + "\"") << ",\n";
  // Why the engine ended the run itself (disk full), with the path and bytes: null otherwise.
  j << "  \"fatal_error\": " << (r.fatal_error.empty() ? "null" : "\"" + json_escape(r.fatal_error) + "\"") << ",\n";
  j << "  \"feed\": {\"frames\": " << r.frames
    << ", \"frames_in_input\": " << (r.frames_in_input ? std::to_string(r.frames_in_input) : std::string("null"))
    << ", \"events\": " << r.events << ", \"decode_errors\": " << r.decode_errors
    << ", \"control_frames\": " << r.control_frames << ", \"ignored_frames\": " << r.ignored_frames
    << ", \"book_updates\": " << r.book_updates << ", \"gaps\": " << r.gaps << ", \"duplicates\": " << r.duplicates
    << ", \"bad_lines\": " << r.bad_lines << ", \"resyncs\": " << r.resyncs << ", \"crossed\": " << r.crossed
    << ", \"book_checks\": " << r.book_checks << ", \"quotes_uncompared\": " << r.quotes_uncompared
    << ", \"unmapped_snapshots\": " << r.unmapped_snapshots << ", \"book_mismatches\": " << r.book_mismatches
    << ", \"trades_seen\": " << r.trades_seen << "},\n";
  j << "  \"orders\": {\"signals\": " << r.intents << ", \"orders\": " << c.orders << ", \"fills\": " << c.fills
    << ", \"risk_rejects\": " << c.risk_rejects << ", \"pricing_rejects\": " << c.pricing_rejects
    << ", \"venue_rejects\": " << c.venue_rejects << ", \"cancels\": " << c.cancels
    << ", \"encode_errors\": " << c.encode_errors << ", \"unknown_outcomes\": " << c.unknown_outcomes
    << ", \"queries\": " << c.queries << ", \"reconnect_reconciliations\": " << c.reconnect_reconciliations
    << ", \"native_icebergs\": " << c.native_icebergs << ", \"native_iceberg_unfit\": " << c.native_iceberg_unfit
    << ", \"exec_children\": " << c.exec_children << ", \"exec_children_cancelled\": " << c.exec_children_cancelled << ", \"exec_paced\": " << c.exec_paced
    << ", \"vwap_fallbacks\": " << c.vwap_fallbacks << ", \"correlation_changes\": " << c.correlation_changes
    << ", \"correlation_sized\": " << c.correlation_sized << ", \"correlation_size_rejects\": " << c.correlation_size_rejects
    << "},\n";
  // Live: the venue's own request counters from its last answer, its 429/418 answers, local refusals.
  j << "  \"venue_rate_limits\": {\"used_weight\": " << c.venue_used_weight
    << ", \"order_count_short\": " << c.venue_order_count_short << ", \"order_count_long\": " << c.venue_order_count_long
    << ", \"http_429\": " << c.venue_http_429 << ", \"http_418\": " << c.venue_http_418
    << ", \"refused_locally\": " << c.venue_rate_refusals << "},\n";
  j << "  \"risk_rejects_by_reason\": {";
  {
    bool f = true;
    for (int k = 1; k < risk::kRejectReasonCount; ++k) {
      const auto reason = static_cast<risk::RejectReason>(k);
      const auto n = core.risk().reject_count(reason);
      if (n == 0) continue;
      j << (f ? "" : ", ") << "\"" << risk::to_string(reason) << "\": " << n;
      f = false;
    }
  }
  j << "},\n";
  j << "  \"pnl\": {\"initial_balance\": " << money(initial) << ", \"final_equity\": " << money(equity)
    << ", \"net_pnl\": " << money(net) << ", \"fees\": " << money(acct.fees_paid)
    << ", \"funding\": " << money(acct.funding_paid) << ", \"max_drawdown\": " << money(core.max_drawdown()) << "},\n";
  {  // a portfolio's split: per configured instrument, then per strategy instance (each trades one instrument)
    const std::vector<StrategyInstance> all = in.config->strategy_instances();
    const auto owner = strategy_by_instrument(all, core.traded_count());
    j << "  \"instruments\": [";
    for (std::size_t i = 0; i < core.traded_count(); ++i) {
      const auto f = core.figures(static_cast<InstrumentId>(i));
      j << (i ? ", " : "") << "{\"symbol\": \"" << json_escape(in.registry->get(static_cast<InstrumentId>(i)).symbol.view())
        << "\", \"strategy_id\": "
        << (owner[i] ? std::to_string(owner[i]->common().strategy_id) : std::string("null")) << ", \"orders\": " << f.orders
        << ", \"fills\": " << f.fills << ", \"round_trips\": " << f.round_trips << ", \"losing_trips\": " << f.losing_trips
        << ", \"realized\": " << money(f.realized) << ", \"unrealized\": " << money(f.unrealized)
        << ", \"fees\": " << money(f.fees) << ", \"funding\": " << money(f.funding) << ", \"net_pnl\": " << money(f.net)
        << ", \"position\": \"" << core.position(static_cast<InstrumentId>(i)).qty.to_string() << "\"}";
    }
    j << "],\n  \"strategies\": [";
    for (std::size_t k = 0; k < all.size(); ++k) {
      const auto& c = all[k].common();
      const auto f = core.figures(c.instrument);
      j << (k ? ", " : "") << "{\"id\": " << c.strategy_id << ", \"kind\": \"" << to_string_kind(all[k].kind)
        << "\", \"symbol\": \"" << json_escape(in.registry->get(c.instrument).symbol.view())
        << "\", \"orders\": " << f.orders << ", \"fills\": " << f.fills << ", \"round_trips\": " << f.round_trips
        << ", \"net_pnl\": " << money(f.net) << "}";
    }
    j << "],\n";
  }
  {  // confluence: per strategy and timeframe, scored bars in each market regime and the changes between them
    j << "  \"regimes\": [";
    bool first = true;
    for (std::size_t i = 0; in.strategies != nullptr && i < in.strategies->size(); ++i) {
      const auto* st = std::get_if<strategy::ConfluenceStrategy>(&in.strategies->at(i));
      if (st == nullptr) continue;
      for (std::size_t tf = 0; tf < st->timeframe_count(); ++tf) {
        const strategy::RegimeStats& rs = st->regime_stats(tf);
        j << (first ? "" : ", ") << "{\"strategy_id\": " << st->id() << ", \"timeframe_s\": " << st->timeframe_s(tf)
          << ", \"bars\": {";
        for (std::size_t r = 0; r < strategy::kRegimeCount; ++r)
          j << (r ? ", " : "") << "\"" << strategy::regime_key(static_cast<strategy::Regime>(r)) << "\": " << rs.bars[r];
        j << "}, \"changes\": " << rs.changes << "}";
        first = false;
      }
    }
    j << "],\n";
  }
  {  // confluence: the multi-timeframe view at the last decision (each timeframe's score: the heatmap's row) and
     // how often each alignment came
    j << "  \"alignment\": [";
    bool first = true;
    for (std::size_t i = 0; in.strategies != nullptr && i < in.strategies->size(); ++i) {
      const auto* st = std::get_if<strategy::ConfluenceStrategy>(&in.strategies->at(i));
      if (st == nullptr) continue;
      const strategy::MultiTimeframeSignal& m = st->combined();
      const strategy::AlignmentStats& as = st->alignment_stats();
      j << (first ? "" : ", ") << "{\"strategy_id\": " << st->id() << ", \"symbol\": \""
        << json_escape(in.registry->get(st->instrument()).symbol.view()) << "\", \"ready\": " << (st->combined_ready() ? "true" : "false")
        << ", \"score\": " << m.score << ", \"alignment\": \"" << strategy::to_string(m.alignment) << "\", \"direction\": \""
        << strategy::to_string(m.direction) << "\", \"confidence\": " << m.confidence << ", \"decisions\": {\"full\": "
        << as.decisions[0] << ", \"partial\": " << as.decisions[1] << ", \"divergent\": " << as.decisions[2]
        << "}, \"changes\": " << as.changes << ", \"timeframes\": [";
      for (std::size_t tf = 0; tf < st->timeframe_count(); ++tf) {
        const strategy::SignalResult& r = st->last_signal(tf);
        j << (tf ? ", " : "") << "{\"timeframe_s\": " << st->timeframe_s(tf) << ", \"score\": " << r.score
          << ", \"direction\": \"" << strategy::to_string(r.direction) << "\", \"ready\": " << (r.ready ? "true" : "false") << "}";
      }
      j << "]}";
      first = false;
    }
    j << "],\n";
  }
  if (in.strategies != nullptr && in.strategies->selector().active()) {  // [selector]: each arm's entries and rewards
    const strategy::Selector& sel = in.strategies->selector();
    j << "  \"selector\": {\"kind\": \"" << strategy::to_string(sel.kind()) << "\", \"lapsed\": " << sel.lapsed() << ", \"arms\": [";
    for (std::size_t k = 0; k < sel.arms().size(); ++k) {
      const auto& a = sel.arms()[k];
      j << (k ? ", " : "") << "{\"strategy_id\": " << a.strategy_id << ", \"entries\": " << a.entries << ", \"round_trips\": " << a.trips
        << ", \"wins\": " << a.wins << ", \"reward_sum\": " << a.reward_sum << ", \"suppressed\": " << a.suppressed
        << ", \"vote_weight\": " << sel.vote_weight(a) << "}";
    }
    j << "]},\n";
  } else {
    j << "  \"selector\": null,\n";
  }
  {  // the supervisor: lifecycle at the end, emergency stops by cause, the plan's limits, protection at exit
    j << "  \"supervisor\": {\"lifecycle\": \"" << to_string(core.lifecycle())
      << "\", \"emergency_stops\": " << c.emergency_stops << ", \"emergency_causes\": {";
    bool f = true;
    for (std::size_t k = 1; k < kEmergencyCauseCount; ++k) {
      const auto cause = static_cast<EmergencyCause>(k);
      if (const auto n = core.emergency_count(cause)) {
        j << (f ? "" : ", ") << "\"" << to_string(cause) << "\": " << n;
        f = false;
      }
    }
    Qty open_qty{};
    for (std::size_t i = 0; i < core.traded_count(); ++i)
      open_qty += core.position(static_cast<InstrumentId>(i)).qty.abs();
    j << "}, \"round_trips\": " << c.round_trips << ", \"losing_trips\": " << c.losing_trips
      << ", \"days_rolled\": " << c.days_rolled << ", \"trades_per_day_rejects\": " << c.trades_per_day_rejects
      << ", \"market_move_pauses\": " << c.market_move_pauses << ", \"market_move_rejects\": " << c.market_move_rejects
      << ", \"flatten_orders\": " << c.flatten_orders
      << ", \"kill_latched\": " << (core.risk().kill_switch().latched() ? "true" : "false") << ", \"trading_state\": \""
      << risk::to_string(core.risk().state()) << "\", \"open_position_qty\": \"" << open_qty.to_string()
      << "\", \"unprotected_positions\": " << core.unprotected_positions() << "},\n";
  }
  j << "  \"dropped\": {\"intents\": " << r.intents_dropped << ", \"rows\": " << c.dropped_rows
    << ", \"sim_reports\": " << core.sim().dropped_reports() << ", \"sim_levels\": " << core.sim().dropped_levels()
    << "},\n";
  {  // which latency model ran and what it drew (us); feed "capture": per frame receive - exchange time
    const LatencyUsed u = latency_used(in);
    j << "  \"latency_model\": {\"order\": {\"model\": \"" << u.order_model
      << "\", \"parameters\": " << json_string(u.order_describe) << ", \"messages\": " << u.order_count
      << ", \"p50_us\": " << us_text(u.order_p50) << ", \"p99_us\": " << us_text(u.order_p99)
      << ", \"max_us\": " << us_text(u.order_max)
      << ", \"held_back\": " << (in.mode == "live" ? 0 : core.sim().held_back())
      << ", \"rows_dropped\": " << core.sim().dropped_latency_rows() << "}, \"feed\": {\"model\": \"" << u.feed_model
      << "\", \"frames\": " << u.feed_frames << ", \"frames_without_time\": " << u.feed_frames_without_time
      << ", \"clock_offset_ns\": " << u.feed_offset << ", \"p50_us\": " << us_text(u.feed_p50)
      << ", \"p99_us\": " << us_text(u.feed_p99) << ", \"max_us\": " << us_text(u.feed_max) << "}},\n";
  }
  if (r.recorded) {  // paper/live: the session's own recording ([record]); null when not recorded
    const auto& rec = r.recording;
    j << "  \"recording\": {\"frames\": " << rec.frames << ", \"dropped_frames\": " << rec.dropped_frames
      << ", \"bytes\": " << rec.bytes << ", \"files\": [";
    for (std::size_t i = 0; i < rec.files.size(); ++i) j << (i ? ", " : "") << json_string(rec.files[i]);
    j << "], \"error\": " << (rec.error.empty() ? std::string("null") : json_string(rec.error)) << "},\n";
  } else {
    j << "  \"recording\": null,\n";
  }
  j << "  \"alerts\": " << (in.alerts != nullptr ? in.alerts->summary_json() : std::string("null")) << ",\n";
  j << "  \"books\": [";
  for (std::size_t i = 0; i < r.books.size(); ++i) {
    const InstrumentBookStats& b = r.books[i];
    j << (i ? ", " : "") << "{\"symbol\": \"" << json_escape(b.symbol) << "\", \"venue\": \"" << json_escape(b.venue)
      << "\", \"synced\": " << (b.synced ? "true" : "false") << ", \"snapshots\": " << b.snapshots
      << ", \"updates\": " << b.updates << ", \"checks\": " << b.checks << ", \"mismatches\": " << b.mismatches
      << ", \"quotes_uncompared\": " << b.quotes_uncompared << ", \"gaps\": " << b.gaps
      << ", \"resyncs\": " << b.resyncs << ", \"tick\": " << (b.tick.empty() ? std::string("null") : json_string(b.tick))
      << ", \"lot\": " << (b.lot.empty() ? std::string("null") : json_string(b.lot)) << ", \"spec\": \"" << b.spec << "\"}";
  }
  j << "],\n";
  j << "  \"hot_path_allocations_after_warmup\": " << r.hot_allocations << ",\n";
  j << "  \"timing\": {\"wall_seconds\": " << r.wall_seconds
    << ", \"frames_per_second\": " << (r.wall_seconds > 0 ? static_cast<double>(r.frames) / r.wall_seconds : 0.0)
    << ", \"read_seconds\": " << r.read_seconds << ", \"frames_per_second_including_read\": "
    << (r.wall_seconds + r.read_seconds > 0 ? static_cast<double>(r.frames) / (r.wall_seconds + r.read_seconds) : 0.0)
    << ", \"ring_full_spins\": " << r.ring_full_spins << "},\n";
  j << "  \"latency_ns\": {";
  bool first = true;
  for (const auto& s : stages_of(r.hist)) {
    if (s.h->count() == 0) continue;
    j << (first ? "\n" : ",\n") << "    \"" << s.name << "\": {\"count\": " << s.h->count()
      << ", \"p50\": " << s.h->percentile(50) << ", \"p90\": " << s.h->percentile(90)
      << ", \"p99\": " << s.h->percentile(99) << ", \"p99.9\": " << s.h->percentile(99.9)
      << ", \"max\": " << s.h->max_value() << "}";
    first = false;
  }
  j << "\n  }\n}\n";
  write_file(dir + "/summary.json", j.str());
  write_file(dir + "/metrics.json", run_metrics_json(in));
}

std::string format_summary(const RunSummaryInput& in, const std::string& dir) {
  const PipelineResult& r = *in.result;
  const TradingCore& core = *in.core;
  const auto& c = r.orders;
  const Notional initial = in.config->trading.sim.initial_balance;
  const Notional equity = core.last_equity();
  std::ostringstream o;
  char line[256];
  o << "enigma " << in.mode << " — " << to_string(in.config->venue) << ", " << in.topology << " topology, strategy "
    << in.config->strategy_name() << "\n";
  if (!r.interrupted.empty() && r.frames_in_input > 0) {
    std::snprintf(line, sizeof line,
                  "  INTERRUPTED by %s: %llu of %llu frames processed (%.1f %%); results cover only those\n",
                  r.interrupted.c_str(), (unsigned long long)r.frames, (unsigned long long)r.frames_in_input,
                  100.0 * static_cast<double>(r.frames) / static_cast<double>(r.frames_in_input));
    o << line;
  } else if (!r.interrupted.empty()) {
    o << "  stopped by " << r.interrupted << " after " << r.frames << " frames\n";
  }
  if (!r.fatal_error.empty()) o << "  STOPPED by the engine: " << r.fatal_error << "\n";
  std::snprintf(line, sizeof line,
                "  frames %llu  events %llu  decode errors %llu  bad lines %llu  (%.2f s wall, %.0f frames/s)\n",
                (unsigned long long)r.frames, (unsigned long long)r.events, (unsigned long long)r.decode_errors,
                (unsigned long long)r.bad_lines, r.wall_seconds, r.wall_seconds > 0 ? r.frames / r.wall_seconds : 0.0);
  o << line;
  if (r.read_seconds > 0) {
    std::snprintf(line, sizeof line, "  reading + decompressing the files %.2f s: %.0f frames/s including it\n",
                  r.read_seconds, r.frames / (r.read_seconds + r.wall_seconds));
    o << line;
  }
  if (r.recorded) {
    std::snprintf(line, sizeof line, "  recording: %llu frames in %zu segment(s)%s%s\n",
                  (unsigned long long)r.recording.frames, r.recording.files.size(),
                  r.recording.dropped_frames ? ", INCOMPLETE: dropped " : "",
                  r.recording.dropped_frames ? std::to_string(r.recording.dropped_frames).c_str() : "");
    o << line;
  }
  std::snprintf(
      line, sizeof line,
      "  book: updates %llu  checks %llu/%llu agree  gaps %llu  duplicates %llu  resyncs %llu  crossed %llu\n",
      (unsigned long long)r.book_updates, (unsigned long long)(r.book_checks - r.book_mismatches),
      (unsigned long long)r.book_checks, (unsigned long long)r.gaps, (unsigned long long)r.duplicates,
      (unsigned long long)r.resyncs, (unsigned long long)r.crossed);
  o << line;
  // A run over several venues (Binance spot and USD-M captures) names each book's venue: BTCUSDT is two books.
  const bool several_venues =
      std::any_of(r.books.begin(), r.books.end(), [&](const InstrumentBookStats& b) { return b.venue != r.books.front().venue; });
  for (const InstrumentBookStats& b : r.books) {
    const std::string name = several_venues ? b.venue + " " + b.symbol : b.symbol;
    std::snprintf(line, sizeof line,
                  "    %-*s %s  snapshots %llu  updates %llu  checks %llu/%llu agree  quotes not compared %llu  gaps "
                  "%llu  resyncs %llu\n",
                  several_venues ? 26 : 12, name.c_str(), b.synced ? "synced    " : "not synced", (unsigned long long)b.snapshots,
                  (unsigned long long)b.updates, (unsigned long long)(b.checks - b.mismatches),
                  (unsigned long long)b.checks, (unsigned long long)b.quotes_uncompared, (unsigned long long)b.gaps,
                  (unsigned long long)b.resyncs);
    o << line;
  }
  if (r.book_checks != 0) {
    std::snprintf(
        line, sizeof line,
        "  checks: %llu venue top-of-book quotes compared with our book at the same update id; %llu not compared\n",
        (unsigned long long)r.book_checks, (unsigned long long)r.quotes_uncompared);
    o << line;
  } else {
    o << "  book: nothing could be verified (no venue top-of-book quote met our book at its update id)\n";
  }
  if (r.unmapped_snapshots != 0)
    o << "  book: " << r.unmapped_snapshots
      << " REST depth snapshot(s) skipped: neither their URL nor their file names one symbol\n";
  std::snprintf(line, sizeof line,
                "  signals %llu  orders %llu  fills %llu  risk rejects %llu  pricing rejects %llu  cancels %llu\n",
                (unsigned long long)r.intents, (unsigned long long)c.orders, (unsigned long long)c.fills,
                (unsigned long long)c.risk_rejects, (unsigned long long)c.pricing_rejects,
                (unsigned long long)c.cancels);
  o << line;
  if (c.exec_children != 0 || c.exec_children_cancelled != 0)
    o << "  execution: " << c.exec_children << " sliced children sent, " << c.exec_children_cancelled
      << " never sent (parent ended first)\n";
  if (c.native_icebergs != 0 || c.native_iceberg_unfit != 0)
    o << "  iceberg: " << c.native_icebergs << " sent as the venue's own, " << c.native_iceberg_unfit
      << " sliced (outside the venue's iceberg rules)\n";
  std::string reasons;
  for (int k = 1; k < risk::kRejectReasonCount; ++k) {
    const auto reason = static_cast<risk::RejectReason>(k);
    if (const auto n = core.risk().reject_count(reason))
      reasons += " " + std::string(risk::to_string(reason)) + "=" + std::to_string(n);
  }
  if (!reasons.empty()) o << "  risk rejects by reason:" << reasons << "\n";
  if (c.emergency_stops != 0) {
    o << "  EMERGENCY STOP: cause "
      << to_string(core.emergency_cause() != EmergencyCause::none ? core.emergency_cause() : EmergencyCause::none)
      << " (" << c.emergency_stops << " in this run); see logs/enigma.log\n";
  }
  o << "  round trips " << c.round_trips << " (" << c.losing_trips
    << " losing)  lifecycle at end: " << to_string(core.lifecycle())
    << "  positions left unprotected: " << core.unprotected_positions() << "\n";
  o << "  P&L net of fees and funding: " << (equity - initial).to_string(2) << "  (fees "
    << core.account().fees_paid.to_string(2) << ", funding " << core.account().funding_paid.to_string(2)
    << ", max drawdown " << core.max_drawdown().to_string(2) << ")\n";
  {  // per instrument and the strategy instance trading it (their nets sum to the line above)
    const std::vector<StrategyInstance> all = in.config->strategy_instances();
    const auto owner = strategy_by_instrument(all, core.traded_count());
    for (std::size_t i = 0; i < core.traded_count(); ++i) {
      const auto f = core.figures(static_cast<InstrumentId>(i));
      const std::string who = owner[i] ? "strategy " + std::to_string(owner[i]->common().strategy_id) + " " +
                                             std::string(to_string_kind(owner[i]->kind))
                                       : std::string("no strategy");
      std::snprintf(line, sizeof line,
                    "    %-12s %-26s orders %llu  fills %llu  round trips %llu  net P&L %s  (fees %s)\n",
                    std::string(in.registry->get(static_cast<InstrumentId>(i)).symbol.view()).c_str(), who.c_str(),
                    (unsigned long long)f.orders, (unsigned long long)f.fills, (unsigned long long)f.round_trips,
                    f.net.to_string(2).c_str(), f.fees.to_string(2).c_str());
      o << line;
    }
  }
  for (std::size_t i = 0; in.strategies != nullptr && i < in.strategies->size(); ++i) {  // confluence regimes
    const auto* st = std::get_if<strategy::ConfluenceStrategy>(&in.strategies->at(i));
    if (st == nullptr) continue;
    for (std::size_t tf = 0; tf < st->timeframe_count(); ++tf) {
      const strategy::RegimeStats& rs = st->regime_stats(tf);
      o << "    strategy " << st->id() << " regimes (" << st->timeframe_s(tf) << " s bars):";
      for (std::size_t r = 0; r < strategy::kRegimeCount; ++r)
        o << " " << strategy::regime_key(static_cast<strategy::Regime>(r)) << " " << rs.bars[r];
      o << "  changes " << rs.changes << "\n";
    }
    if (st->timeframe_count() > 1 && st->combined_ready()) {  // the multi-timeframe view
      const strategy::AlignmentStats& as = st->alignment_stats();
      const strategy::MultiTimeframeSignal& m = st->combined();
      std::snprintf(line, sizeof line, "    strategy %u alignment: full %llu  partial %llu  divergent %llu  changes %llu; last %s score %+.1f (",
                    static_cast<unsigned>(st->id()), (unsigned long long)as.decisions[0], (unsigned long long)as.decisions[1],
                    (unsigned long long)as.decisions[2], (unsigned long long)as.changes, strategy::to_string(m.alignment), m.score);
      o << line;
      for (std::size_t tf = 0; tf < st->timeframe_count(); ++tf) {
        std::snprintf(line, sizeof line, "%s%u s %+.1f", tf ? ", " : "", st->timeframe_s(tf), st->last_signal(tf).score);
        o << line;
      }
      o << ")\n";
    }
  }
  if (in.strategies != nullptr && in.strategies->selector().active()) {  // [selector]: who got the entries
    const strategy::Selector& sel = in.strategies->selector();
    o << "  selector " << strategy::to_string(sel.kind()) << (sel.learns() ? " (weights x realized accuracy)" : "")
      << ": entries lapsed unfilled " << sel.lapsed() << "\n";
    for (const auto& a : sel.arms()) {
      std::snprintf(line, sizeof line,
                    "    strategy %-4u entries %llu  round trips %llu (%llu won)  mean reward %.6g  intents held back %llu%s\n",
                    static_cast<unsigned>(a.strategy_id), (unsigned long long)a.entries, (unsigned long long)a.trips,
                    (unsigned long long)a.wins, a.mean(), (unsigned long long)a.suppressed,
                    sel.kind() == strategy::SelectorConfig::Kind::committee
                        ? ("  vote weight " + std::to_string(sel.vote_weight(a))).c_str()
                        : "");
      o << line;
    }
  }
  {
    const LatencyUsed u = latency_used(in);
    std::snprintf(line, sizeof line, "  order latency: %s, %llu messages, p50 %.1f us  p99 %.1f us  max %.1f us\n",
                  u.order_describe.c_str(), (unsigned long long)u.order_count, us(u.order_p50), us(u.order_p99),
                  us(u.order_max));
    o << line;
    if (u.feed_model == "capture") {
      std::snprintf(line, sizeof line,
                    "  feed latency: capture, %llu frames (%llu without exchange time), p50 %.1f us  p99 %.1f us  max "
                    "%.1f us (clock offset %.3f ms)\n",
                    (unsigned long long)u.feed_frames, (unsigned long long)u.feed_frames_without_time, us(u.feed_p50),
                    us(u.feed_p99), us(u.feed_max), static_cast<double>(u.feed_offset) / 1e6);
      o << line;
    } else if (u.feed_model == "constant") {
      std::snprintf(line, sizeof line, "  feed latency: constant %.1f us\n", us(u.feed_p50));
      o << line;
    }
  }
  o << "  latency (ns)             count      p50      p90      p99    p99.9      max\n";
  for (const auto& s : stages_of(r.hist)) {
    if (s.h->count() == 0) continue;
    std::snprintf(line, sizeof line, "    %-20s %9llu %8lld %8lld %8lld %8lld %8lld\n", s.name.c_str(),
                  (unsigned long long)s.h->count(), (long long)s.h->percentile(50), (long long)s.h->percentile(90),
                  (long long)s.h->percentile(99), (long long)s.h->percentile(99.9), (long long)s.h->max_value());
    o << line;
  }
  o << "  run directory: " << dir << "  (report.html, summary.json, metrics.json, trades.csv, round_trips.csv, equity.csv, *.hgrm, logs/enigma.log)\n";
  for (const std::string& w : data_warnings(in)) o << "  WARN: " << w << "\n";
  return o.str();
}

void log_data_warnings(const RunSummaryInput& in) {
  const PipelineResult& r = *in.result;
  const std::string venue(to_string(in.config->venue));
  if (r.frames > 0 && r.events == 0)
    ENIGMA_LOG_WARN("engine", "the {} decoder produced no events from {} frame(s): files from another venue?", venue,
                    r.frames);
  if (r.frames > 0 && r.book_checks == 0)
    ENIGMA_LOG_WARN(
        "engine",
        "book: nothing could be verified: no venue top-of-book quote met our book at its update id ({} not compared)",
        r.quotes_uncompared);
  for (std::size_t i = 0; i < in.config->instruments.size(); ++i) {
    if (in.core->saw_market(static_cast<InstrumentId>(i))) continue;
    const std::string sym(in.config->instruments[i].spec.symbol.view());
    ENIGMA_LOG_WARN("engine", "no market data for instrument '{}' on {}: the symbol is absent from the data", sym,
                    venue);
  }
}

std::vector<std::string> data_warnings(const RunSummaryInput& in) {
  std::vector<std::string> out;
  const PipelineResult& r = *in.result;
  const std::string venue(to_string(in.config->venue));
  if (r.frames > 0 && r.events == 0) {
    out.push_back("the " + venue + " decoder produced no events from " + std::to_string(r.frames) +
                  " frame(s): are the files from another venue? (--venue / [replay] venue)");
  }
  for (std::size_t i = 0; i < in.config->instruments.size(); ++i) {
    if (in.core->saw_market(static_cast<InstrumentId>(i))) continue;
    out.push_back("no market data for instrument '" + std::string(in.config->instruments[i].spec.symbol.view()) +
                  "' on " + venue + ": the symbol is absent from the data, so nothing traded it");
  }
  return out;
}

void write_failed_summary(const std::string& run_dir, std::string_view mode, std::string_view error) {
  const std::string path = run_dir + "/summary.json";
  if (::access(path.c_str(), F_OK) == 0) return;
  std::string text = "{\n  \"mode\": \"" + std::string(mode) + "\",\n  \"failed\": true,\n  \"error\": \"";
  for (const char c : error) {
    if (static_cast<unsigned char>(c) < 0x20) {  // JSON allows no raw control characters in a string
      text += ' ';
      continue;
    }
    if (c == '"' || c == '\\') text += '\\';
    text += c;
  }
  text += "\"\n}\n";
  std::ofstream(path) << text;
}

}  // namespace enigma::engine
