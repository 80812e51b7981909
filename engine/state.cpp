#include "engine/state.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/logger.hpp"
#include "engine/run_output.hpp"
#include "engine/trading_core.hpp"

namespace enigma::engine {

std::string default_state_dir(std::string_view mode, Venue venue) {
  return "state/" + std::string(mode) + "-" + std::string(to_string(venue));
}

StateDirLock::StateDirLock(std::string dir) : dir_(std::move(dir)) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) throw Error("state directory '" + dir_ + "': cannot create it: " + ec.message());
  const std::string lock_path = dir_ + "/lock";
  fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw Error("state directory '" + dir_ + "': cannot open " + lock_path + ": " + std::strerror(errno));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    // Whoever holds the lock wrote its pid into the file once it had it.
    char buf[32]{};
    const ssize_t n = ::pread(fd_, buf, sizeof buf - 1, 0);
    std::string holder = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
    ::close(fd_);
    fd_ = -1;
    if (err == EWOULDBLOCK) {
      throw Error("state directory '" + dir_ + "' is in use by another enigma" +
                  (holder.empty() ? std::string() : " (pid " + holder + ")") +
                  "; one engine per account and venue: stop it, or give this run its own [state] dir");
    }
    throw Error("state directory '" + dir_ + "': cannot lock " + lock_path + ": " + std::strerror(err));
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    // The lock holds without the pid; only the message of a refused second engine is poorer.
    ENIGMA_LOG_WARN("engine", "state directory {}: could not write our pid into the lock file: {}", dir_,
                    std::strerror(errno));
  }
}

StateDirLock::~StateDirLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the flock; the file stays (a stale pid in it is harmless)
}

namespace {
std::string side_name(Side s) { return s == Side::buy ? "buy" : "sell"; }

// Start-up lines are longer than a hot-path record holds; they go through the logger's text path.
template <class... A>
void log_resume(LogLevel level, fmt::format_string<A...> f, A&&... args) {
  if (Logger* l = Logger::global()) l->write_text(level, "resume", fmt::format(f, std::forward<A>(args)...));
}
}  // namespace

std::string write_resume_report(TradingCore& core, const InstrumentRegistry& registry, const std::string& run_dir,
                                const std::string& state_dir, std::string_view mode, bool simulated_exchange,
                                std::int64_t now_ns) {
  oms::OrderManager& om = core.order_manager();
  const std::string next_id(core.peek_next_client_id().view());
  auto symbol = [&](InstrumentId id) {
    return id < registry.size() ? std::string(registry.get(id).symbol.view()) : "instrument#" + std::to_string(id);
  };
  // The OMS rebuilt only what may still be live at the venue; finished orders stay history in the journal.
  std::size_t working = 0;
  std::string orders_json, positions_json;
  for (const oms::OrderState& o : om.orders()) {
    if (!oms::is_working(o.status)) continue;
    ++working;
    log_resume(LogLevel::info, "open order {} {} {} qty={} filled={} status={}", o.client_id().view(),
                    symbol(o.spec.req.instrument), side_name(o.spec.req.side), o.spec.req.qty.to_string(),
                    o.filled.to_string(), oms::to_string(o.status));
    orders_json += std::string(orders_json.empty() ? "" : ",") + "\n    {\"client_id\": \"" +
                   std::string(o.client_id().view()) + "\", \"symbol\": \"" + symbol(o.spec.req.instrument) +
                   "\", \"side\": \"" + side_name(o.spec.req.side) + "\", \"qty\": \"" + o.spec.req.qty.to_string() +
                   "\", \"filled\": \"" + o.filled.to_string() + "\", \"status\": \"" +
                   std::string(oms::to_string(o.status)) + "\"}";
  }
  std::size_t open_positions = 0;
  for (const oms::Position& p : om.positions()) {
    if (!p.is_open()) continue;
    ++open_positions;
    log_resume(LogLevel::info, "open position #{} {} {} qty={} avg_entry={} stop={}", p.id, symbol(p.instrument),
                    p.side == Side::buy ? "long" : "short", p.qty.to_string(), p.avg_entry().to_string(),
                    p.stop_price.to_string());
    positions_json += std::string(positions_json.empty() ? "" : ",") + "\n    {\"id\": " + std::to_string(p.id) +
                      ", \"symbol\": \"" + symbol(p.instrument) + "\", \"side\": \"" +
                      (p.side == Side::buy ? "long" : "short") + "\", \"qty\": \"" + p.qty.to_string() +
                      "\", \"avg_entry\": \"" + p.avg_entry().to_string() + "\", \"stop\": \"" +
                      p.stop_price.to_string() + "\"}";
  }
  const std::size_t orders_canceled_at_start = simulated_exchange ? core.cancel_orders_unknown_to_simulator(now_ns) : 0;
  log_resume(LogLevel::info, "journal_resumed state={} working_orders={} open_positions={} next_client_counter={} next_client_id={}",
                  log_quote(state_dir), working, open_positions, om.next_client_counter(), next_id);
  if (orders_canceled_at_start != 0)
    log_resume(LogLevel::warn, "{} working order(s) from the journal are not at the simulated exchange (it starts empty): resolved canceled",
                    orders_canceled_at_start);
  if (simulated_exchange && open_positions != 0)
    log_resume(LogLevel::warn, "the simulated exchange starts flat at [sim] initial_balance: the {} journal position(s) above are not carried into this paper run",
               open_positions);
  std::string json = "{\n  \"mode\": \"" + std::string(mode) + "\",\n  \"state_dir\": \"" + json_escape(state_dir) +
                     "\",\n  \"next_client_counter\": " +
                     std::to_string(om.next_client_counter()) + ",\n  \"next_client_id\": \"" + next_id +
                     "\",\n  \"working_orders_at_start\": [" + orders_json + (orders_json.empty() ? "" : "\n  ") +
                     "],\n  \"orders_canceled_at_start\": " + std::to_string(orders_canceled_at_start) +
                     ",\n  \"open_positions\": [" + positions_json + (positions_json.empty() ? "" : "\n  ") + "]\n}\n";
  const std::string path = run_dir + "/reconciliation.json";
  std::ofstream out(path);
  out << json;
  if (!out) throw Error("cannot write " + path);
  return json;
}

}  // namespace enigma::engine

namespace enigma::engine {

namespace {

// unknown_orders = "adopt": the venue's order as one of ours (journaled, then tracked by the engine).
// Returns "" when adopted, else why not.
std::string adopt(TradingCore& core, const InstrumentRegistry& registry, Venue venue, const VenueOrder& v,
                  std::int64_t now_ns) {
  const auto inst = registry.find(venue, v.symbol);
  if (!inst || *inst >= core.traded_count()) return "not an instrument this engine trades";
  const auto cid = oms::ClientOrderId::from(v.client_id);
  if (!cid.ok() || v.client_id.empty()) return "its client id does not fit ours";
  oms::OrderSpec spec{};
  spec.req.client_id = cid.value;
  spec.req.instrument = *inst;
  spec.req.venue = venue;
  if (v.side != "BUY" && v.side != "SELL") return "unknown side";
  spec.req.side = v.side == "BUY" ? Side::buy : Side::sell;
  const auto qty = Qty::parse(v.qty);
  if (!qty.ok() || qty.value.raw() <= 0) return "bad origQty";
  spec.req.qty = qty.value;
  const auto price = Price::parse(v.price.empty() ? "0" : v.price);
  const auto stop = Price::parse(v.stop_price.empty() ? "0" : v.stop_price);
  if (!price.ok() || !stop.ok()) return "bad price or stopPrice";
  if (v.type == "LIMIT") {
    spec.req.type = risk::OrderType::limit;
    spec.req.price = price.value;
  } else if (v.type == "STOP_MARKET") {
    spec.req.type = risk::OrderType::stop_market;
    spec.req.stop_price = stop.value;
  } else if (v.type == "TAKE_PROFIT_MARKET") {
    spec.req.type = risk::OrderType::take_profit_market;
    spec.req.stop_price = stop.value;
  } else {
    return "order type " + v.type + " is not one the engine manages";
  }
  spec.req.tif = v.tif == "IOC" ? risk::TimeInForce::ioc : risk::TimeInForce::gtc;
  spec.req.reduce_only = v.reduce_only;
  spec.req.reference_price = spec.req.type == risk::OrderType::limit ? price.value : stop.value;
  const auto executed = Qty::parse(v.executed.empty() ? "0" : v.executed);
  if (!executed.ok()) return "bad executedQty";
  return core.adopt_venue_order(spec, executed.value, now_ns) ? "" : "the order table or the journal refused it";
}

}  // namespace

LiveReconciliation reconcile_live(TradingCore& core, const InstrumentRegistry& registry, VenueQueries& venue,
                                  UnknownOrderPolicy policy, const std::string& run_dir, std::int64_t now_ns) {
  LiveReconciliation out;

  // 1. Open orders at the venue (every symbol).
  const std::vector<VenueOrder> venue_orders = venue.open_orders();
  out.venue_open_orders = venue_orders.size();
  std::string json = ",\n  \"venue\": {\n    \"open_orders\": " + std::to_string(venue_orders.size());

  // 1b. Fee rates, before any query: the venue's order answers carry no fee (Binance, KuCoin; KuCoin's fills
  // neither), so a fill found by a query is priced at the account's own rate, per traded instrument.
  std::string fees_json;
  for (std::size_t i = 0; i < core.traded_count(); ++i) {
    const auto id = static_cast<InstrumentId>(i);
    const std::optional<oms::FeeRates> r = venue.fee_rates(id);
    if (!r) continue;
    const std::string_view symbol = registry.get(id).symbol.view();
    log_resume(LogLevel::info, "venue: fee rates {} maker {} taker {}: a fill without the venue's fee is priced at the rate of its side",
               symbol, r->maker.to_string(), r->taker.to_string());
    fees_json += std::string(fees_json.empty() ? "" : ",") + "\n      {\"symbol\": \"" + std::string(symbol) + "\", \"maker\": \"" +
                 r->maker.to_string() + "\", \"taker\": \"" + r->taker.to_string() + "\"}";
  }
  if (!fees_json.empty()) json += ",\n    \"fee_rates\": [" + fees_json + "\n    ]";

  // 2. Our journal's working orders: still open there, or resolved by a query.
  oms::OrderManager& om = core.order_manager();
  std::vector<oms::ExecReport> answers;
  std::string resolved_json;
  for (oms::OrderState& o : om.orders()) {
    if (!oms::is_working(o.status)) continue;
    const std::string id(o.client_id().view());
    bool open = false;
    for (const auto& v : venue_orders) open = open || v.client_id == id;
    if (open) {
      ++out.matched;
      log_resume(LogLevel::info, "venue: our order {} is open at the venue", id);
      continue;
    }
    oms::RestAnswer a;
    std::string why;
    if (!venue.query(o, a, why)) {
      log_resume(LogLevel::error, "venue: our order {} is not open at the venue and its query failed ({}); it stays {}",
                 id, why, oms::to_string(o.status));
      continue;
    }
    answers.push_back(a.report);
  }
  // Applied after the scan: a report may pair or move OCO state of other orders in the table.
  for (oms::ExecReport& r : answers) {
    r.venue_time_ns = now_ns;
    const auto sibling = core.apply_venue_status(r, now_ns);
    const oms::OrderState* o = core.order(r.client_id);
    const std::string status(o != nullptr ? oms::to_string(o->status) : "?");
    ++out.resolved;
    log_resume(LogLevel::warn, "venue: our order {} was no longer open at the venue: {} (filled {}, fees {}), applied to the journal",
               r.client_id.view(), status, r.cum_qty.to_string(), o != nullptr ? o->fees.to_string() : std::string("?"));
    if (sibling) log_resume(LogLevel::warn, "venue: its OCO sibling {} is cancelled (the request leaves when the gateway starts)", sibling->view());
    resolved_json += std::string(resolved_json.empty() ? "" : ",") + "\n      {\"client_id\": \"" +
                     std::string(r.client_id.view()) + "\", \"status\": \"" + status + "\", \"filled\": \"" +
                     r.cum_qty.to_string() + "\"}";
  }
  json += ",\n    \"matched\": " + std::to_string(out.matched) + ",\n    \"resolved\": [" + resolved_json +
          (resolved_json.empty() ? "" : "\n    ") + "]";

  // 3. Orders at the venue we never sent.
  std::string unknown_json;
  for (const auto& v : venue_orders) {
    const auto cid = oms::ClientOrderId::from(v.client_id);
    if (cid.ok() && core.order(cid.value) != nullptr) continue;
    ++out.unknown_orders;
    bool canceled = false;
    bool adopted = false;
    std::string not_adopted;
    if (policy == UnknownOrderPolicy::adopt) {
      not_adopted = adopt(core, registry, venue.venue(), v, now_ns);
      adopted = not_adopted.empty();
      if (adopted) ++out.unknown_adopted;
    }
    if (policy == UnknownOrderPolicy::cancel) {
      std::string why;
      canceled = venue.cancel(v, why);
      if (canceled) ++out.unknown_canceled;
      else log_resume(LogLevel::error, "venue: cancelling unknown order {} failed ({})", v.order_id, why);
    }
    log_resume(LogLevel::warn, "venue: order {} (client id {}) {} {} qty={} {} is open at the venue but not in our journal: {}",
               v.order_id, v.client_id, v.symbol, v.side, v.qty, v.status,
               canceled                                 ? std::string("cancelled")
               : adopted                                ? std::string("adopted: journaled and managed as ours")
               : policy == UnknownOrderPolicy::cancel   ? std::string("cancel FAILED")
               : policy == UnknownOrderPolicy::adopt    ? "not adopted (" + not_adopted + "), reported, left working"
                                                        : std::string("reported, left working"));
    // Binance's ids are numbers, KuCoin's strings: each as the venue writes it.
    const bool numeric = !v.order_id.empty() && v.order_id.find_first_not_of("0123456789") == std::string::npos;
    const std::string order_id = numeric ? v.order_id : "\"" + json_escape(v.order_id) + "\"";
    unknown_json += std::string(unknown_json.empty() ? "" : ",") + "\n      {\"order_id\": " + order_id +
                    ", \"client_id\": \"" + json_escape(v.client_id) + "\", \"symbol\": \"" + json_escape(v.symbol) +
                    "\", \"side\": \"" + json_escape(v.side) + "\", \"qty\": \"" + json_escape(v.qty) + "\", \"canceled\": " + (canceled ? "true" : "false") +
                    ", \"adopted\": " + (adopted ? "true" : "false") + "}";
  }
  json += ",\n    \"unknown_orders\": [" + unknown_json + (unknown_json.empty() ? "" : "\n    ") + "]";

  // 4. Positions: the venue's is the truth.
  std::string positions_json;
  for (std::size_t i = 0; i < core.traded_count(); ++i) {
    const auto id = static_cast<InstrumentId>(i);
    const std::string_view symbol = registry.get(id).symbol.view();
    const auto [venue_qty, entry] = venue.position(symbol);
    Qty ours{};  // the journal's open positions, signed
    for (const oms::Position& p : om.positions())
      if (p.is_open() && p.instrument == id) ours += p.side == Side::buy ? p.qty : -p.qty;
    if (ours != venue_qty) {
      ++out.position_differences;
      log_resume(LogLevel::warn, "venue: position {} is {} at the venue, {} in our journal: the venue's is taken", symbol,
                 venue_qty.to_string(), ours.to_string());
    } else {
      log_resume(LogLevel::info, "venue: position {} is {} at the venue and in our journal", symbol, venue_qty.to_string());
    }
    core.set_venue_position(id, venue_qty, entry);
    positions_json += std::string(positions_json.empty() ? "" : ",") + "\n      {\"symbol\": \"" + std::string(symbol) +
                      "\", \"venue\": \"" + venue_qty.to_string() + "\", \"journal\": \"" + ours.to_string() +
                      "\", \"entry_price\": \"" + entry.to_string() + "\"}";
  }
  json += ",\n    \"positions\": [" + positions_json + (positions_json.empty() ? "" : "\n    ") + "]";

  // 5. Balance: the venue's wallet balance of the settlement asset.
  out.balance = venue.balance();
  core.set_venue_balance(out.balance);
  log_resume(LogLevel::info, "venue: wallet balance {} USDT replaces [sim] initial_balance", out.balance.to_string());
  json += ",\n    \"balance\": \"" + out.balance.to_string() + "\"\n  }\n}\n";

  // Into the resume report written at set-up: its closing brace is replaced by the venue section.
  const std::string path = run_dir + "/reconciliation.json";
  std::string text;
  {
    std::ifstream in(path);
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  const auto close = text.rfind('}');
  text = (close == std::string::npos ? "{\n" : text.substr(0, close == 0 ? 0 : text.find_last_not_of("\n", close - 1) + 1)) + json;
  std::ofstream o(path, std::ios::trunc);
  o << text;
  if (!o) throw Error("cannot write " + path);
  log_resume(LogLevel::info, "reconciliation venue_open_orders={} ours_open={} resolved={} unknown={} unknown_canceled={} unknown_adopted={} position_differences={}",
             out.venue_open_orders, out.matched, out.resolved, out.unknown_orders, out.unknown_canceled, out.unknown_adopted,
             out.position_differences);
  return out;
}

}  // namespace enigma::engine
