#include "oms/venues/binance_futures_user.hpp"
#include "core/logger.hpp"
#include "oms/venues/account_queries.hpp"
#include "core/config.hpp"
#include "oms/signing.hpp"
#include "oms/venues/binance_futures.hpp"
#include "oms/venues/binance_futures_ws_api.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace enigma::oms::binance_futures {

namespace od = simdjson::ondemand;

namespace {

// The fields of one order update / REST order body we use. Both may come in any order.
struct OrderFields {
  std::string_view exec_type;     // x (stream only)
  std::string_view status;        // X / "status"
  std::string_view client_id;     // c / "clientOrderId"
  std::string_view symbol;        // s / "symbol"
  std::string_view side;          // S / "side"
  std::string_view type;          // o / "type"
  std::string_view orig_type;     // ot / "origType"
  std::string_view last_qty, last_px, cum_qty, avg_px, commission;
  std::string_view cum_quote;     // "cumQuote" (REST only): the filled value in USDT
  std::uint64_t order_id{0};
  std::uint64_t trade_time_ms{0};  // T / "updateTime"
  std::uint64_t trade_id{0};       // t
  bool has_order_id{false};
  bool maker{false};
};

Errc get_text(od::value v, std::string_view& out) noexcept {
  return v.get_string().get(out) ? Errc::wrong_type : Errc::ok;
}

// Binance sends ids and times as JSON numbers; negative or fractional ones are malformed.
Errc get_u64(od::value v, std::uint64_t& out) noexcept {
  return v.get_uint64().get(out) ? Errc::wrong_type : Errc::ok;
}

// Walks a stream "o" object or a REST order body; `stream` selects the key names.
Errc walk_order(od::object obj, bool stream, OrderFields& f) noexcept {
  for (auto field : obj) {
    std::string_view k;
    if (field.unescaped_key().get(k)) return Errc::bad_format;
    od::value v;
    if (field.value().get(v)) return Errc::bad_format;
    Errc e = Errc::ok;
    if (stream) {
      if (k.size() == 1) {
        switch (k[0]) {
          case 'x': e = get_text(v, f.exec_type); break;
          case 'X': e = get_text(v, f.status); break;
          case 'c': e = get_text(v, f.client_id); break;
          case 's': e = get_text(v, f.symbol); break;
          case 'S': e = get_text(v, f.side); break;
          case 'o': e = get_text(v, f.type); break;
          case 'l': e = get_text(v, f.last_qty); break;
          case 'L': e = get_text(v, f.last_px); break;
          case 'z': e = get_text(v, f.cum_qty); break;
          case 'n': e = get_text(v, f.commission); break;
          case 'i': e = get_u64(v, f.order_id); f.has_order_id = e == Errc::ok; break;
          case 'T': e = get_u64(v, f.trade_time_ms); break;
          case 't': e = get_u64(v, f.trade_id); break;
          case 'm': e = v.get_bool().get(f.maker) ? Errc::wrong_type : Errc::ok; break;
          default: break;
        }
      } else if (k == "ot") {
        e = get_text(v, f.orig_type);
      } else if (k == "ap") {
        e = get_text(v, f.avg_px);
      }
    } else {
      if (k == "status") e = get_text(v, f.status);
      else if (k == "clientOrderId") e = get_text(v, f.client_id);
      else if (k == "symbol") e = get_text(v, f.symbol);
      else if (k == "side") e = get_text(v, f.side);
      else if (k == "type") e = get_text(v, f.type);
      else if (k == "origType") e = get_text(v, f.orig_type);
      else if (k == "executedQty") e = get_text(v, f.cum_qty);
      else if (k == "avgPrice") e = get_text(v, f.avg_px);
      else if (k == "cumQuote") e = get_text(v, f.cum_quote);
      else if (k == "updateTime") e = get_u64(v, f.trade_time_ms);
      else if (k == "orderId") {
        e = get_u64(v, f.order_id);
        f.has_order_id = e == Errc::ok;
      }
    }
    if (e != Errc::ok) return e;
  }
  return Errc::ok;
}

bool status_from(std::string_view s, OrderStatus& out) noexcept {
  if (s == "NEW") out = OrderStatus::accepted;
  else if (s == "PARTIALLY_FILLED") out = OrderStatus::partially_filled;
  else if (s == "FILLED") out = OrderStatus::filled;
  else if (s == "CANCELED") out = OrderStatus::canceled;
  else if (s == "REJECTED") out = OrderStatus::rejected;
  else if (s == "EXPIRED" || s == "EXPIRED_IN_MATCH") out = OrderStatus::expired;  // IN_MATCH: self-trade prevention
  else return false;
  return true;
}

// Optional decimal field: absent stays zero.
template <class F>
Errc parse_opt(std::string_view s, F& out) noexcept {
  if (s.empty()) return Errc::ok;
  const auto r = F::parse(s);
  if (!r.ok()) return r.error;
  out = r.value;
  return Errc::ok;
}

// Venue milliseconds -> nanoseconds; times past year 2262 do not fit and are malformed (fuzzer find).
Errc ms_to_ns(std::uint64_t ms, std::int64_t& out) noexcept {
  if (ms > static_cast<std::uint64_t>(INT64_MAX / 1'000'000)) return Errc::out_of_range;
  out = static_cast<std::int64_t>(ms) * 1'000'000;
  return Errc::ok;
}

// Writes the order-id number as decimal text into the fixed venue id (no allocation).
VenueOrderId venue_id_of(std::uint64_t n) noexcept {
  char buf[24];
  char* p = buf + sizeof buf;
  do {
    *--p = static_cast<char>('0' + n % 10);
    n /= 10;
  } while (n != 0);
  return VenueOrderId::from(std::string_view(p, static_cast<std::size_t>(buf + sizeof buf - p))).value;
}

}  // namespace

FeeRates parse_commission_rate(std::string_view body, std::string_view symbol) {
  const std::string what = "GET /fapi/v1/commissionRate?symbol=" + std::string(symbol);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(body.data(), body.size()).get(doc) != simdjson::SUCCESS || !doc.is_object())
    throw Error(what + ": not a JSON object: " + std::string(body.substr(0, 200)));
  std::string_view sym;
  if (doc["symbol"].get(sym) != simdjson::SUCCESS || sym != symbol)
    throw Error(what + ": the answer is not for " + std::string(symbol) + ": " + std::string(body.substr(0, 200)));
  const auto rate = [&](const char* key) {
    std::string_view text;
    if (doc[key].get(text) != simdjson::SUCCESS) throw Error(what + ": no " + key + ": " + std::string(body.substr(0, 200)));
    const auto x = Rate::parse(text);
    if (!x.ok()) throw Error(what + ": " + key + " '" + std::string(text) + "' is not a decimal");
    if (x.value.raw() > Rate::kScale || x.value.raw() < -Rate::kScale) throw Error(what + ": a fee rate outside -1..1: " + x.value.to_string());
    return x.value;
  };
  return FeeRates{rate("makerCommissionRate"), rate("takerCommissionRate")};
}

namespace {
// The array a start-up query answers with (its elements live as long as `parser`).
simdjson::dom::array answer_array(simdjson::dom::parser& parser, std::string_view body, std::string_view what) {
  simdjson::dom::element doc;
  if (parser.parse(body.data(), body.size()).get(doc) != simdjson::SUCCESS || !doc.is_array())
    throw Error("reconciliation: " + std::string(what) + " is not a JSON array: " + std::string(body.substr(0, 200)));
  return doc.get_array().value();
}
}  // namespace

std::vector<VenueOrder> parse_open_orders(std::string_view body) {
  using account::field;
  simdjson::dom::parser parser;
  std::vector<VenueOrder> out;
  for (simdjson::dom::element o : answer_array(parser, body, "GET /fapi/v1/openOrders")) {
    if (!o.is_object()) throw Error("reconciliation: GET /fapi/v1/openOrders holds a non-object: " + std::string(body.substr(0, 200)));
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

std::pair<Qty, Price> parse_position(std::string_view body, std::string_view symbol) {
  using account::field;
  simdjson::dom::parser parser;
  std::pair<Qty, Price> out{};
  for (simdjson::dom::element p : answer_array(parser, body, "GET /fapi/v2/positionRisk")) {
    if (!p.is_object() || field(p, "symbol") != symbol) continue;
    const auto q = Qty::parse(field(p, "positionAmt"));
    const auto e = Price::parse(field(p, "entryPrice"));
    if (!q.ok() || !e.ok()) throw Error("reconciliation: bad positionAmt/entryPrice for " + std::string(symbol) + " in GET /fapi/v2/positionRisk");
    out = {q.value, e.value};
  }
  return out;
}

Notional parse_usdt_balance(std::string_view body) {
  using account::field;
  simdjson::dom::parser parser;
  for (simdjson::dom::element b : answer_array(parser, body, "GET /fapi/v2/balance")) {
    if (!b.is_object() || field(b, "asset") != "USDT") continue;
    const auto v = Notional::parse(field(b, "balance"));
    if (!v.ok()) throw Error("reconciliation: bad USDT balance in GET /fapi/v2/balance");
    return v.value;
  }
  throw Error("reconciliation: GET /fapi/v2/balance has no USDT balance");
}

Reason reason_from_code(std::int32_t code) noexcept {
  switch (code) {
    case -2019: return Reason::insufficient_margin;      // "Margin is insufficient."
    case -5022: return Reason::post_only_would_cross;    // GTX order would be taker
    case -2022: return Reason::reduce_only_would_increase;
    case -2011:                                          // cancel: unknown order sent
    case -2013: return Reason::order_not_found;          // query: order does not exist
    case -4164:                                          // notional below the minimum
    case -1111:                                          // precision over the maximum
    case -4003:                                          // quantity below zero / lot
    case -2021: return Reason::invalid_order;            // order would immediately trigger
    default: return Reason::venue_error;
  }
}

struct UserStreamDecoder::Impl {
  const InstrumentRegistry& registry;
  Venue venue;
  std::size_t max_bytes;
  od::parser parser;
  std::vector<char> padded;  // copy target for messages without simdjson padding
  FeeTable fees;  // the account's rates (set_fee_rates): a query answer's filled value is priced at them
  WsApiAnswerDecoder ws_api;  // "ws-api" order entry's answers (decode_ws_api_answer)

  Impl(const InstrumentRegistry& r, Venue v, std::size_t max)
      : registry(r), venue(v), max_bytes(max), parser(max), ws_api(max) {
    if (parser.allocate(max)) throw Error("binance futures user decoder: cannot allocate simdjson buffers");
    padded.resize(max + simdjson::SIMDJSON_PADDING);
  }

  // Iterates `msg` in place when padded, else from the internal copy.
  Errc open(std::string_view msg, std::size_t padded_capacity, od::document& doc) noexcept {
    if (msg.size() > max_bytes) return Errc::capacity;
    if (padded_capacity < msg.size() + simdjson::SIMDJSON_PADDING) {
      std::memcpy(padded.data(), msg.data(), msg.size());
      std::memset(padded.data() + msg.size(), 0, simdjson::SIMDJSON_PADDING);
      msg = std::string_view(padded.data(), msg.size());
      padded_capacity = padded.size();
    }
    if (parser.iterate(simdjson::padded_string_view(msg.data(), msg.size(), padded_capacity)).get(doc))
      return Errc::bad_format;
    return Errc::ok;
  }

  Errc fill_common(const OrderFields& f, InstrumentId instrument, ExecReport& out) noexcept {
    out = ExecReport{};
    if (f.client_id.empty() || f.status.empty()) return Errc::missing_field;
    const auto id = ClientOrderId::from(f.client_id);
    if (!id.ok()) return Errc::out_of_range;
    out.client_id = id.value;
    if (f.has_order_id) out.venue_order_id = venue_id_of(f.order_id);
    if (instrument == kInvalidInstrument) {
      const auto found = registry.find(venue, f.symbol);
      if (!found) return Errc::not_found;
      instrument = *found;
    }
    out.instrument = instrument;
    out.side = f.side == "SELL" ? Side::sell : Side::buy;
    if (ms_to_ns(f.trade_time_ms, out.venue_time_ns) != Errc::ok) return Errc::out_of_range;
    if (!status_from(f.status, out.status)) return Errc::unknown_message;
    return Errc::ok;
  }

  Result<UserEvent> decode(std::string_view msg, std::size_t padded_capacity, ExecReport& out) noexcept {
    using R = Result<UserEvent>;
    od::document doc;
    if (const Errc e = open(msg, padded_capacity, doc); e != Errc::ok) return R::failure(e);
    od::object top;
    if (doc.get_object().get(top)) return R::failure(Errc::wrong_type);
    // Combined-stream wrapper: {"stream":"<listenKey>","data":{...}} - descend into data.
    od::object obj = top;
    std::string_view event;
    std::uint64_t event_ms = 0, txn_ms = 0;
    OrderFields f;
    bool has_order = false;
    for (int depth = 0; depth < 2; ++depth) {
      bool descended = false;
      for (auto field : obj) {
        std::string_view k;
        if (field.unescaped_key().get(k)) return R::failure(Errc::bad_format);
        od::value v;
        if (field.value().get(v)) return R::failure(Errc::bad_format);
        if (k == "e") {
          if (get_text(v, event) != Errc::ok) return R::failure(Errc::wrong_type);
        } else if (k == "E") {
          if (get_u64(v, event_ms) != Errc::ok) return R::failure(Errc::wrong_type);
        } else if (k == "T") {
          if (get_u64(v, txn_ms) != Errc::ok) return R::failure(Errc::wrong_type);
        } else if (k == "o" && event == "ORDER_TRADE_UPDATE") {
          // "e" precedes "o" in every Binance message; an "o" of any other event is not an order.
          od::object o;
          if (v.get_object().get(o)) return R::failure(Errc::wrong_type);
          if (const Errc e = walk_order(o, true, f); e != Errc::ok) return R::failure(e);
          has_order = true;
        } else if (k == "data" && depth == 0 && event.empty()) {
          if (v.get_object().get(obj)) return R::failure(Errc::wrong_type);
          descended = true;
          break;
        }
      }
      if (!descended) break;
    }
    if (event.empty()) return R::failure(Errc::missing_field);
    if (event == "listenKeyExpired") return R::success(UserEvent::listen_key_expired);
    if (event != "ORDER_TRADE_UPDATE") return R::success(UserEvent::ignored);
    if (!has_order || f.exec_type.empty() || f.side.empty()) return R::failure(Errc::missing_field);
    if (const Errc e = fill_common(f, kInvalidInstrument, out); e != Errc::ok) return R::failure(e);
    if (f.trade_time_ms == 0 && ms_to_ns(txn_ms ? txn_ms : event_ms, out.venue_time_ns) != Errc::ok)
      return R::failure(Errc::out_of_range);
    out.venue_seq = f.trade_id;
    if (const Errc e = parse_opt(f.cum_qty, out.cum_qty); e != Errc::ok) return R::failure(e);
    const std::string_view x = f.exec_type;
    if (x == "NEW") {
      // A conditional order that fired comes back as NEW with its working type (MARKET) in `o` and the
      // type it was placed as (STOP_MARKET, ...) in `ot`.
      const bool fired = !f.orig_type.empty() && !f.type.empty() && f.type != f.orig_type;
      out.kind = fired ? ExecKind::triggered : ExecKind::accepted;
    } else if (x == "TRADE" || x == "CALCULATED") {
      out.kind = ExecKind::fill;
      if (const Errc e = parse_opt(f.last_qty, out.last_qty); e != Errc::ok) return R::failure(e);
      if (const Errc e = parse_opt(f.last_px, out.last_px); e != Errc::ok) return R::failure(e);
      if (const Errc e = parse_opt(f.commission, out.fee); e != Errc::ok) return R::failure(e);
      if (out.last_qty.raw() <= 0 || out.last_px.raw() <= 0) return R::failure(Errc::out_of_range);
      out.maker = f.maker;
    } else if (x == "CANCELED") {
      out.kind = ExecKind::canceled;
    } else if (x == "EXPIRED") {
      out.kind = ExecKind::expired;
    } else if (x == "REJECTED") {
      out.kind = ExecKind::rejected;
      out.reason = Reason::venue_error;
    } else {
      return R::failure(Errc::unknown_message);  // AMENDMENT (price modify) is not sent by us
    }
    return R::success(UserEvent::report);
  }

  Errc decode_rest(RestRequest kind, int http, std::string_view body, const ClientOrderId& id, InstrumentId inst,
                   RestAnswer& out) noexcept {
    out = RestAnswer{};
    ExecReport& r = out.report;
    r.client_id = id;
    r.instrument = inst;
    const auto unknown = [&](Errc e) {
      r.kind = ExecKind::status;
      r.status = OrderStatus::unknown;
      r.reason = Reason::timeout;
      out.unknown = true;
      return e;
    };
    if (http == 0 || http >= 500) return unknown(Errc::ok);
    od::document doc;
    Errc e = open(body, body.size(), doc);
    od::object obj;
    if (e == Errc::ok && doc.get_object().get(obj)) e = Errc::wrong_type;
    if (http >= 200 && http < 300) {
      if (is_instrument_request(kind)) return e == Errc::ok ? Errc::ok : unknown(e);
      OrderFields f;
      if (e == Errc::ok) e = walk_order(obj, false, f);
      if (e == Errc::ok) e = fill_common(f, inst, r);
      r.client_id = id;  // the answer is to our request, whatever it echoes
      if (e != Errc::ok) return unknown(e);
      switch (kind) {
        case RestRequest::new_order: r.kind = ExecKind::accepted; break;
        case RestRequest::cancel:
          r.kind = ExecKind::canceled;
          r.status = OrderStatus::canceled;
          break;
        case RestRequest::query: {
          r.kind = ExecKind::status;
          if (const Errc pe = parse_opt(f.cum_qty, r.cum_qty); pe != Errc::ok) return unknown(pe);
          if (const Errc pe = parse_opt(f.avg_px, r.last_px); pe != Errc::ok) return unknown(pe);
          // No commission in the answer: the filled value (cumQuote) priced at the account's rate
          // (ExecReport::fee_priced). A plain limit order rests (maker); a market or stop order takes (taker).
          Notional value{};
          if (r.cum_qty.raw() > 0 && parse_opt(f.cum_quote, value) == Errc::ok) {
            r.fee = fees.price(r.instrument, value, (f.orig_type.empty() ? f.type : f.orig_type) == "LIMIT");
            r.fee_priced = r.fee.raw() != 0;
          }
          break;
        }
        case RestRequest::cancel_all:
        case RestRequest::countdown:
        case RestRequest::cancel_batch: break;  // decode_rest_batch
      }
      return Errc::ok;
    }
    // 4xx: {"code":-2019,"msg":"Margin is insufficient."}. 429/418 (rate limit / ban) land here too.
    std::int64_t code = 0;
    if (e == Errc::ok) {
      for (auto field : obj) {
        std::string_view k;
        if (field.unescaped_key().get(k)) { e = Errc::bad_format; break; }
        if (k == "code") {
          if (field.value().get_int64().get(code)) e = Errc::wrong_type;
          break;
        }
      }
      if (e == Errc::ok && code == 0) e = Errc::missing_field;
    }
    if (e != Errc::ok && kind != RestRequest::query) return unknown(e);  // cannot tell what the venue did
    out.venue_code = static_cast<std::int32_t>(code);
    r.reason = reason_from_code(out.venue_code);
    switch (kind) {
      case RestRequest::new_order: r.kind = ExecKind::rejected; r.status = OrderStatus::rejected; break;
      case RestRequest::cancel:
      case RestRequest::cancel_batch: r.kind = ExecKind::cancel_rejected; break;
      case RestRequest::query:
        if (e != Errc::ok) return unknown(e);
        r.kind = ExecKind::status;
        r.status = OrderStatus::unknown;
        if (r.reason != Reason::order_not_found) return unknown(Errc::ok);  // still unresolved: ask again later
        break;
      case RestRequest::cancel_all:
      case RestRequest::countdown: r.kind = ExecKind::status; break;  // refused: venue_code says why
    }
    return Errc::ok;
  }

  Errc decode_rest_batch(int http, std::string_view body, std::span<const ClientOrderId> ids, InstrumentId inst,
                         std::span<RestAnswer> out) noexcept {
    const std::size_t n = std::min(ids.size(), out.size());
    for (std::size_t i = 0; i < n; ++i) {  // undecided until the answer says otherwise
      out[i] = RestAnswer{};
      ExecReport& r = out[i].report;
      r.client_id = ids[i];
      r.instrument = inst;
      r.kind = ExecKind::status;
      r.status = OrderStatus::unknown;
      r.reason = Reason::timeout;
      out[i].unknown = true;
    }
    const auto refused = [&](std::size_t i, std::int64_t code) {
      RestAnswer& a = out[i];
      a.unknown = false;
      a.venue_code = static_cast<std::int32_t>(code);
      a.report.kind = ExecKind::cancel_rejected;
      a.report.status = OrderStatus::unknown;  // the cancel's refusal says nothing of the order itself
      a.report.reason = reason_from_code(a.venue_code);
    };
    if (http == 0 || http >= 500) return Errc::ok;
    od::document doc;
    if (const Errc e = open(body, body.size(), doc); e != Errc::ok) return e;
    if (http < 200 || http >= 300) {  // the whole request refused: {"code":-1022,"msg":...}
      od::object obj;
      std::int64_t code = 0;
      if (doc.get_object().get(obj) || obj.find_field_unordered("code").get_int64().get(code) || code == 0)
        return Errc::bad_format;
      for (std::size_t i = 0; i < n; ++i) refused(i, code);
      return Errc::ok;
    }
    od::array arr;
    if (doc.get_array().get(arr)) return Errc::wrong_type;
    std::size_t i = 0;
    for (auto elem : arr) {
      if (i == n) return Errc::bad_format;  // more results than orders: the rest stays unknown
      od::object obj;
      if (elem.get_object().get(obj)) return Errc::wrong_type;
      // One element: {"code":-2011,"msg":"Unknown order sent."} or the cancelled order's JSON.
      std::int64_t code = 0;
      od::value code_value;
      const simdjson::error_code found = obj.find_field_unordered("code").get(code_value);
      if (found == simdjson::SUCCESS) {
        if (code_value.get_int64().get(code) || code == 0) return Errc::wrong_type;
        refused(i, code);
      } else {
        bool rewound = false;
        if (found != simdjson::NO_SUCH_FIELD || obj.reset().get(rewound)) return Errc::bad_format;
        OrderFields f;
        ExecReport r{};
        if (Errc e = walk_order(obj, false, f); e != Errc::ok) return e;
        if (Errc e = fill_common(f, inst, r); e != Errc::ok) return e;
        // The answers come in the request's order; one that names another order leaves this one unknown.
        if (!(r.client_id == ids[i])) return Errc::bad_format;
        out[i].unknown = false;
        out[i].report = r;
        out[i].report.kind = ExecKind::canceled;
        out[i].report.status = OrderStatus::canceled;
      }
      ++i;
    }
    return i == n ? Errc::ok : Errc::missing_field;
  }
};

UserStreamDecoder::UserStreamDecoder(const InstrumentRegistry& registry, Venue venue, std::size_t max_message_bytes)
    : impl_(std::make_unique<Impl>(registry, venue, max_message_bytes)) {}
UserStreamDecoder::~UserStreamDecoder() = default;

void UserStreamDecoder::set_fee_rates(InstrumentId instrument, FeeRates rates) { impl_->fees.set(instrument, rates); }

Errc UserStreamDecoder::decode_ws_api_answer(std::string_view msg, std::size_t padded_capacity, WsApiAnswer& out) noexcept {
  return impl_->ws_api.decode(msg, padded_capacity, out);
}

Result<UserEvent> UserStreamDecoder::decode(std::string_view msg, std::size_t padded_capacity, ExecReport& out,
                                            std::size_t) noexcept {
  return impl_->decode(msg, padded_capacity, out);
}

Errc UserStreamDecoder::decode_rest_batch(int http_status, std::string_view body, std::span<const ClientOrderId> ids,
                                          InstrumentId instrument, std::span<RestAnswer> out) noexcept {
  return impl_->decode_rest_batch(http_status, body, ids, instrument, out);
}

Errc UserStreamDecoder::decode_rest(RestRequest kind, int http_status, std::string_view body, const ClientOrderId& id,
                                    InstrumentId instrument, RestAnswer& out) noexcept {
  return impl_->decode_rest(kind, http_status, body, id, instrument, out);
}


// ---- Start-up reconciliation's queries (oms/venue_queries.hpp) ----

namespace {

using account::field;
using account::SignedRequests;
using account::venue_order_type;

// One signed request on the gateway's connection; the body of a 200, else an Error naming what failed.
std::string venue_get(VenueCalls& calls, oms::binance_futures::Encoder& enc, std::string_view path,
                      std::string_view params, int& status, bool del = false) {
  char req[2048];
  const auto n = enc.encode_signed(del, path, params, account::wall_ms(), req, sizeof req);
  if (!n.ok()) throw Error("reconciliation: cannot encode " + std::string(path) + " (" + std::string(to_string(n.error)) + ")");
  std::string body;
  status = calls.call(std::string_view(req, n.value), body);
  return body;
}

std::string require_ok(VenueCalls& calls, oms::binance_futures::Encoder& enc, std::string_view path, std::string_view params = {}) {
  int status = 0;
  std::string body = venue_get(calls, enc, path, params, status);
  if (status != 200)
    throw Error("reconciliation: GET " + std::string(path) + (params.empty() ? "" : "?") + std::string(params) + " answered HTTP " +
                std::to_string(status) + ": " + body.substr(0, 200) +
                " (start-up needs the venue's orders, positions, fee rates and balance before trading)");
  return body;
}

class BinanceUsdmQueries final : public VenueQueries {
 public:
  BinanceUsdmQueries(VenueCalls& g, oms::binance_futures::Encoder& e, const InstrumentRegistry& r)
      : calls_(g), enc_(e), registry_(r), decoder_(r, Venue::binance_usdm) {}
  Venue venue() const noexcept override { return Venue::binance_usdm; }
  std::string_view open_orders_endpoint() const noexcept override { return "GET /fapi/v1/openOrders"; }

  std::vector<VenueOrder> open_orders() override {
    return oms::binance_futures::parse_open_orders(require_ok(calls_, enc_, "/fapi/v1/openOrders"));
  }
  bool query(const oms::OrderState& o, oms::RestAnswer& a, std::string& why) override {
    const std::string id(o.client_id().view());
    const std::string symbol(registry_.get(o.spec.req.instrument).symbol.view());
    int status = 0;
    const std::string body = venue_get(calls_, enc_, "/fapi/v1/order", "symbol=" + symbol + "&origClientOrderId=" + id, status);
    if (decoder_.decode_rest(oms::RestRequest::query, status, body, o.client_id(), o.spec.req.instrument, a) != Errc::ok || a.unknown) {
      why = "HTTP " + std::to_string(status) + ": " + body.substr(0, 200);
      return false;
    }
    return true;
  }
  bool cancel(const VenueOrder& v, std::string& why) override {
    int status = 0;
    const std::string body = venue_get(calls_, enc_, "/fapi/v1/order", "symbol=" + v.symbol + "&orderId=" + v.order_id, status, true);
    if (status == 200) return true;
    why = "HTTP " + std::to_string(status) + ": " + body.substr(0, 200);
    return false;
  }
  std::pair<Qty, Price> position(std::string_view symbol) override {
    if (!positions_loaded_) {
      positions_body_ = require_ok(calls_, enc_, "/fapi/v2/positionRisk");
      positions_loaded_ = true;
    }
    return oms::binance_futures::parse_position(positions_body_, symbol);
  }
  Notional balance() override { return oms::binance_futures::parse_usdt_balance(require_ok(calls_, enc_, "/fapi/v2/balance")); }
  // Each stream fill carries its commission ("n"); an order answer does not, so a fill found by a query is
  // priced at these (the gateway's decoder for the reconnect's queries, ours for the start-up's).
  std::optional<oms::FeeRates> fee_rates(InstrumentId instrument) override {
    const std::string symbol(registry_.get(instrument).symbol.view());
    const oms::FeeRates r = oms::binance_futures::parse_commission_rate(
        require_ok(calls_, enc_, "/fapi/v1/commissionRate", "symbol=" + symbol), symbol);
    decoder_.set_fee_rates(instrument, r);
    calls_.set_fee_rates(instrument, r);
    return r;
  }

 private:
  VenueCalls& calls_;
  oms::binance_futures::Encoder& enc_;
  const InstrumentRegistry& registry_;
  oms::binance_futures::UserStreamDecoder decoder_;
  std::string positions_body_;
  bool positions_loaded_{false};
};

}  // namespace

std::unique_ptr<VenueQueries> account_queries(VenueCalls& calls, Encoder& encoder, const InstrumentRegistry& registry) {
  return std::make_unique<BinanceUsdmQueries>(calls, encoder, registry);
}


// ---- The key's permissions (oms/venue_queries.hpp) ----

KeyRestrictions parse_key_restrictions(std::string_view body) {
  simdjson::ondemand::parser parser;
  const simdjson::padded_string text(body);
  simdjson::ondemand::document doc;
  if (parser.iterate(text).get(doc)) throw Error("apiRestrictions answer is not JSON: " + std::string(body.substr(0, 200)));
  const auto flag = [&](const char* name) {
    bool v = false;
    if (doc[name].get_bool().get(v))
      throw Error(std::string("apiRestrictions answer has no boolean '") + name + "': " + std::string(body.substr(0, 200)));
    doc.rewind();  // fields are looked up in any order
    return v;
  };
  KeyRestrictions r;
  r.ip_restrict = flag("ipRestrict");
  r.enable_reading = flag("enableReading");
  r.enable_futures = flag("enableFutures");
  r.enable_withdrawals = flag("enableWithdrawals");
  r.enable_internal_transfer = flag("enableInternalTransfer");
  r.permits_universal_transfer = flag("permitsUniversalTransfer");
  return r;
}

KeyPermissionsRequest key_permissions_request(const Encoder& signer, std::string_view api_key, std::int64_t recv_window_ms,
                                              std::int64_t now_ms) {
  KeyPermissionsRequest rq;
  rq.path = "/sapi/v1/account/apiRestrictions";
  rq.query = "recvWindow=" + std::to_string(recv_window_ms) + "&timestamp=" + std::to_string(now_ms);
  char sig[kSha256HexSize];
  signer.sign(rq.query, sig);
  rq.query.append("&signature=").append(sig, sizeof sig);
  rq.headers = {{"X-MBX-APIKEY", std::string(api_key)}};
  rq.hint = "the key needs \"Enable Reading\"; [live] account_api_url is Binance's account host";
  rq.console = "Binance API Management";
  rq.read = [](std::string_view body) {
    const KeyRestrictions r = parse_key_restrictions(body);
    const auto b = [](bool v) { return v ? "true" : "false"; };
    KeyPermissions k;
    k.log_fields = std::string("ip_restrict=") + b(r.ip_restrict) + " reading=" + b(r.enable_reading) + " futures=" +
                   b(r.enable_futures) + " withdrawals=" + b(r.enable_withdrawals) + " internal_transfer=" +
                   b(r.enable_internal_transfer) + " universal_transfer=" + b(r.permits_universal_transfer);
    k.ip_restricted = r.ip_restrict;
    for (const auto& [on, name] : {std::pair{r.enable_withdrawals, "enableWithdrawals"}, std::pair{r.enable_internal_transfer, "enableInternalTransfer"},
                                   std::pair{r.permits_universal_transfer, "permitsUniversalTransfer"}})
      if (on) k.moves_funds_out += std::string(k.moves_funds_out.empty() ? "" : ", ") + name;
    if (!k.moves_funds_out.empty()) k.moves_funds_out += " on";
    return k;
  };
  return rq;
}


namespace {

// HMAC-signed REST (or WebSocket-API) order entry and the listenKey user-data stream; with ws_api and an
// Ed25519 key, one session.logon per WebSocket-API connection (README "Order entry").
class Live final : public LiveVenue {
 public:
  Live(const LiveAccount& a, std::string rest_host) : LiveVenue(a, std::move(rest_host), false) {
    const char* ed_env = std::getenv(a.ed25519_key_env.c_str());
    if (a.ws_api && ((ed_env != nullptr && *ed_env != '\0') || !a.ed25519_key_file.empty())) {
      const config::Secret pem = config::load_secret(a.ed25519_key_env, a.ed25519_key_file);
      ed_key_ = std::make_shared<const Ed25519Signer>(Secret(pem.reveal()));
      const config::Secret ed_key_id = config::load_secret(a.ed25519_api_key_env, a.ed25519_api_key_file);
      ed_api_key_ = std::string(ed_key_id.reveal());
      key_origin_ = ed_key_id.origin() + " (Ed25519 session.logon)";
    }
    config_.host = rest_host_;
  }
  [[nodiscard]] std::string_view name() const noexcept override { return "Binance USD-M"; }
  [[nodiscard]] std::string orders_to() const override { return account_.ws_api ? account_.ws_api_url : account_.rest_url; }
  [[nodiscard]] std::string_view order_entry_kind() const noexcept override { return account_.ws_api ? "ws-api" : "rest"; }
  [[nodiscard]] std::string auth() const override { return ed_key_ ? "ed25519-session" : "hmac"; }

  LiveAccess access(const InstrumentRegistry& registry) override {
    LiveAccess a;
    a.budget = binance_usdm_budget();
    a.budget.weight.limit = static_cast<std::uint32_t>(account_.request_weight_per_minute);
    a.budget.orders_short.limit = static_cast<std::uint32_t>(account_.orders_per_10s);
    a.budget.orders_long.limit = static_cast<std::uint32_t>(account_.orders_per_minute);
    if (account_.ws_api) {
      a.ws_api_url = account_.ws_api_url;
      if (ed_key_) a.ws_api_logon = [key = ed_key_, id = ed_api_key_] { return logon_request(id, *key, account::wall_ms()); };
    }
    signer_ = std::make_unique<Encoder>(registry, api_key_, secret_, config_);
    return a;
  }
  KeyPermissionsRequest key_permissions_request() override {
    return binance_futures::key_permissions_request(*signer_, api_key_, config_.recv_window_ms, account::wall_ms());
  }
  std::unique_ptr<VenueOrderEntry> order_entry(const InstrumentRegistry& registry) override {
    std::optional<WsApiEntry> ws_api;
    if (account_.ws_api) ws_api = WsApiEntry{ed_key_ ? WsApiAuth::session : WsApiAuth::hmac, ed_key_ ? ed_api_key_ : api_key_};
    return std::make_unique<OrderEntry>(registry, api_key_, secret_, config_, ws_api);
  }
  std::unique_ptr<VenueQueries> queries(VenueCalls& calls, const InstrumentRegistry& registry) override {
    return account_queries(calls, *signer_, registry);
  }

 private:
  Config config_;
  std::shared_ptr<const Ed25519Signer> ed_key_;
  std::string ed_api_key_;
  std::unique_ptr<Encoder> signer_;  // the key check and the start-up queries
};

}  // namespace

std::unique_ptr<LiveVenue> live_venue(const LiveAccount& account, std::string rest_host) {
  return std::make_unique<Live>(account, std::move(rest_host));
}

// [live] on Binance USD-M: its request budget, WebSocket-API order entry, and countdownCancelAll as the dead-man switch.
const LiveVenueRules& live_rules() {
  static const LiveVenueRules rules{Venue::binance_usdm, "Binance USD-M",
      {"request_weight_per_minute", "orders_per_10s", "orders_per_minute", "order_entry", "ws_api_url", "ed25519_key_env",
       "ed25519_key_file", "ed25519_api_key_env", "ed25519_api_key_file"},
      "request_weight_per_minute, orders_per_10s, orders_per_minute, order_entry and the listenKey stream at user_ws_url",
      {}, {}, {}, true,
      {DeadManRule::Kind::countdown, "Binance's countdownCancelAll", 1, 600'000, false}};
  return rules;
}

}  // namespace enigma::oms::binance_futures
