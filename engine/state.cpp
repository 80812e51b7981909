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
#include <simdjson.h>

#include "core/error.hpp"
#include "core/logger.hpp"
#include "engine/live_gateway.hpp"
#include "engine/run_output.hpp"
#include "engine/trading_core.hpp"
#include "oms/venues/binance_futures.hpp"
#include "oms/venues/binance_futures_user.hpp"
#include "oms/venues/bybit_linear.hpp"
#include "oms/venues/bybit_linear_user.hpp"
#include "oms/venues/okx_swap.hpp"
#include "oms/venues/okx_swap_user.hpp"
#include "oms/venues/kucoin_futures.hpp"
#include "oms/venues/kucoin_futures_user.hpp"

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

// One signed request on the gateway's connection; the body of a 200, else an Error naming what failed.
std::string venue_get(LiveGateway& gateway, oms::binance_futures::Encoder& enc, std::string_view path,
                      std::string_view params, int& status, bool del = false) {
  char req[2048];
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch());
  const auto n = enc.encode_signed(del, path, params, ms.count(), req, sizeof req);
  if (!n.ok()) throw Error("reconciliation: cannot encode " + std::string(path) + " (" + std::string(to_string(n.error)) + ")");
  std::string body;
  status = gateway.call(std::string_view(req, n.value), body);
  return body;
}

std::string require_ok(LiveGateway& gateway, oms::binance_futures::Encoder& enc, std::string_view path, std::string_view params = {}) {
  int status = 0;
  std::string body = venue_get(gateway, enc, path, params, status);
  if (status != 200)
    throw Error("reconciliation: GET " + std::string(path) + (params.empty() ? "" : "?") + std::string(params) + " answered HTTP " +
                std::to_string(status) + ": " + body.substr(0, 200) +
                " (start-up needs the venue's orders, positions, fee rates and balance before trading)");
  return body;
}

std::string_view field(simdjson::dom::element e, const char* key) {
  std::string_view v;
  if (e[key].get(v) != simdjson::SUCCESS) return {};
  return v;
}

class BinanceUsdmQueries final : public VenueQueries {
 public:
  BinanceUsdmQueries(LiveGateway& g, oms::binance_futures::Encoder& e, const InstrumentRegistry& r)
      : gateway_(g), enc_(e), registry_(r), decoder_(r, Venue::binance_usdm) {}
  Venue venue() const noexcept override { return Venue::binance_usdm; }
  std::string_view open_orders_endpoint() const noexcept override { return "GET /fapi/v1/openOrders"; }

  std::vector<VenueOrder> open_orders() override {
    std::vector<VenueOrder> out;
    for (simdjson::dom::element o : array(require_ok(gateway_, enc_, "/fapi/v1/openOrders"), "GET /fapi/v1/openOrders")) {
      VenueOrder v{std::string(field(o, "clientOrderId")), std::string(field(o, "symbol")), std::string(field(o, "side")),
                   std::string(field(o, "origQty")), std::string(field(o, "status")), std::string(field(o, "type")),
                   std::string(field(o, "price")), std::string(field(o, "stopPrice")), std::string(field(o, "executedQty")),
                   std::string(field(o, "timeInForce"))};
      bool reduce = false;
      if (o["reduceOnly"].get(reduce) == simdjson::SUCCESS) v.reduce_only = reduce;
      std::uint64_t id = 0;
      if (o["orderId"].get(id) == simdjson::SUCCESS) v.order_id = std::to_string(id);
      out.push_back(std::move(v));
    }
    return out;
  }
  bool query(const oms::OrderState& o, oms::RestAnswer& a, std::string& why) override {
    const std::string id(o.client_id().view());
    const std::string symbol(registry_.get(o.spec.req.instrument).symbol.view());
    int status = 0;
    const std::string body = venue_get(gateway_, enc_, "/fapi/v1/order", "symbol=" + symbol + "&origClientOrderId=" + id, status);
    if (decoder_.decode_rest(oms::RestRequest::query, status, body, o.client_id(), o.spec.req.instrument, a) != Errc::ok || a.unknown) {
      why = "HTTP " + std::to_string(status) + ": " + body.substr(0, 200);
      return false;
    }
    return true;
  }
  bool cancel(const VenueOrder& v, std::string& why) override {
    int status = 0;
    const std::string body = venue_get(gateway_, enc_, "/fapi/v1/order", "symbol=" + v.symbol + "&orderId=" + v.order_id, status, true);
    if (status == 200) return true;
    why = "HTTP " + std::to_string(status) + ": " + body.substr(0, 200);
    return false;
  }
  std::pair<Qty, Price> position(std::string_view symbol) override {
    if (!positions_loaded_) {
      positions_body_ = require_ok(gateway_, enc_, "/fapi/v2/positionRisk");
      positions_loaded_ = true;
    }
    std::pair<Qty, Price> out{};
    for (simdjson::dom::element p : array(positions_body_, "GET /fapi/v2/positionRisk")) {
      if (field(p, "symbol") != symbol) continue;
      const auto q = Qty::parse(field(p, "positionAmt"));
      const auto e = Price::parse(field(p, "entryPrice"));
      if (!q.ok() || !e.ok()) throw Error("reconciliation: bad positionAmt/entryPrice for " + std::string(symbol));
      out = {q.value, e.value};
    }
    return out;
  }
  Notional balance() override {
    for (simdjson::dom::element b : array(require_ok(gateway_, enc_, "/fapi/v2/balance"), "GET /fapi/v2/balance")) {
      if (field(b, "asset") != "USDT") continue;
      const auto v = Notional::parse(field(b, "balance"));
      if (!v.ok()) throw Error("reconciliation: bad USDT balance in GET /fapi/v2/balance");
      return v.value;
    }
    throw Error("reconciliation: GET /fapi/v2/balance has no USDT balance");
  }
  // Each stream fill carries its commission ("n"); an order answer does not, so a fill found by a query is
  // priced at these (the gateway's decoder for the reconnect's queries, ours for the start-up's).
  std::optional<oms::FeeRates> fee_rates(InstrumentId instrument) override {
    const std::string symbol(registry_.get(instrument).symbol.view());
    const oms::FeeRates r = oms::binance_futures::parse_commission_rate(
        require_ok(gateway_, enc_, "/fapi/v1/commissionRate", "symbol=" + symbol), symbol);
    decoder_.set_fee_rates(instrument, r);
    gateway_.set_fee_rates(instrument, r);
    return r;
  }

 private:
  simdjson::dom::array array(const std::string& body, std::string_view what) {
    simdjson::dom::element doc;
    if (parser_.parse(body).get(doc) != simdjson::SUCCESS || !doc.is_array())
      throw Error("reconciliation: " + std::string(what) + " is not a JSON array: " + body.substr(0, 200));
    return doc.get_array().value();
  }
  LiveGateway& gateway_;
  oms::binance_futures::Encoder& enc_;
  const InstrumentRegistry& registry_;
  oms::binance_futures::UserStreamDecoder decoder_;
  simdjson::dom::parser parser_;
  std::string positions_body_;
  bool positions_loaded_{false};
};

// Signed requests of the start-up queries, sent with gateway.call() (KuCoin Futures, Bybit: their encoders
// write a complete signed HTTP request from method, endpoint and body).
template <class Encoder>
class SignedRequests {
 protected:
  SignedRequests(LiveGateway& g, Encoder& e) : gateway_(g), enc_(e) {}
  std::string send(std::string_view method, const std::string& endpoint, int& status, const std::string& body = {}) {
    char req[2048];
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch());
    const auto n = enc_.encode_request(method, endpoint, body, ms.count(), req, sizeof req);
    if (!n.ok()) throw Error("reconciliation: cannot encode " + endpoint + " (" + std::string(to_string(n.error)) + ")");
    std::string answer;
    status = gateway_.call(std::string_view(req, n.value), answer);
    return answer;
  }
  // GET `endpoint`: the body of a 200, else an Error naming the answer (its code is checked by the parser).
  std::string require_ok(const std::string& endpoint) {
    int status = 0;
    std::string body = send("GET", endpoint, status);
    if (status != 200)
      throw Error("reconciliation: GET " + endpoint + " answered HTTP " + std::to_string(status) + ": " + body.substr(0, 200) +
                  " (start-up needs the venue's orders, positions, fee rates and balance before trading)");
    return body;
  }

  LiveGateway& gateway_;
  Encoder& enc_;
};

// The order type of a venue's open order in the names VenueOrder carries (Binance's, as adopt() reads them).
std::string venue_order_type(risk::OrderType t) {
  switch (t) {
    case risk::OrderType::limit: return "LIMIT";
    case risk::OrderType::market: return "MARKET";
    case risk::OrderType::stop_market: return "STOP_MARKET";
    case risk::OrderType::take_profit_market: return "TAKE_PROFIT_MARKET";
    default: return std::string(risk::to_string(t));
  }
}

class KucoinFuturesQueries final : public VenueQueries, private SignedRequests<oms::kucoin_futures::Encoder> {
 public:
  KucoinFuturesQueries(LiveGateway& g, oms::kucoin_futures::Encoder& e, const InstrumentRegistry& r)
      : SignedRequests(g, e), registry_(r), decoder_(r, Venue::kucoin_futures) {}
  Venue venue() const noexcept override { return Venue::kucoin_futures; }
  std::string_view open_orders_endpoint() const noexcept override { return "GET /api/v1/orders?status=active"; }

  std::vector<VenueOrder> open_orders() override {
    std::vector<VenueOrder> out;
    // Working limit orders, then untriggered stops (a separate list at KuCoin), each page of each.
    for (const std::string_view path : {std::string_view("/api/v1/orders?status=active&"), std::string_view("/api/v1/stopOrders?")}) {
      oms::kucoin_futures::OpenOrderPage page{};
      for (int n = 1; n <= 100; ++n) {
        const std::string endpoint = std::string(path) + "pageSize=1000&currentPage=" + std::to_string(n);
        for (const oms::kucoin_futures::OpenOrder& o : oms::kucoin_futures::parse_open_orders(require_ok(endpoint), registry_, Venue::kucoin_futures, &page)) {
          VenueOrder v;
          v.client_id = std::string(o.client_id.view());
          v.symbol = o.symbol;
          v.side = o.side == Side::buy ? "BUY" : "SELL";
          v.qty = o.qty.to_string();
          v.status = "open";
          v.type = venue_order_type(o.type);
          v.price = o.price.to_string();
          v.stop_price = o.stop_price.to_string();
          v.executed = o.filled.to_string();
          v.tif = "GTC";
          v.reduce_only = o.reduce_only;
          v.order_id = o.order_id;
          if (const auto vid = oms::VenueOrderId::from(o.order_id); vid.ok()) gateway_.learn_venue_order_id(vid.value, o.client_id);
          out.push_back(std::move(v));
        }
        if (page.current_page >= page.total_pages) break;
      }
    }
    return out;
  }
  bool query(const oms::OrderState& o, oms::RestAnswer& a, std::string& why) override {
    int status = 0;
    const std::string body = send("GET", "/api/v1/orders/byClientOid?clientOid=" + std::string(o.client_id().view()), status);
    if (decoder_.decode_rest(oms::RestRequest::query, status, body, o.client_id(), o.spec.req.instrument, a) != Errc::ok || a.unknown) {
      why = "HTTP " + std::to_string(status) + ": " + body.substr(0, 200);
      return false;
    }
    gateway_.learn_venue_order_id(a.report.venue_order_id, o.client_id());  // a stop's events name only that id
    return true;
  }
  bool cancel(const VenueOrder& v, std::string& why) override {
    int status = 0;
    // DELETE /api/v1/orders/{orderId} cancels a stop order as well.
    const std::string body = send("DELETE", "/api/v1/orders/" + v.order_id, status);
    if (status == 200 && body.find("\"200000\"") != std::string::npos) return true;
    why = "HTTP " + std::to_string(status) + ": " + body.substr(0, 200);
    return false;
  }
  std::pair<Qty, Price> position(std::string_view symbol) override {
    if (!positions_loaded_) {
      positions_ = oms::kucoin_futures::parse_positions(require_ok("/api/v1/positions"), registry_);
      positions_loaded_ = true;
    }
    for (const auto& p : positions_)
      if (p.symbol == symbol) return {p.signed_qty, p.entry_px};
    return {};
  }
  Notional balance() override {
    const std::string endpoint = "/api/v1/account-overview?currency=USDT";
    const std::string body = require_ok(endpoint);
    simdjson::dom::parser parser;
    simdjson::dom::element doc, margin;
    // marginBalance: the wallet balance (position and order margin, frozen and available funds), as Binance's.
    if (parser.parse(body).get(doc) != simdjson::SUCCESS || doc["data"]["marginBalance"].get(margin) != simdjson::SUCCESS ||
        !(margin.is_number() || margin.is_string()))
      throw Error("reconciliation: GET " + endpoint + " has no data.marginBalance: " + body.substr(0, 200));
    const std::string text = margin.is_string() ? std::string(margin.get_string().value()) : simdjson::minify(margin);
    const auto v = Notional::parse(text);
    if (!v.ok()) throw Error("reconciliation: GET " + endpoint + ": marginBalance " + text + " is not a decimal");
    return v.value;
  }
  std::optional<oms::FeeRates> fee_rates(InstrumentId instrument) override {
    const std::string_view symbol = registry_.get(instrument).symbol.view();
    const oms::FeeRates r =
        oms::kucoin_futures::parse_trade_fees(require_ok("/api/v1/trade-fees?symbol=" + std::string(symbol)), symbol);
    decoder_.set_fee_rates(instrument, r);
    gateway_.set_fee_rates(instrument, r);
    return r;
  }

 private:
  const InstrumentRegistry& registry_;
  oms::kucoin_futures::UserStreamDecoder decoder_;
  std::vector<oms::kucoin_futures::VenuePosition> positions_;
  bool positions_loaded_{false};
};

class BybitLinearQueries final : public VenueQueries, private SignedRequests<oms::bybit_linear::Encoder> {
 public:
  BybitLinearQueries(LiveGateway& g, oms::bybit_linear::Encoder& e, const InstrumentRegistry& r)
      : SignedRequests(g, e), registry_(r), decoder_(r, Venue::bybit) {}
  Venue venue() const noexcept override { return Venue::bybit; }
  std::string_view open_orders_endpoint() const noexcept override { return "GET /v5/order/realtime?category=linear"; }

  std::vector<VenueOrder> open_orders() override {
    std::vector<VenueOrder> out;
    std::string cursor;
    // Open and untriggered orders of every USDT-settled symbol, page by page (cursor).
    for (int n = 0; n < 100; ++n) {
      const std::string endpoint = "/v5/order/realtime?category=linear&settleCoin=USDT&limit=50" + (cursor.empty() ? "" : "&cursor=" + cursor);
      std::string next;
      for (const oms::bybit_linear::OpenOrder& o : oms::bybit_linear::parse_open_orders(require_ok(endpoint), registry_, Venue::bybit, &next)) {
        VenueOrder v;
        v.client_id = std::string(o.client_id.view());
        v.symbol = o.symbol;
        v.side = o.side == Side::buy ? "BUY" : "SELL";
        v.qty = o.qty.to_string();
        v.status = "open";
        v.type = venue_order_type(o.type);
        v.price = o.price.to_string();
        v.stop_price = o.stop_price.to_string();
        v.executed = o.filled.to_string();
        v.tif = "GTC";
        v.reduce_only = o.reduce_only;
        v.order_id = o.order_id;
        out.push_back(std::move(v));
      }
      if (next.empty() || next == cursor) break;
      cursor = next;
    }
    return out;
  }
  bool query(const oms::OrderState& o, oms::RestAnswer& a, std::string& why) override {
    // Open orders first; an order no longer open is among the recently closed ones (openOnly=1).
    for (const bool closed : {false, true}) {
      int status = 0;
      const std::string body = send("GET", "/v5/order/realtime?category=linear&orderLinkId=" + std::string(o.client_id().view()) +
                                               (closed ? "&openOnly=1" : ""), status);
      if (decoder_.decode_rest(oms::RestRequest::query, status, body, o.client_id(), o.spec.req.instrument, a) != Errc::ok || a.unknown) {
        why = "HTTP " + std::to_string(status) + ": " + body.substr(0, 200);
        return false;
      }
      if (a.report.reason != oms::Reason::order_not_found) return true;
    }
    return true;  // in neither list: the venue never had it
  }
  bool cancel(const VenueOrder& v, std::string& why) override {
    int status = 0;
    const std::string body = send("POST", "/v5/order/cancel", status,
                                  R"({"category":"linear","symbol":")" + v.symbol + R"(","orderId":")" + v.order_id + R"("})");
    if (status == 200 && body.find("\"retCode\":0") != std::string::npos) return true;
    why = "HTTP " + std::to_string(status) + ": " + body.substr(0, 200);
    return false;
  }
  std::pair<Qty, Price> position(std::string_view symbol) override {
    if (!positions_loaded_) {
      positions_ = oms::bybit_linear::parse_positions(require_ok("/v5/position/list?category=linear&settleCoin=USDT"), registry_);
      positions_loaded_ = true;
    }
    for (const auto& p : positions_)
      if (p.symbol == symbol) return {p.signed_qty, p.entry_px};
    return {};
  }
  Notional balance() override {
    const std::string endpoint = "/v5/account/wallet-balance?accountType=UNIFIED";
    const std::string body = require_ok(endpoint);
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    std::int64_t code = -1;
    if (parser.parse(body).get(doc) != simdjson::SUCCESS || doc["retCode"].get(code) != simdjson::SUCCESS || code != 0)
      throw Error("reconciliation: GET " + endpoint + " refused: " + body.substr(0, 200));
    simdjson::dom::array accounts;
    if (doc["result"]["list"].get(accounts) == simdjson::SUCCESS)
      for (simdjson::dom::element acc : accounts) {
        simdjson::dom::array coins;
        if (acc["coin"].get(coins) != simdjson::SUCCESS) continue;
        for (simdjson::dom::element c : coins) {
          if (field(c, "coin") != "USDT") continue;
          // walletBalance: deposits + realised P&L - fees, as Binance's balance.
          const auto v = Notional::parse(field(c, "walletBalance"));
          if (!v.ok()) throw Error("reconciliation: GET " + endpoint + ": walletBalance of USDT is not a decimal");
          return v.value;
        }
      }
    throw Error("reconciliation: GET " + endpoint + " has no USDT coin: " + body.substr(0, 200));
  }
  std::optional<oms::FeeRates> fee_rates(InstrumentId) override { return std::nullopt; }  // each execution carries execFee

 private:
  const InstrumentRegistry& registry_;
  oms::bybit_linear::UserStreamDecoder decoder_;
  std::vector<oms::bybit_linear::VenuePosition> positions_;
  bool positions_loaded_{false};
};

class OkxSwapQueries final : public VenueQueries, private SignedRequests<oms::okx_swap::Encoder> {
 public:
  OkxSwapQueries(LiveGateway& g, oms::okx_swap::Encoder& e, const InstrumentRegistry& r)
      : SignedRequests(g, e), registry_(r), decoder_(r, Venue::okx) {}
  Venue venue() const noexcept override { return Venue::okx; }
  std::string_view open_orders_endpoint() const noexcept override { return "GET /api/v5/trade/orders-pending?instType=SWAP"; }

  std::vector<VenueOrder> open_orders() override {
    std::vector<VenueOrder> out;
    // The book's orders, then the untriggered algo orders (stops: a list of their own), page by page (after=).
    for (const bool algo : {false, true}) {
      std::string after;
      for (int n = 0; n < 100; ++n) {
        const std::string endpoint = std::string(algo ? "/api/v5/trade/orders-algo-pending?ordType=conditional&instType=SWAP"
                                                      : "/api/v5/trade/orders-pending?instType=SWAP") +
                                     (after.empty() ? "" : "&after=" + after);
        std::string next;
        const std::string body = require_ok(endpoint);
        const auto page = algo ? oms::okx_swap::parse_open_algo_orders(body, registry_, Venue::okx, &next)
                               : oms::okx_swap::parse_open_orders(body, registry_, Venue::okx, &next);
        for (const oms::okx_swap::OpenOrder& o : page) {
          VenueOrder v;
          v.client_id = std::string(o.client_id.view());
          v.symbol = o.symbol;
          v.side = o.side == Side::buy ? "BUY" : "SELL";
          v.qty = o.qty.to_string();
          v.status = "open";
          v.type = venue_order_type(o.type);
          v.price = o.price.to_string();
          v.stop_price = o.stop_price.to_string();
          v.executed = o.filled.to_string();
          v.tif = o.tif == risk::TimeInForce::ioc ? "IOC" : "GTC";
          v.reduce_only = o.reduce_only;
          v.order_id = o.order_id;
          if (o.algo) algo_ids_.push_back(o.order_id);
          out.push_back(std::move(v));
        }
        if (next.empty() || next == after) break;
        after = next;
      }
    }
    return out;
  }
  bool query(const oms::OrderState& o, oms::RestAnswer& a, std::string& why) override {
    const bool algo = oms::okx_swap::is_algo(o.spec.req.type);
    const std::string id(o.client_id().view());
    const std::string order = "/api/v5/trade/order?instId=" + std::string(registry_.get(o.spec.req.instrument).symbol.view());
    std::string body;
    if (!ask(o, algo ? "/api/v5/trade/order-algo?algoClOrdId=" + id : order + "&clOrdId=" + id, a, why, body)) return false;
    if (!algo) return true;
    // A fired stop's answer says only that it fired ("effective"): its fills are those of the order it placed,
    // whose ordId it names, and that order's answer carries our id in algoClOrdId.
    const std::string placed = placed_order_id(body);
    return placed.empty() || ask(o, order + "&ordId=" + placed, a, why, body);
  }
  bool cancel(const VenueOrder& v, std::string& why) override {
    const bool algo = std::find(algo_ids_.begin(), algo_ids_.end(), v.order_id) != algo_ids_.end();
    int status = 0;
    const std::string body =
        algo ? send("POST", "/api/v5/trade/cancel-algos", status, R"([{"instId":")" + v.symbol + R"(","algoId":")" + v.order_id + R"("}])")
             : send("POST", "/api/v5/trade/cancel-order", status, R"({"instId":")" + v.symbol + R"(","ordId":")" + v.order_id + R"("})");
    if (status == 200 && body.find("\"sCode\":\"0\"") != std::string::npos) return true;
    why = "HTTP " + std::to_string(status) + ": " + body.substr(0, 200);
    return false;
  }
  std::pair<Qty, Price> position(std::string_view symbol) override {
    if (!positions_loaded_) {
      positions_ = oms::okx_swap::parse_positions(require_ok("/api/v5/account/positions?instType=SWAP"), registry_);
      positions_loaded_ = true;
    }
    Qty q{};
    Price px{};
    for (const auto& p : positions_)
      if (p.symbol == symbol) {
        q += p.signed_qty;  // net mode: one entry (long/short mode would give two, refused at the key check)
        px = p.entry_px;
      }
    return {q, px};
  }
  Notional balance() override {
    const std::string endpoint = "/api/v5/account/balance?ccy=USDT";
    try {
      return oms::okx_swap::parse_balance(require_ok(endpoint));
    } catch (const Error& e) {
      throw Error("reconciliation: GET " + endpoint + ": " + e.what());
    }
  }
  std::optional<oms::FeeRates> fee_rates(InstrumentId) override { return std::nullopt; }  // each fill carries fillFee

 private:
  // One query's answer for `o` into `a` (its body into `body`); false, with why, when it tells nothing.
  bool ask(const oms::OrderState& o, const std::string& endpoint, oms::RestAnswer& a, std::string& why, std::string& body) {
    int status = 0;
    body = send("GET", endpoint, status);
    if (decoder_.decode_rest(oms::RestRequest::query, status, body, o.client_id(), o.spec.req.instrument, a) != Errc::ok || a.unknown) {
      why = "HTTP " + std::to_string(status) + ": " + body.substr(0, 200);
      return false;
    }
    return true;
  }
  // The order a fired algo order placed, from its answer (GET /api/v5/trade/order-algo): ordIdList's first entry
  // (the docs list more "when there is TP/SL splitting order"; ours is one leg of one order, and the ordId beside
  // the list "will be deprecated"); "" before it fired.
  static std::string placed_order_id(const std::string& body) {
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    std::string_view id;
    if (parser.parse(body).get(doc) != simdjson::SUCCESS || doc["data"].at(0)["ordIdList"].at(0).get(id) != simdjson::SUCCESS) return {};
    return std::string(id);
  }

  const InstrumentRegistry& registry_;
  oms::okx_swap::UserStreamDecoder decoder_;
  std::vector<oms::okx_swap::VenuePosition> positions_;
  std::vector<std::string> algo_ids_;  // the algoIds among open_orders(): cancelled with cancel-algos
  bool positions_loaded_{false};
};

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

std::unique_ptr<VenueQueries> binance_usdm_queries(LiveGateway& gateway, oms::binance_futures::Encoder& encoder,
                                                   const InstrumentRegistry& registry) {
  return std::make_unique<BinanceUsdmQueries>(gateway, encoder, registry);
}

std::unique_ptr<VenueQueries> kucoin_futures_queries(LiveGateway& gateway, oms::kucoin_futures::Encoder& encoder,
                                                     const InstrumentRegistry& registry) {
  return std::make_unique<KucoinFuturesQueries>(gateway, encoder, registry);
}

std::unique_ptr<VenueQueries> bybit_linear_queries(LiveGateway& gateway, oms::bybit_linear::Encoder& encoder,
                                                   const InstrumentRegistry& registry) {
  return std::make_unique<BybitLinearQueries>(gateway, encoder, registry);
}

std::unique_ptr<VenueQueries> okx_swap_queries(LiveGateway& gateway, oms::okx_swap::Encoder& encoder,
                                               const InstrumentRegistry& registry) {
  return std::make_unique<OkxSwapQueries>(gateway, encoder, registry);
}

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
