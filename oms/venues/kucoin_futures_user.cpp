#include "oms/venues/kucoin_futures_user.hpp"
#include "core/logger.hpp"
#include "oms/venues/account_queries.hpp"
#include "oms/venues/kucoin_futures.hpp"

#include <simdjson.h>

#include <cctype>
#include <cstdint>
#include <cstring>
#include <vector>

#include "oms/venues/venue_json.hpp"

namespace enigma::oms::kucoin_futures {

namespace od = simdjson::ondemand;
using namespace venue_json;  // the decoders' shared JSON helpers

namespace {

constexpr std::int64_t kSuccess = 200000;  // KuCoin's "code" of a successful REST answer
constexpr std::string_view kOrderTopic = "/contractMarket/tradeOrders";

// ---- hot path helpers (no allocation, no throw) ----

// A bool; null reads as absent (`has` stays false).
Errc get_bool(od::value v, bool& out, bool& has) noexcept {
  od::json_type t;
  if (v.type().get(t)) return Errc::bad_format;
  if (t == od::json_type::null) return Errc::ok;
  if (v.get_bool().get(out)) return Errc::wrong_type;
  has = true;
  return Errc::ok;
}

bool side_from(std::string_view s, Side& out) noexcept {
  if (s == "buy") out = Side::buy;
  else if (s == "sell") out = Side::sell;
  else return false;
  return true;
}

// "/contractMarket/tradeOrders" or "/contractMarket/tradeOrders:XBTUSDTM" (not ".../tradeOrdersV2" or the like).
bool is_order_topic(std::string_view topic) noexcept {
  return topic.starts_with(kOrderTopic) && (topic.size() == kOrderTopic.size() || topic[kOrderTopic.size()] == ':');
}
// Untriggered stop orders live outside the matching engine: their lifecycle ("open", "triggered", "cancel")
// comes on this topic, with the venue's orderId and no clientOid.
constexpr std::string_view kStopOrderTopic = "/contractMarket/advancedOrders";

// The fields of one stream order change (data of a tradeOrders message), in any order.
struct StreamOrder {
  std::string_view type, status, symbol, side, client_id, order_id, liquidity, trade_id;
  std::string_view match_size, match_price, filled_size, size;
  std::uint64_t ts{0};
};

Errc walk_stream_order(od::object obj, StreamOrder& f) noexcept {
  for (auto field : obj) {
    std::string_view k;
    if (field.unescaped_key().get(k)) return Errc::bad_format;
    od::value v;
    if (field.value().get(v)) return Errc::bad_format;
    Errc e = Errc::ok;
    if (k == "type") e = get_text(v, f.type);
    else if (k == "status") e = get_text(v, f.status);
    else if (k == "symbol") e = get_text(v, f.symbol);
    else if (k == "side") e = get_text(v, f.side);
    else if (k == "clientOid") e = get_num_text(v, f.client_id);  // null for orders placed without one
    else if (k == "orderId") e = get_num_text(v, f.order_id);
    else if (k == "liquidity") e = get_num_text(v, f.liquidity);
    else if (k == "tradeId") e = get_num_text(v, f.trade_id);
    else if (k == "matchSize") e = get_num_text(v, f.match_size);
    else if (k == "matchPrice") e = get_num_text(v, f.match_price);
    else if (k == "filledSize") e = get_num_text(v, f.filled_size);
    else if (k == "size") e = get_num_text(v, f.size);
    else if (k == "ts") e = get_u64_any(v, f.ts);
    if (e != Errc::ok) return e;
  }
  return Errc::ok;
}

// The fields of a REST answer: {"code":..,"msg":..,"data":{..}|null}, data an order (query), {"orderId"}
// (new order) or {"clientOid"} (cancel).
struct RestBody {
  std::int64_t code{-1};
  bool has_data{false}, data_null{false}, data_object{false};
  std::string_view order_id, symbol, side, status, size, filled_size, filled_value, type, stop;
  std::uint64_t updated_ms{0};
  bool is_active{false}, has_active{false};
  bool cancel_exist{false}, has_cancel_exist{false};
};

Errc walk_rest_data(od::object obj, RestBody& b) noexcept {
  for (auto field : obj) {
    std::string_view k;
    if (field.unescaped_key().get(k)) return Errc::bad_format;
    od::value v;
    if (field.value().get(v)) return Errc::bad_format;
    Errc e = Errc::ok;
    if (k == "orderId" || k == "id") e = get_num_text(v, b.order_id);
    else if (k == "symbol") e = get_text(v, b.symbol);
    else if (k == "side") e = get_text(v, b.side);
    else if (k == "status") e = get_text(v, b.status);
    else if (k == "size") e = get_num_text(v, b.size);
    else if (k == "filledSize") e = get_num_text(v, b.filled_size);
    else if (k == "filledValue") e = get_num_text(v, b.filled_value);
    else if (k == "type") e = get_text(v, b.type);
    else if (k == "stop") e = get_num_text(v, b.stop);  // "down", "up", or "" / null: not a stop
    else if (k == "updatedAt") e = get_u64_any(v, b.updated_ms);
    else if (k == "isActive") e = get_bool(v, b.is_active, b.has_active);
    else if (k == "cancelExist") e = get_bool(v, b.cancel_exist, b.has_cancel_exist);
    if (e != Errc::ok) return e;
  }
  return Errc::ok;
}

// KuCoin writes codes as strings ("200000"); a number is accepted too.
Errc get_code(od::value v, std::int64_t& out) noexcept {
  std::uint64_t u = 0;
  std::string_view s;
  if (const Errc e = get_num_text(v, s); e != Errc::ok) return e;
  if (!parse_u64(s, u) || u > static_cast<std::uint64_t>(INT32_MAX)) return Errc::wrong_type;
  out = static_cast<std::int64_t>(u);
  return Errc::ok;
}

Errc walk_rest(od::object obj, RestBody& b) noexcept {
  for (auto field : obj) {
    std::string_view k;
    if (field.unescaped_key().get(k)) return Errc::bad_format;
    od::value v;
    if (field.value().get(v)) return Errc::bad_format;
    if (k == "code") {
      if (const Errc e = get_code(v, b.code); e != Errc::ok) return e;
    } else if (k == "data") {
      b.has_data = true;
      od::json_type t;
      if (v.type().get(t)) return Errc::bad_format;
      if (t == od::json_type::null) {
        b.data_null = true;
      } else if (t == od::json_type::object) {
        od::object d;
        if (v.get_object().get(d)) return Errc::wrong_type;
        if (const Errc e = walk_rest_data(d, b); e != Errc::ok) return e;
        b.data_object = true;
      }  // an array or a scalar: skipped (cancel-all answers {"cancelledOrderIds":[..]} in an object anyway)
    }
  }
  return Errc::ok;
}

// Venue nanoseconds (ts) into the signed field; past year 2262 does not fit.
Errc ns_from(std::uint64_t ns, std::int64_t& out) noexcept {
  if (ns > static_cast<std::uint64_t>(INT64_MAX)) return Errc::out_of_range;
  out = static_cast<std::int64_t>(ns);
  return Errc::ok;
}

// Average price of a query answer: filledValue (settlement currency) / (filledSize lots * multiplier). Linear
// contracts only (value = price * size * multiplier); zero when it cannot be told.
Price average_price(std::string_view filled_value, Qty filled, const InstrumentSpec& spec) noexcept {
  if (filled.raw() <= 0 || spec.multiplier.raw() <= 0 || spec.kind == InstrumentKind::inverse_perpetual) return {};
  const auto value = Notional::parse(filled_value);
  if (!value.ok() || value.value.raw() <= 0) return {};
  // base qty raw (Qty scale) = lots * multiplier; price raw = value / base, rescaled from Notional's 8 digits
  // to Price's 10 through Qty's 10: price_raw = value_raw * 10^(10 + 10 - 8) / base_raw.
  const int128 base = div_round(static_cast<int128>(filled.raw()) * spec.multiplier.raw(), Qty::kScale, Rounding::nearest);
  if (base <= 0) return {};
  constexpr int128 k = static_cast<int128>(Price::kScale) * Qty::kScale / Notional::kScale;
  const int128 px = div_round(static_cast<int128>(value.value.raw()) * k, base, Rounding::nearest);
  if (px <= 0 || px > INT64_MAX) return {};
  return Price::from_raw(static_cast<std::int64_t>(px));
}

}  // namespace

Reason reason_from_code(std::int32_t code) noexcept {
  switch (code) {
    case 300003:                                      // "Balance not enough"
    case 200005: return Reason::insufficient_margin;  // insufficient balance (risk limit change)
    case 100004: return Reason::order_not_found;      // "Order is in not cancelable state" (gone or done)
    case 100001:                                      // "There are invalid parameters"
    case 100003:                                      // "Contract parameter invalid" (no such contract)
    case 200003:                                      // "The symbol parameter is invalid."
    case 300000:                                      // "request parameter illegal"
    case 300012:                                      // order price beyond the allowed limit (ccxt: InvalidOrder)
    case 400100: return Reason::invalid_order;        // "Parameter Error"
    default: return Reason::venue_error;              // 429000 / 200002 / 1015 rate limits included
  }
}

struct UserStreamDecoder::Impl {
  const InstrumentRegistry& registry;
  Venue venue;
  venue_json::PaddedParser json;
  FeeTable fees;  // the account's rates (set_fee_rates): each fill and a query answer's filled value are priced at them

  Impl(const InstrumentRegistry& r, Venue v, std::size_t max) : registry(r), venue(v), json(max, "kucoin futures user decoder") {}

  Errc open(std::string_view msg, std::size_t padded_capacity, od::document& doc) noexcept {
    return json.open(msg, padded_capacity, doc);
  }

  Errc order_report(const StreamOrder& f, ExecReport& out) noexcept {
    out = ExecReport{};
    if (f.client_id.empty() || f.side.empty() || f.symbol.empty()) return Errc::missing_field;
    const auto id = ClientOrderId::from(f.client_id);
    if (!id.ok()) return Errc::out_of_range;
    out.client_id = id.value;
    const auto vid = VenueOrderId::from(f.order_id);
    if (!vid.ok()) return Errc::out_of_range;
    out.venue_order_id = vid.value;
    if (!side_from(f.side, out.side)) return Errc::bad_format;
    const auto found = registry.find(venue, f.symbol);
    if (!found) return Errc::not_found;
    out.instrument = *found;
    if (const Errc e = ns_from(f.ts, out.venue_time_ns); e != Errc::ok) return e;
    std::uint64_t seq = 0;
    if (parse_u64(f.trade_id, seq)) out.venue_seq = seq;  // informational; hex ids (older trades) stay 0
    return parse_opt(f.filled_size, out.cum_qty);
  }

  // advancedOrders: "cancel" -> canceled, "triggered" -> triggered (its trades follow on tradeOrders under its
  // clientOid), "open" -> ignored (the REST answer acknowledged it). The report names the order by the venue's
  // orderId only (client_id empty): the gateway knows whose it is.
  Result<UserEvent> stop_order_report(const StreamOrder& f, ExecReport& out) noexcept {
    using R = Result<UserEvent>;
    if (f.type.empty() || f.order_id.empty() || f.side.empty() || f.symbol.empty()) return R::failure(Errc::missing_field);
    const bool cancel = f.type == "cancel", triggered = f.type == "triggered";
    if (f.type == "open") return R::success(UserEvent::ignored);
    if (!cancel && !triggered) return R::failure(Errc::unknown_message);
    out = ExecReport{};
    const auto vid = VenueOrderId::from(f.order_id);
    if (!vid.ok()) return R::failure(Errc::out_of_range);
    out.venue_order_id = vid.value;
    if (!side_from(f.side, out.side)) return R::failure(Errc::bad_format);
    const auto found = registry.find(venue, f.symbol);
    if (!found) return R::failure(Errc::not_found);
    out.instrument = *found;
    if (const Errc e = ns_from(f.ts, out.venue_time_ns); e != Errc::ok) return R::failure(e);
    out.kind = cancel ? ExecKind::canceled : ExecKind::triggered;
    out.status = cancel ? OrderStatus::canceled : OrderStatus::accepted;
    return R::success(UserEvent::report);
  }

  // `value` at the account's rate for the liquidity (linear contracts; zero without rates, and for inverse
  // ones, whose fee is in the base coin).
  Notional priced_fee(InstrumentId inst, Notional value, bool maker) const noexcept {
    if (registry.get(inst).kind == InstrumentKind::inverse_perpetual) return {};
    return fees.price(inst, value, maker);
  }

  Errc fill_report(const StreamOrder& f, ExecReport& out) noexcept {
    out.kind = ExecKind::fill;
    if (f.filled_size.empty()) return Errc::missing_field;  // without it the state machine would book nothing
    if (const Errc e = parse_opt(f.match_size, out.last_qty); e != Errc::ok) return e;
    if (const Errc e = parse_opt(f.match_price, out.last_px); e != Errc::ok) return e;
    if (out.last_qty.raw() <= 0 || out.last_px.raw() <= 0) return Errc::out_of_range;
    out.maker = f.liquidity == "maker";
    // KuCoin sends no fee: the match's value at the account's rate for its liquidity.
    if (const auto value = notional_of(out.last_px, out.last_qty, registry.get(out.instrument).multiplier); value.ok())
      out.fee = priced_fee(out.instrument, value.value, out.maker);
    Qty size{};
    const bool done = parse_opt(f.size, size) == Errc::ok && size.raw() > 0 && out.cum_qty >= size;
    out.status = done || f.status == "done" ? OrderStatus::filled : OrderStatus::partially_filled;
    return Errc::ok;
  }

  Result<UserEvent> decode(std::string_view msg, std::size_t padded_capacity, ExecReport& out) noexcept {
    using R = Result<UserEvent>;
    od::document doc;
    if (const Errc e = open(msg, padded_capacity, doc); e != Errc::ok) return R::failure(e);
    od::object top;
    if (const Errc e = top_object(doc, top); e != Errc::ok) return R::failure(e);
    std::string_view type, topic;
    std::uint64_t code = 0;
    StreamOrder f;
    bool has_data = false, data_is_object = false;
    Errc data_err = Errc::ok;
    for (auto field : top) {
      std::string_view k;
      if (field.unescaped_key().get(k)) return R::failure(Errc::bad_format);
      od::value v;
      if (field.value().get(v)) return R::failure(Errc::bad_format);
      if (k == "type") {
        if (get_text(v, type) != Errc::ok) return R::failure(Errc::wrong_type);
      } else if (k == "topic") {
        if (get_text(v, topic) != Errc::ok) return R::failure(Errc::wrong_type);
      } else if (k == "code") {
        if (get_u64_any(v, code) != Errc::ok) return R::failure(Errc::wrong_type);
      } else if (k == "data" && (topic.empty() || is_order_topic(topic) || topic == kStopOrderTopic)) {
        // KuCoin sends type and topic first; should data come earlier it is read now and judged once the
        // topic is known (a wallet or position message is not an order and its errors do not count).
        has_data = true;
        od::json_type t;
        if (v.type().get(t)) return R::failure(Errc::bad_format);
        if (t == od::json_type::object) {
          data_is_object = true;
          od::object o;
          data_err = v.get_object().get(o) ? Errc::wrong_type : walk_stream_order(o, f);
        }
      }
    }
    if (type.empty()) return R::failure(Errc::missing_field);
    if (type == "error") {
      // {"type":"error","code":401,"data":"token is invalid"}: the token is dead, reconnect with a new one.
      if (code == 401) return R::success(UserEvent::listen_key_expired);
      return R::failure(Errc::unknown_message);  // 400 ping timeout, 404 topic, 509 limits: the gateway logs it
    }
    if (type != "message") return R::success(UserEvent::ignored);  // welcome, ack, pong, notice
    if (topic.empty()) return R::failure(Errc::missing_field);
    if (topic == kStopOrderTopic) {
      if (!has_data) return R::failure(Errc::missing_field);
      if (!data_is_object) return R::failure(Errc::wrong_type);
      if (data_err != Errc::ok) return R::failure(data_err);
      return stop_order_report(f, out);
    }
    if (!is_order_topic(topic)) return R::success(UserEvent::ignored);
    if (!has_data) return R::failure(Errc::missing_field);
    if (!data_is_object) return R::failure(Errc::wrong_type);
    if (data_err != Errc::ok) return R::failure(data_err);
    if (f.type.empty()) return R::failure(Errc::missing_field);
    if (f.type == "update") return R::success(UserEvent::ignored);  // size amended: no fill, no state change
    const bool open_msg = f.type == "open", match = f.type == "match", filled = f.type == "filled",
               canceled = f.type == "canceled";
    if (!open_msg && !match && !filled && !canceled) return R::failure(Errc::unknown_message);
    if (const Errc e = order_report(f, out); e != Errc::ok) return R::failure(e);
    if (open_msg) {
      out.kind = ExecKind::accepted;
      out.status = out.cum_qty.raw() > 0 ? OrderStatus::partially_filled : OrderStatus::accepted;
    } else if (canceled) {
      out.kind = ExecKind::canceled;
      out.status = OrderStatus::canceled;
    } else if (match || !f.match_size.empty() || !f.match_price.empty()) {
      if (const Errc e = fill_report(f, out); e != Errc::ok) return R::failure(e);
      if (filled) out.status = OrderStatus::filled;
    } else {
      // "filled" without match fields: the order is done; its trades came as "match" messages before.
      if (f.filled_size.empty()) return R::failure(Errc::missing_field);
      out.kind = ExecKind::status;
      out.status = OrderStatus::filled;
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
    if (e == Errc::ok) e = top_object(doc, obj);
    RestBody b;
    if (e == Errc::ok) e = walk_rest(obj, b);
    if (e == Errc::ok && b.code < 0) e = Errc::missing_field;
    if (e != Errc::ok) return unknown(e);  // cannot tell what the venue did
    const bool ok_http = http >= 200 && http < 300;
    if (b.code == kSuccess) {
      if (!ok_http) return unknown(Errc::bad_format);  // success code on an error status: not an answer we know
      if (const Errc se = success(kind, b, inst, r); se != Errc::ok) return unknown(se);
      return Errc::ok;
    }
    // 500000 "Internal Server Error" in a body: the venue does not know either.
    if (b.code >= 500000 && b.code < 600000) return unknown(Errc::ok);
    out.venue_code = static_cast<std::int32_t>(b.code);
    r.reason = reason_from_code(out.venue_code);
    switch (kind) {
      case RestRequest::new_order: r.kind = ExecKind::rejected; r.status = OrderStatus::rejected; break;
      case RestRequest::cancel:
      case RestRequest::cancel_batch:
        r.kind = ExecKind::cancel_rejected;
        r.status = OrderStatus::unknown;  // the cancel's refusal says nothing of the order itself
        break;
      case RestRequest::query: {
        // No refusal code means "no such order" (that is data null); ask again later.
        const std::int32_t code = out.venue_code;
        unknown(Errc::ok);
        out.venue_code = code;
        break;
      }
      case RestRequest::cancel_all:
      case RestRequest::countdown: r.kind = ExecKind::status; break;  // refused: venue_code says why
    }
    return Errc::ok;
  }

  // A {"code":"200000"} answer. Returns non-ok when its data is not what the request kind answers with.
  Errc success(RestRequest kind, const RestBody& b, InstrumentId inst, ExecReport& r) noexcept {
    switch (kind) {
      case RestRequest::cancel_all:
      case RestRequest::countdown: return Errc::ok;  // nothing to report
      case RestRequest::new_order: {
        if (!b.data_object || b.order_id.empty()) return Errc::missing_field;
        const auto vid = VenueOrderId::from(b.order_id);
        if (!vid.ok()) return Errc::out_of_range;
        r.venue_order_id = vid.value;
        r.kind = ExecKind::accepted;
        r.status = OrderStatus::accepted;
        return Errc::ok;
      }
      case RestRequest::cancel:
      case RestRequest::cancel_batch:
        // Received, not done: the stream's "canceled" ends the order (see the header).
        r.kind = ExecKind::status;
        r.status = OrderStatus::pending_cancel;
        return Errc::ok;
      case RestRequest::query: return query(b, inst, r);
    }
    return Errc::bad_format;
  }

  Errc query(const RestBody& b, InstrumentId inst, ExecReport& r) noexcept {
    r.kind = ExecKind::status;
    if (b.data_null) {  // {"code":"200000","data":null}: the venue has no such order
      r.status = OrderStatus::unknown;
      r.reason = Reason::order_not_found;
      return Errc::ok;
    }
    if (!b.has_data) return Errc::missing_field;
    if (!b.data_object) return Errc::wrong_type;
    if (b.filled_size.empty() || b.size.empty()) return Errc::missing_field;
    Qty size{}, filled{};
    if (parse_opt(b.size, size) != Errc::ok || parse_opt(b.filled_size, filled) != Errc::ok) return Errc::bad_format;
    if (inst == kInvalidInstrument) {
      const auto found = registry.find(venue, b.symbol);
      if (!found) return Errc::not_found;
      inst = *found;
      r.instrument = inst;
    }
    if (inst >= registry.size()) return Errc::not_found;
    if (!b.order_id.empty()) {
      const auto vid = VenueOrderId::from(b.order_id);
      if (vid.ok()) r.venue_order_id = vid.value;
    }
    if (!b.side.empty() && !side_from(b.side, r.side)) return Errc::bad_format;
    if (ms_to_ns(b.updated_ms, r.venue_time_ns) != Errc::ok) r.venue_time_ns = 0;
    bool active = false;
    if (b.has_active) active = b.is_active;
    else if (b.status == "open") active = true;
    else if (b.status != "done") return Errc::missing_field;
    if (active) {
      r.status = filled.raw() > 0 ? OrderStatus::partially_filled : OrderStatus::accepted;
    } else {
      // Done: every lot traded, or the rest was canceled (by us, IOC / post-only, liquidation, ...).
      r.status = size.raw() > 0 && filled >= size ? OrderStatus::filled : OrderStatus::canceled;
    }
    r.cum_qty = filled;
    r.last_px = average_price(b.filled_value, filled, registry.get(inst));
    // No fee in the answer: the filled value priced at the account's rate (ExecReport::fee_priced). A plain
    // limit order rests (maker); a market or stop order takes liquidity (taker).
    if (const auto value = Notional::parse(b.filled_value); filled.raw() > 0 && value.ok()) {
      r.fee = priced_fee(inst, value.value, b.type == "limit" && b.stop.empty());
      r.fee_priced = r.fee.raw() != 0;
    }
    return Errc::ok;
  }
};

UserStreamDecoder::UserStreamDecoder(const InstrumentRegistry& registry, Venue venue, std::size_t max_message_bytes)
    : impl_(std::make_unique<Impl>(registry, venue, max_message_bytes)) {}
UserStreamDecoder::~UserStreamDecoder() = default;

void UserStreamDecoder::set_fee_rates(InstrumentId instrument, FeeRates rates) { impl_->fees.set(instrument, rates); }

Result<UserEvent> UserStreamDecoder::decode(std::string_view msg, std::size_t padded_capacity, ExecReport& out,
                                            std::size_t) noexcept {
  return impl_->decode(msg, padded_capacity, out);
}

Errc UserStreamDecoder::decode_rest(RestRequest kind, int http_status, std::string_view body, const ClientOrderId& id,
                                    InstrumentId instrument, RestAnswer& out) noexcept {
  return impl_->decode_rest(kind, http_status, body, id, instrument, out);
}

// ---- cold path ----

namespace {

namespace dom = simdjson::dom;

// Parses `body` and returns its "data" after checking code 200000; `what` names the request in errors.
dom::element checked_data(dom::parser& parser, std::string_view body, std::string_view what) {
  dom::element doc;
  if (parser.parse(body.data(), body.size()).get(doc) != simdjson::SUCCESS || !doc.is_object())
    throw Error(std::string(what) + ": the answer is not a JSON object: " + quote(body));
  dom::element code_el;
  if (doc["code"].get(code_el) != simdjson::SUCCESS) throw Error(std::string(what) + ": the answer has no code: " + quote(body));
  std::string code;
  if (code_el.is_string()) code = std::string(code_el.get_string().value());
  else if (code_el.is_int64()) code = std::to_string(code_el.get_int64().value());
  if (code != "200000") {
    std::string_view msg;
    if (doc["msg"].get(msg) != simdjson::SUCCESS) msg = "";
    throw Error(std::string(what) + ": the venue refused with code " + (code.empty() ? "?" : code) + ": " + std::string(msg));
  }
  dom::element data;
  if (doc["data"].get(data) != simdjson::SUCCESS) throw Error(std::string(what) + ": the answer has no data: " + quote(body));
  return data;
}

}  // namespace

std::vector<OpenOrder> parse_open_orders(std::string_view body, const InstrumentRegistry& registry, Venue venue,
                                         OpenOrderPage* page) {
  constexpr std::string_view what = "GET /api/v1/orders?status=active";
  dom::parser parser;
  const dom::element data = checked_data(parser, body, what);
  dom::object d;
  dom::array items;
  if (data.get(d) != simdjson::SUCCESS || d["items"].get(items) != simdjson::SUCCESS)
    throw Error(std::string(what) + ": data is not a page with items: " + quote(body));
  if (page != nullptr) {
    std::int64_t n = 0;
    page->current_page = d["currentPage"].get(n) == simdjson::SUCCESS ? n : 0;
    page->total_pages = d["totalPage"].get(n) == simdjson::SUCCESS ? n : 0;
  }
  std::vector<OpenOrder> out;
  for (dom::element item : items) {
    dom::object o;
    if (item.get(o) != simdjson::SUCCESS) throw Error(std::string(what) + ": an item is not an object");
    OpenOrder v;
    v.order_id = num_text(o, "id", what);
    if (v.order_id.empty()) throw Error(std::string(what) + ": an order has no id");
    const std::string where = std::string(what) + ": order " + v.order_id;
    const std::string cid = num_text(o, "clientOid", where);
    if (const auto c = ClientOrderId::from(cid); c.ok()) v.client_id = c.value;  // longer ids stay empty
    v.symbol = text(o, "symbol");
    if (const auto found = registry.find(venue, v.symbol)) v.instrument = *found;
    if (!side_from(text(o, "side"), v.side)) throw Error(where + ": side is not buy or sell");
    v.price = fixed<Price>(o, "price", false, where);
    v.stop_price = fixed<Price>(o, "stopPrice", false, where);
    v.qty = fixed<Qty>(o, "size", true, where);
    v.filled = fixed<Qty>(o, "filledSize", false, where);
    v.reduce_only = flag(o, "reduceOnly");
    const std::string type = text(o, "type");
    const std::string stop = text(o, "stop");  // "down" / "up" / "" (no stop)
    if (type == "limit") {
      v.type = risk::OrderType::limit;  // with a stop: a stop-limit (stop_price says so)
    } else if (type == "market") {
      if (stop.empty()) {
        v.type = risk::OrderType::market;
      } else {
        // As the encoder writes them: a sell stop-loss and a buy take-profit trigger on the way down.
        const bool down = stop == "down";
        if (!down && stop != "up") throw Error(where + ": stop '" + stop + "' is not down or up");
        v.type = down == (v.side == Side::sell) ? risk::OrderType::stop_market : risk::OrderType::take_profit_market;
      }
    } else {
      throw Error(where + ": order type '" + type + "' is not limit or market");
    }
    out.push_back(std::move(v));
  }
  return out;
}

std::vector<VenuePosition> parse_positions(std::string_view body, const InstrumentRegistry& registry, Venue venue) {
  constexpr std::string_view what = "GET /api/v1/positions";
  dom::parser parser;
  const dom::element data = checked_data(parser, body, what);
  dom::array arr;
  if (data.get(arr) != simdjson::SUCCESS) throw Error(std::string(what) + ": data is not an array: " + quote(body));
  std::vector<VenuePosition> out;
  for (dom::element item : arr) {
    dom::object o;
    if (item.get(o) != simdjson::SUCCESS) throw Error(std::string(what) + ": an entry is not an object");
    VenuePosition p;
    p.symbol = text(o, "symbol");
    if (p.symbol.empty()) throw Error(std::string(what) + ": an entry has no symbol");
    const std::string where = std::string(what) + ": " + p.symbol;
    if (const auto found = registry.find(venue, p.symbol)) p.instrument = *found;
    // currentQty is signed (short < 0); Qty::parse reads the sign.
    p.signed_qty = fixed<Qty>(o, "currentQty", true, where);
    p.entry_px = fixed<Price>(o, "avgEntryPrice", false, where);
    out.push_back(std::move(p));
  }
  return out;
}

ApiKeyInfo parse_api_key_info(std::string_view body) {
  constexpr std::string_view what = "GET /api/v1/user/api-key";
  dom::parser parser;
  const dom::element data = checked_data(parser, body, what);
  dom::object d;
  if (data.get(d) != simdjson::SUCCESS) throw Error(std::string(what) + ": data is not an object: " + quote(body));
  ApiKeyInfo info;
  std::string_view perm;
  if (d["permission"].get(perm) != simdjson::SUCCESS) throw Error(std::string(what) + ": data.permission is missing or not a string");
  info.permissions = std::string(perm);
  info.ip_whitelist = text(d, "ipWhitelist");
  const auto lower = [](std::string_view s) {
    std::string l;
    for (const char c : s)
      if (c != ' ' && c != '\t') l.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    return l;
  };
  std::string_view rest = perm;
  while (!rest.empty()) {
    const std::size_t comma = rest.find(',');
    const std::string name = lower(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    if (name == "transfer") {  // transfers out, deposits and withdrawals
      info.can_withdraw = true;
      info.can_transfer = true;
    } else if (name == "withdraw" || name == "withdrawal") {
      info.can_withdraw = true;
    } else if (name == "innertransfer" || name == "flextransfer" || name == "flextransfers") {
      info.can_transfer = true;
    }
  }
  return info;
}

FeeRates parse_trade_fees(std::string_view body, std::string_view symbol) {
  const std::string what = "GET /api/v1/trade-fees?symbol=" + std::string(symbol);
  dom::parser parser;
  const dom::element data = checked_data(parser, body, what);
  dom::object d;
  if (data.get(d) != simdjson::SUCCESS) throw Error(what + ": data is not an object: " + quote(body));
  if (const std::string named = text(d, "symbol"); named != symbol)
    throw Error(what + ": the answer is for symbol '" + named + "'");
  FeeRates r;
  r.maker = fixed<Rate>(d, "makerFeeRate", true, what);
  r.taker = fixed<Rate>(d, "takerFeeRate", true, what);
  for (const Rate x : {r.maker, r.taker})
    if (x.raw() > Rate::kScale || x.raw() < -Rate::kScale) throw Error(what + ": a fee rate outside -1..1: " + x.to_string());
  return r;
}


std::vector<std::string> PrivateStream::after_welcome() const {
  return {R"({"id":"trade-orders","type":"subscribe","topic":"/contractMarket/tradeOrders","privateChannel":true,"response":true})",
          R"({"id":"stop-orders","type":"subscribe","topic":"/contractMarket/advancedOrders","privateChannel":true,"response":true})"};
}

VenueStreamDialect::Answer PrivateStream::answer(std::string_view payload) const noexcept {
  const auto has = [&](std::string_view text) { return payload.find(text) != std::string_view::npos; };
  return has("\"type\":\"ack\"") && has("\"id\":\"stop-orders\"") ? Answer::subscribed : Answer::other;
}


// ---- Start-up reconciliation's queries (oms/venue_queries.hpp) ----

namespace {

using account::field;
using account::SignedRequests;
using account::venue_order_type;

class KucoinFuturesQueries final : public VenueQueries, private SignedRequests<oms::kucoin_futures::Encoder> {
 public:
  KucoinFuturesQueries(VenueCalls& g, oms::kucoin_futures::Encoder& e, const InstrumentRegistry& r)
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
          if (const auto vid = oms::VenueOrderId::from(o.order_id); vid.ok()) calls_.learn_venue_order_id(vid.value, o.client_id);
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
    calls_.learn_venue_order_id(a.report.venue_order_id, o.client_id());  // a stop's events name only that id
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
    calls_.set_fee_rates(instrument, r);
    return r;
  }

 private:
  const InstrumentRegistry& registry_;
  oms::kucoin_futures::UserStreamDecoder decoder_;
  std::vector<oms::kucoin_futures::VenuePosition> positions_;
  bool positions_loaded_{false};
};

}  // namespace

std::unique_ptr<VenueQueries> account_queries(VenueCalls& calls, Encoder& encoder, const InstrumentRegistry& registry) {
  return std::make_unique<KucoinFuturesQueries>(calls, encoder, registry);
}


// ---- The key's permissions (oms/venue_queries.hpp) ----

KeyPermissionsRequest key_permissions_request(const Encoder& signer, std::int64_t now_ms) {
  KeyPermissionsRequest rq;
  rq.path = "/api/v1/user/api-key";
  rq.headers = signer.signed_headers("GET", rq.path, "", now_ms);
  rq.hint = "[live] account_api_url is KuCoin's account host";
  rq.console = "KuCoin API Management";
  rq.read = [](std::string_view body) {
    const ApiKeyInfo a = parse_api_key_info(body);
    KeyPermissions k;
    k.log_fields = "permissions=" + log_quote(a.permissions) + " ip_whitelist=" + log_quote(a.ip_whitelist);
    k.ip_restricted = !a.ip_whitelist.empty();
    k.moves_funds_out = account::funds_out(a.can_withdraw, a.can_transfer, a.permissions);
    return k;
  };
  return rq;
}


namespace {

// REST order entry signed with key, secret and passphrase (API key version 2); the private stream through the
// bullet-private token flow (/contractMarket/tradeOrders).
class Live final : public LiveVenue {
 public:
  Live(const LiveAccount& a, std::string rest_host) : LiveVenue(a, std::move(rest_host), true) {
    config_.host = rest_host_;
  }
  [[nodiscard]] std::string_view name() const noexcept override { return "KuCoin Futures"; }
  [[nodiscard]] std::string auth() const override { return "kucoin-v2"; }

  LiveAccess access(const InstrumentRegistry& registry) override {
    // The gateway's own signer: start-up queries here, then its bullet-private requests on its thread.
    signer_ = std::make_shared<Encoder>(registry, api_key_, secret_, passphrase_, config_);
    LiveAccess a;
    std::string base = account_.rest_url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    a.stream_token_url = base + "/api/v1/bullet-private";
    a.stream_token_headers = [signer = signer_] { return signer->signed_headers("POST", "/api/v1/bullet-private", "", account::wall_ms()); };
    a.stream_token_cost = {10, 1};  // POST /api/v1/bullet-private: weight 10, one of the plan's requests per 3 s
    a.budget = kucoin_futures_private_budget();
    a.budget.weight.limit = static_cast<std::uint32_t>(account_.request_weight_per_30s);
    a.budget.orders_short.limit = static_cast<std::uint32_t>(account_.requests_per_3s);
    return a;
  }
  KeyPermissionsRequest key_permissions_request() override {
    return kucoin_futures::key_permissions_request(*signer_, account::wall_ms());
  }
  std::unique_ptr<VenueOrderEntry> order_entry(const InstrumentRegistry& registry) override {
    return std::make_unique<OrderEntry>(registry, api_key_, secret_, passphrase_, config_);
  }
  std::unique_ptr<VenueQueries> queries(VenueCalls& calls, const InstrumentRegistry& registry) override {
    return account_queries(calls, *signer_, registry);
  }

 private:
  Config config_;
  std::shared_ptr<Encoder> signer_;
};

}  // namespace

std::unique_ptr<LiveVenue> live_venue(const LiveAccount& account, std::string rest_host) {
  return std::make_unique<Live>(account, std::move(rest_host));
}

// [live] on KuCoin Futures: its budget, the passphrase, the bullet-private stream (no URL to set), no dead-man switch.
const LiveVenueRules& live_rules() {
  static const LiveVenueRules rules{Venue::kucoin_futures, "KuCoin Futures",
      {"requests_per_3s", "request_weight_per_30s", "api_passphrase_env", "api_passphrase_file"},
      "requests_per_3s, request_weight_per_30s, the passphrase and the bullet-private stream",
      "https://api-futures.kucoin.com", "https://api.kucoin.com", {}, false,
      {DeadManRule::Kind::none, "no cancel-all-after endpoint", 0, 0, false}};
  return rules;
}

}  // namespace enigma::oms::kucoin_futures
