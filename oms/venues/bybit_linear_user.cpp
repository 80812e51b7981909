#include "oms/venues/bybit_linear_user.hpp"
#include "core/logger.hpp"
#include "oms/venues/account_queries.hpp"
#include "oms/venues/bybit_linear.hpp"

#include <simdjson.h>

#include <cctype>
#include <cstdint>
#include <cstring>
#include <vector>

#include "oms/venues/venue_json.hpp"

namespace enigma::oms::bybit_linear {

namespace od = simdjson::ondemand;
using namespace venue_json;  // the decoders' shared JSON helpers

namespace {

// ---- hot path helpers (no allocation, no throw) ----

// retCode: an int32, negative for a few spot codes (-2015).
Errc get_code(od::value v, std::int64_t& out) noexcept {
  std::string_view s;
  if (const Errc e = get_num_text(v, s); e != Errc::ok) return e;
  const bool neg = !s.empty() && s.front() == '-';
  if (neg) s.remove_prefix(1);
  std::uint64_t u = 0;
  if (!parse_u64(s, u) || u > static_cast<std::uint64_t>(INT32_MAX)) return Errc::wrong_type;
  out = neg ? -static_cast<std::int64_t>(u) : static_cast<std::int64_t>(u);
  return Errc::ok;
}

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
  if (s == "Buy")
    out = Side::buy;
  else if (s == "Sell")
    out = Side::sell;
  else
    return false;
  return true;
}

bool is_order_topic(std::string_view t) noexcept { return t == "order" || t == "order.linear"; }
// Not "execution.fast": it has no orderQty / leavesQty, so no cumulative qty.
bool is_execution_topic(std::string_view t) noexcept { return t == "execution" || t == "execution.linear"; }

// One element of an "order" or "execution" data array, or of a REST result.list: the fields of all three
// (they share their names), read in any order.
struct Element {
  std::string_view category, symbol, side, order_id, link_id, order_status, reject_reason, cum_exec_qty, avg_price;
  std::string_view exec_type, exec_id, exec_qty, exec_price, exec_fee, order_qty, leaves_qty, cum_exec_fee;
  std::uint64_t updated_ms{0}, exec_ms{0};
  bool is_maker{false}, has_maker{false};
};

Errc walk_element(od::object obj, Element& f) noexcept {
  for (auto field : obj) {
    std::string_view k;
    if (field.unescaped_key().get(k)) return Errc::bad_format;
    od::value v;
    if (field.value().get(v)) return Errc::bad_format;
    Errc e = Errc::ok;
    if (k == "category")
      e = get_text(v, f.category);
    else if (k == "symbol")
      e = get_text(v, f.symbol);
    else if (k == "side")
      e = get_text(v, f.side);
    else if (k == "orderId")
      e = get_num_text(v, f.order_id);
    else if (k == "orderLinkId")
      e = get_num_text(v, f.link_id);
    else if (k == "orderStatus")
      e = get_text(v, f.order_status);
    else if (k == "rejectReason")
      e = get_num_text(v, f.reject_reason);
    else if (k == "cumExecQty")
      e = get_num_text(v, f.cum_exec_qty);
    else if (k == "avgPrice")
      e = get_num_text(v, f.avg_price);
    else if (k == "execType")
      e = get_text(v, f.exec_type);
    else if (k == "execId")
      e = get_num_text(v, f.exec_id);
    else if (k == "execQty")
      e = get_num_text(v, f.exec_qty);
    else if (k == "execPrice")
      e = get_num_text(v, f.exec_price);
    else if (k == "execFee")
      e = get_num_text(v, f.exec_fee);
    else if (k == "cumExecFee")
      e = get_num_text(v, f.cum_exec_fee);
    else if (k == "orderQty")
      e = get_num_text(v, f.order_qty);
    else if (k == "leavesQty")
      e = get_num_text(v, f.leaves_qty);
    else if (k == "updatedTime")
      e = get_u64_any(v, f.updated_ms);
    else if (k == "execTime")
      e = get_u64_any(v, f.exec_ms);
    else if (k == "isMaker")
      e = get_bool(v, f.is_maker, f.has_maker);
    if (e != Errc::ok) return e;
  }
  return Errc::ok;
}

// rejectReason (Bybit's EC_* names) of a canceled or rejected order -> our reason; `fallback` otherwise.
Reason reason_from_reject(std::string_view s, Reason fallback) noexcept {
  if (s == "EC_PostOnlyWillTakeLiquidity") return Reason::post_only_would_cross;
  if (s == "EC_NoImmediateQtyToFill") return Reason::ioc_no_liquidity;
  if (s == "EC_NoEnoughQtyToFill") return Reason::fok_unfillable;
  return fallback;
}

// A REST answer: {"retCode":..,"retMsg":..,"result":{"orderId":..,"orderLinkId":..} | {"list":[..]}}.
struct RestBody {
  std::int64_t code{-1};
  bool has_code{false};
  bool result_object{false}, has_list{false};
  std::string_view order_id;  // result.orderId (create / cancel)
  std::size_t list_count{0};
  Element first;  // result.list[0] (query)
  Errc first_err{Errc::ok};
};

Errc walk_result(od::object obj, RestBody& b) noexcept {
  for (auto field : obj) {
    std::string_view k;
    if (field.unescaped_key().get(k)) return Errc::bad_format;
    od::value v;
    if (field.value().get(v)) return Errc::bad_format;
    if (k == "orderId") {
      if (const Errc e = get_num_text(v, b.order_id); e != Errc::ok) return e;
    } else if (k == "list") {
      od::array arr;
      if (v.get_array().get(arr)) return Errc::wrong_type;
      bool found = false;
      if (const Errc e = walk_array(arr, 0, b.first, b.list_count, found, b.first_err, walk_element); e != Errc::ok) return e;
      b.has_list = true;
    }
  }
  return Errc::ok;
}

Errc walk_rest(od::object obj, RestBody& b) noexcept {
  for (auto field : obj) {
    std::string_view k;
    if (field.unescaped_key().get(k)) return Errc::bad_format;
    od::value v;
    if (field.value().get(v)) return Errc::bad_format;
    if (k == "retCode") {
      if (const Errc e = get_code(v, b.code); e != Errc::ok) return e;
      b.has_code = true;
    } else if (k == "result") {
      od::json_type t;
      if (v.type().get(t)) return Errc::bad_format;
      if (t == od::json_type::object) {
        od::object r;
        if (v.get_object().get(r)) return Errc::wrong_type;
        if (const Errc e = walk_result(r, b); e != Errc::ok) return e;
        b.result_object = true;
      }  // null / [] on some refusals: nothing to read
    }
  }
  return Errc::ok;
}

// The venue's order status -> ours, given the filled qty (a conditional order is accepted until it fires).
bool status_from(std::string_view s, Qty cum, OrderStatus& out) noexcept {
  const OrderStatus live = cum.raw() > 0 ? OrderStatus::partially_filled : OrderStatus::accepted;
  if (s == "New" || s == "Untriggered" || s == "Triggered")
    out = live;
  else if (s == "PartiallyFilled")
    out = OrderStatus::partially_filled;
  else if (s == "Filled")
    out = OrderStatus::filled;
  else if (s == "Cancelled" || s == "PartiallyFilledCanceled" || s == "Deactivated")
    out = OrderStatus::canceled;
  else if (s == "Rejected")
    out = OrderStatus::rejected;
  else
    return false;
  return true;
}

}  // namespace

Reason reason_from_code(std::int32_t code) noexcept {
  switch (code) {
    case 110004:  // "Wallet balance is insufficient"
    case 110006:  // "The assets are estimated to be unable to cover the position margin"
    case 110007:  // "Available balance is insufficient"
    case 110012:  // "Insufficient available balance."
    case 110044:  // "Available margin is insufficient."
    case 110045:  // "Wallet balance is insufficient."
    case 110052:
      return Reason::insufficient_margin;  // "Your available balance is insufficient to set the price"
    case 110001:                           // "Order does not exist"
    case 110008:                           // "The order has been completed or cancelled."
    case 110010:
      return Reason::order_not_found;  // "The order has been cancelled"
    case 110017:
      return Reason::reduce_only_would_increase;  // "Reduce-only rule not satisfied"
    case 10001:                                   // "Request parameter error"
    case 110003:                                  // "Order price exceeds the allowable range."
    case 110032:                                  // "Order is illegal"
    case 110072:
      return Reason::invalid_order;  // "OrderLinkedID is duplicate"
    default:
      return Reason::venue_error;  // 10006 / 10018 rate limits and credentials included
  }
}

struct UserStreamDecoder::Impl {
  const InstrumentRegistry& registry;
  Venue venue;
  venue_json::PaddedParser json;
  std::size_t last_count{0};
  std::int32_t last_ret_code{0};

  Impl(const InstrumentRegistry& r, Venue v, std::size_t max) : registry(r), venue(v), json(max, "bybit linear user decoder") {}

  Errc open(std::string_view msg, std::size_t padded_capacity, od::document& doc) noexcept {
    return json.open(msg, padded_capacity, doc);
  }

  // The fields every report of an order carries: ids, side, instrument.
  Errc common(const Element& f, ExecReport& out) noexcept {
    out = ExecReport{};
    if (f.symbol.empty() || f.side.empty()) return Errc::missing_field;
    if (!f.link_id.empty()) {  // "" for an order placed without one (and from(): no memcpy from a null view)
      const auto id = ClientOrderId::from(f.link_id);
      if (!id.ok()) return Errc::out_of_range;
      out.client_id = id.value;
    }
    const auto vid = VenueOrderId::from(f.order_id);
    if (!vid.ok()) return Errc::out_of_range;
    out.venue_order_id = vid.value;
    if (!side_from(f.side, out.side)) return Errc::bad_format;
    const auto found = registry.find(venue, f.symbol);
    if (!found) return Errc::not_found;
    out.instrument = *found;
    return Errc::ok;
  }

  Result<UserEvent> order_report(const Element& f, ExecReport& out) noexcept {
    using R = Result<UserEvent>;
    if (f.order_status.empty()) return R::failure(Errc::missing_field);
    if (const Errc e = common(f, out); e != Errc::ok) return R::failure(e);
    if (const Errc e = ms_to_ns(f.updated_ms, out.venue_time_ns); e != Errc::ok) return R::failure(e);
    if (const Errc e = parse_opt(f.cum_exec_qty, out.cum_qty); e != Errc::ok) return R::failure(e);
    const std::string_view s = f.order_status;
    if (s == "New" || s == "Untriggered") {
      out.kind = ExecKind::accepted;
      out.status = out.cum_qty.raw() > 0 ? OrderStatus::partially_filled : OrderStatus::accepted;
      return R::success(UserEvent::report);
    }
    if (s == "Triggered") {
      out.kind = ExecKind::triggered;
      out.status = OrderStatus::accepted;
      return R::success(UserEvent::report);
    }
    // The rest may carry fills: their average price books a jump the executions did not (see the header).
    if (const Errc e = parse_opt(f.avg_price, out.last_px); e != Errc::ok) return R::failure(e);
    if (s == "PartiallyFilled" || s == "Filled") {
      out.kind = ExecKind::status;
      out.status = s == "Filled" ? OrderStatus::filled : OrderStatus::partially_filled;
    } else if (s == "Cancelled" || s == "PartiallyFilledCanceled" || s == "Deactivated") {
      out.kind = ExecKind::canceled;
      out.status = OrderStatus::canceled;
      out.reason = reason_from_reject(f.reject_reason, Reason::none);
    } else if (s == "Rejected") {
      out.kind = ExecKind::rejected;
      out.status = OrderStatus::rejected;
      out.reason = reason_from_reject(f.reject_reason, Reason::venue_error);
    } else {
      return R::failure(Errc::unknown_message);
    }
    return R::success(UserEvent::report);
  }

  Result<UserEvent> execution_report(const Element& f, ExecReport& out) noexcept {
    using R = Result<UserEvent>;
    if (f.exec_type.empty()) return R::failure(Errc::missing_field);
    if (f.exec_type != "Trade") return R::success(UserEvent::ignored);  // Funding, AdlTrade, BustTrade, ...
    if (const Errc e = common(f, out); e != Errc::ok) return R::failure(e);
    if (f.exec_qty.empty() || f.exec_price.empty() || f.order_qty.empty() || f.leaves_qty.empty())
      return R::failure(Errc::missing_field);
    out.kind = ExecKind::fill;
    if (const Errc e = parse_opt(f.exec_qty, out.last_qty); e != Errc::ok) return R::failure(e);
    if (const Errc e = parse_opt(f.exec_price, out.last_px); e != Errc::ok) return R::failure(e);
    if (const Errc e = parse_opt(f.exec_fee, out.fee); e != Errc::ok) return R::failure(e);
    if (out.last_qty.raw() <= 0 || out.last_px.raw() <= 0) return R::failure(Errc::out_of_range);
    Qty order_qty{}, leaves{};
    if (const Errc e = parse_opt(f.order_qty, order_qty); e != Errc::ok) return R::failure(e);
    if (const Errc e = parse_opt(f.leaves_qty, leaves); e != Errc::ok) return R::failure(e);
    if (leaves.raw() < 0 || leaves > order_qty || order_qty.raw() <= 0) return R::failure(Errc::out_of_range);
    out.cum_qty = order_qty - leaves;  // after this trade: what the state machine books against
    out.status = leaves.raw() == 0 ? OrderStatus::filled : OrderStatus::partially_filled;
    out.maker = f.is_maker;
    std::uint64_t seq = 0;
    if (parse_u64(f.exec_id, seq)) out.venue_seq = seq;  // informational; linear execIds are UUIDs (0)
    if (const Errc e = ms_to_ns(f.exec_ms, out.venue_time_ns); e != Errc::ok) return R::failure(e);
    return R::success(UserEvent::report);
  }

  Result<UserEvent> decode(std::string_view msg, std::size_t padded_capacity, ExecReport& out,
                           std::size_t index) noexcept {
    using R = Result<UserEvent>;
    last_count = 0;
    od::document doc;
    if (const Errc e = open(msg, padded_capacity, doc); e != Errc::ok) return R::failure(e);
    od::object top;
    if (const Errc e = top_object(doc, top); e != Errc::ok) return R::failure(e);
    std::string_view topic, op;
    std::int64_t code = 0;
    bool success = false, has_success = false, has_data = false, data_is_array = false, found = false;
    std::size_t count = 0;
    Element f;
    Errc elem_err = Errc::ok;
    for (auto field : top) {
      std::string_view k;
      if (field.unescaped_key().get(k)) return R::failure(Errc::bad_format);
      od::value v;
      if (field.value().get(v)) return R::failure(Errc::bad_format);
      if (k == "topic") {
        if (get_text(v, topic) != Errc::ok) return R::failure(Errc::wrong_type);
      } else if (k == "op") {
        if (get_text(v, op) != Errc::ok) return R::failure(Errc::wrong_type);
      } else if (k == "success") {
        if (get_bool(v, success, has_success) != Errc::ok) return R::failure(Errc::wrong_type);
      } else if (k == "retCode" || k == "ret_code") {
        if (get_code(v, code) != Errc::ok) return R::failure(Errc::wrong_type);
      } else if (k == "data") {
        // Read whatever the topic (Bybit sends it first, but key order is not promised); judged below.
        has_data = true;
        od::json_type t;
        if (v.type().get(t)) return R::failure(Errc::bad_format);
        if (t == od::json_type::array) {
          data_is_array = true;
          od::array arr;
          if (v.get_array().get(arr)) return R::failure(Errc::bad_format);
          if (const Errc e = walk_array(arr, index, f, count, found, elem_err, walk_element); e != Errc::ok) return R::failure(e);
        }
      }
    }
    if (!op.empty()) {
      if (op == "auth") {
        if (!has_success) return R::failure(Errc::missing_field);
        if (success) return R::success(UserEvent::ignored);
        last_ret_code = static_cast<std::int32_t>(code);
        return R::success(UserEvent::listen_key_expired);
      }
      if (op == "subscribe" && has_success && !success) return R::failure(Errc::unknown_message);
      return R::success(UserEvent::ignored);  // subscribe ack, pong
    }
    if (topic.empty()) return R::failure(Errc::missing_field);
    const bool order = is_order_topic(topic), execution = is_execution_topic(topic);
    if (!order && !execution) return R::success(UserEvent::ignored);  // position, wallet, dcp, execution.fast, ...
    if (!has_data) return R::failure(Errc::missing_field);
    if (!data_is_array) return R::failure(Errc::wrong_type);
    last_count = count;
    if (!found) return R::success(UserEvent::ignored);  // past the end
    if (elem_err != Errc::ok) return R::failure(elem_err);
    if (!f.category.empty() && f.category != "linear") return R::success(UserEvent::ignored);
    return order ? order_report(f, out) : execution_report(f, out);
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
    if (e == Errc::ok && !b.has_code) e = Errc::missing_field;
    if (e != Errc::ok) return unknown(e);  // cannot tell what the venue did
    const bool ok_http = http >= 200 && http < 300;
    if (b.code == 0) {
      if (!ok_http) return unknown(Errc::bad_format);  // success code on an error status: not an answer we know
      if (const Errc se = success(kind, b, id, inst, r); se != Errc::ok) return unknown(se);
      return Errc::ok;
    }
    // 10000 "Server Timeout", 10016 "Server error": the venue does not know either.
    if (b.code == 10000 || b.code == 10016) return unknown(Errc::ok);
    out.venue_code = static_cast<std::int32_t>(b.code);
    r.reason = reason_from_code(out.venue_code);
    switch (kind) {
      case RestRequest::new_order:
        r.kind = ExecKind::rejected;
        r.status = OrderStatus::rejected;
        break;
      case RestRequest::cancel:
      case RestRequest::cancel_batch:
        r.kind = ExecKind::cancel_rejected;
        r.status = OrderStatus::unknown;  // the cancel's refusal says nothing of the order itself
        break;
      case RestRequest::query: {
        // "No such order" is an empty list, not a refusal; ask again later.
        const std::int32_t code = out.venue_code;
        unknown(Errc::ok);
        out.venue_code = code;
        break;
      }
      case RestRequest::cancel_all:
      case RestRequest::countdown:
        r.kind = ExecKind::status;
        break;  // refused: venue_code says why
    }
    return Errc::ok;
  }

  // A retCode 0 answer. Returns non-ok when its result is not what the request kind answers with.
  Errc success(RestRequest kind, const RestBody& b, const ClientOrderId& id, InstrumentId inst,
               ExecReport& r) noexcept {
    switch (kind) {
      case RestRequest::cancel_all:
      case RestRequest::countdown:
        return Errc::ok;  // nothing to report
      case RestRequest::new_order: {
        if (!b.result_object || b.order_id.empty()) return Errc::missing_field;
        const auto vid = VenueOrderId::from(b.order_id);
        if (!vid.ok()) return Errc::out_of_range;
        r.venue_order_id = vid.value;
        r.kind = ExecKind::accepted;
        r.status = OrderStatus::accepted;
        return Errc::ok;
      }
      case RestRequest::cancel:
      case RestRequest::cancel_batch:
        // Accepted, not done: the stream's Cancelled ends the order (see the header).
        r.kind = ExecKind::status;
        r.status = OrderStatus::pending_cancel;
        return Errc::ok;
      case RestRequest::query:
        return query(b, id, inst, r);
    }
    return Errc::bad_format;
  }

  Errc query(const RestBody& b, const ClientOrderId& id, InstrumentId inst, ExecReport& r) noexcept {
    r.kind = ExecKind::status;
    if (!b.result_object || !b.has_list) return Errc::missing_field;
    if (b.list_count == 0) {  // {"result":{"list":[]}}: the venue has no such order
      r.status = OrderStatus::unknown;
      r.reason = Reason::order_not_found;
      return Errc::ok;
    }
    if (b.first_err != Errc::ok) return b.first_err;
    const Element& f = b.first;
    if (!f.link_id.empty() && f.link_id != id.view()) return Errc::not_found;  // an answer about another order
    if (f.order_status.empty() || f.cum_exec_qty.empty()) return Errc::missing_field;
    Qty filled{};
    if (parse_opt(f.cum_exec_qty, filled) != Errc::ok) return Errc::bad_format;
    if (inst == kInvalidInstrument) {
      const auto found = registry.find(venue, f.symbol);
      if (!found) return Errc::not_found;
      inst = *found;
      r.instrument = inst;
    }
    if (inst >= registry.size()) return Errc::not_found;
    if (!f.order_id.empty()) {
      const auto vid = VenueOrderId::from(f.order_id);
      if (vid.ok()) r.venue_order_id = vid.value;
    }
    if (!f.side.empty() && !side_from(f.side, r.side)) return Errc::bad_format;
    if (ms_to_ns(f.updated_ms, r.venue_time_ns) != Errc::ok) r.venue_time_ns = 0;
    if (!status_from(f.order_status, filled, r.status)) return Errc::unknown_message;
    r.cum_qty = filled;
    if (parse_opt(f.avg_price, r.last_px) != Errc::ok) r.last_px = Price{};
    // The order's fees so far (cumExecFee, positive = paid): they reach fills the stream never delivered.
    if (parse_opt(f.cum_exec_fee, r.fee) != Errc::ok) r.fee = Notional{};
    return Errc::ok;
  }
};

UserStreamDecoder::UserStreamDecoder(const InstrumentRegistry& registry, Venue venue, std::size_t max_message_bytes)
    : impl_(std::make_unique<Impl>(registry, venue, max_message_bytes)) {}
UserStreamDecoder::~UserStreamDecoder() = default;

Result<UserEvent> UserStreamDecoder::decode(std::string_view msg, std::size_t padded_capacity, ExecReport& out,
                                            std::size_t index) noexcept {
  return impl_->decode(msg, padded_capacity, out, index);
}

std::size_t UserStreamDecoder::last_count() const noexcept { return impl_->last_count; }
std::int32_t UserStreamDecoder::last_refusal_code() const noexcept { return impl_->last_ret_code; }

Errc UserStreamDecoder::decode_rest(RestRequest kind, int http_status, std::string_view body, const ClientOrderId& id,
                                    InstrumentId instrument, RestAnswer& out) noexcept {
  return impl_->decode_rest(kind, http_status, body, id, instrument, out);
}

// ---- cold path ----

namespace {

namespace dom = simdjson::dom;

// Parses `body` and returns its "result" after checking retCode 0; `what` names the request in errors.
dom::object checked_result(dom::parser& parser, std::string_view body, std::string_view what) {
  dom::element doc;
  if (parser.parse(body.data(), body.size()).get(doc) != simdjson::SUCCESS || !doc.is_object())
    throw Error(std::string(what) + ": the answer is not a JSON object: " + quote(body));
  const std::string code = num_text(doc.get_object().value(), "retCode", what);
  if (code.empty()) throw Error(std::string(what) + ": the answer has no retCode: " + quote(body));
  if (code != "0") {
    std::string_view msg;
    if (doc["retMsg"].get(msg) != simdjson::SUCCESS) msg = "";
    throw Error(std::string(what) + ": the venue refused with retCode " + code + ": " + std::string(msg));
  }
  dom::object result;
  if (doc["result"].get(result) != simdjson::SUCCESS)
    throw Error(std::string(what) + ": the answer has no result object: " + quote(body));
  return result;
}

dom::array result_list(dom::object result, std::string_view what, std::string_view body) {
  dom::array list;
  if (result["list"].get(list) != simdjson::SUCCESS)
    throw Error(std::string(what) + ": result has no list: " + quote(body));
  return list;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

}  // namespace

std::vector<OpenOrder> parse_open_orders(std::string_view body, const InstrumentRegistry& registry, Venue venue,
                                         std::string* next_cursor) {
  constexpr std::string_view what = "GET /v5/order/realtime";
  dom::parser parser;
  const dom::object result = checked_result(parser, body, what);
  const dom::array list = result_list(result, what, body);
  if (next_cursor != nullptr) *next_cursor = text(result, "nextPageCursor");
  std::vector<OpenOrder> out;
  for (dom::element item : list) {
    dom::object o;
    if (item.get(o) != simdjson::SUCCESS) throw Error(std::string(what) + ": an item is not an object");
    OpenOrder v;
    v.order_id = num_text(o, "orderId", what);
    if (v.order_id.empty()) throw Error(std::string(what) + ": an order has no orderId");
    const std::string where = std::string(what) + ": order " + v.order_id;
    const std::string cid = num_text(o, "orderLinkId", where);
    if (const auto c = ClientOrderId::from(cid); c.ok()) v.client_id = c.value;  // longer ids stay empty
    v.symbol = text(o, "symbol");
    if (const auto found = registry.find(venue, v.symbol)) v.instrument = *found;
    if (!side_from(text(o, "side"), v.side)) throw Error(where + ": side is not Buy or Sell");
    v.price = fixed<Price>(o, "price", false, where);
    v.stop_price = fixed<Price>(o, "triggerPrice", false, where);
    v.qty = fixed<Qty>(o, "qty", true, where);
    v.filled = fixed<Qty>(o, "cumExecQty", false, where);
    v.reduce_only = flag(o, "reduceOnly");
    const std::string type = text(o, "orderType");
    if (type == "Limit") {
      v.type = risk::OrderType::limit;  // with a trigger: a conditional limit (stop_price says so)
    } else if (type == "Market") {
      v.price = Price{};  // a market order's "price" is the venue's protection limit, not ours
      if (v.stop_price.raw() <= 0) {
        v.type = risk::OrderType::market;
      } else {
        // As the encoder writes them: a sell stop-loss and a buy take-profit trigger on the way down (2).
        const std::string dir = num_text(o, "triggerDirection", where);
        if (dir != "1" && dir != "2") throw Error(where + ": triggerDirection '" + dir + "' is not 1 or 2");
        const bool down = dir == "2";
        v.type = down == (v.side == Side::sell) ? risk::OrderType::stop_market : risk::OrderType::take_profit_market;
      }
    } else {
      throw Error(where + ": orderType '" + type + "' is not Limit or Market");
    }
    out.push_back(std::move(v));
  }
  return out;
}

std::vector<VenuePosition> parse_positions(std::string_view body, const InstrumentRegistry& registry, Venue venue) {
  constexpr std::string_view what = "GET /v5/position/list";
  dom::parser parser;
  const dom::object result = checked_result(parser, body, what);
  const dom::array list = result_list(result, what, body);
  std::vector<VenuePosition> out;
  for (dom::element item : list) {
    dom::object o;
    if (item.get(o) != simdjson::SUCCESS) throw Error(std::string(what) + ": an entry is not an object");
    VenuePosition p;
    p.symbol = text(o, "symbol");
    if (p.symbol.empty()) throw Error(std::string(what) + ": an entry has no symbol");
    const std::string where = std::string(what) + ": " + p.symbol;
    if (const auto found = registry.find(venue, p.symbol)) p.instrument = *found;
    // size is unsigned; side says long (Buy) or short (Sell), "" when flat.
    const Qty size = fixed<Qty>(o, "size", true, where);
    const std::string side = text(o, "side");
    if (side == "Buy")
      p.signed_qty = size;
    else if (side == "Sell")
      p.signed_qty = Qty{} - size;
    else if (side.empty() || side == "None") {
      if (size.raw() != 0) throw Error(where + ": a size without a side");
    } else {
      throw Error(where + ": side '" + side + "' is not Buy or Sell");
    }
    if (size.raw() < 0) throw Error(where + ": negative size");
    p.entry_px = fixed<Price>(o, "avgPrice", false, where);
    out.push_back(std::move(p));
  }
  return out;
}

ApiKeyInfo parse_api_key_info(std::string_view body) {
  constexpr std::string_view what = "GET /v5/user/query-api";
  dom::parser parser;
  const dom::object result = checked_result(parser, body, what);
  dom::object perms;
  if (result["permissions"].get(perms) != simdjson::SUCCESS)
    throw Error(std::string(what) + ": result.permissions is missing or not an object");
  ApiKeyInfo info;
  info.read_only = num_text(result, "readOnly", what) == "1";
  for (const auto field : perms) {
    dom::array arr;
    if (field.value.get(arr) != simdjson::SUCCESS)
      throw Error(std::string(what) + ": permissions." + std::string(field.key) + " is not an array");
    std::string group;
    for (dom::element p : arr) {
      std::string_view name;
      if (p.get(name) != simdjson::SUCCESS) throw Error(std::string(what) + ": a permission is not a string");
      if (!group.empty()) group += ',';
      group += name;
      // Bybit puts these under "Wallet"; a name that moves funds out counts wherever it is (the check exists to
      // refuse such keys, so a miss is the dangerous error). AccountTransfer moves funds between the same
      // UID's own accounts (unified, funding): nothing leaves the account holder, so it is not refused.
      if (iequals(name, "Withdraw"))
        info.can_withdraw = true;
      else if (iequals(name, "SubMemberTransfer") || iequals(name, "SubMemberTransferList"))
        info.can_transfer = true;
    }
    if (group.empty()) continue;
    if (!info.permissions.empty()) info.permissions += ';';
    info.permissions += std::string(field.key) + ':' + group;
  }
  dom::array ips;
  if (result["ips"].get(ips) == simdjson::SUCCESS) {
    for (dom::element ip : ips) {
      std::string_view s;
      if (ip.get(s) != simdjson::SUCCESS) throw Error(std::string(what) + ": an ip is not a string");
      if (s == "*") {  // "*": bound to no IP
        info.ip_whitelist.clear();
        break;
      }
      if (!info.ip_whitelist.empty()) info.ip_whitelist += ',';
      info.ip_whitelist += s;
    }
  }
  return info;
}


std::vector<std::string> PrivateStream::on_connect(const std::string& login) const {
  return {login, Encoder::subscribe_message(dcp_)};
}

VenueStreamDialect::Answer PrivateStream::answer(std::string_view payload) const noexcept {
  const auto has = [&](std::string_view text) { return payload.find(text) != std::string_view::npos; };
  return has("\"op\":\"subscribe\"") && has("\"success\":true") ? Answer::subscribed : Answer::other;
}


// ---- Start-up reconciliation's queries (oms/venue_queries.hpp) ----

namespace {

using account::field;
using account::SignedRequests;
using account::venue_order_type;

class BybitLinearQueries final : public VenueQueries, private SignedRequests<oms::bybit_linear::Encoder> {
 public:
  BybitLinearQueries(VenueCalls& g, oms::bybit_linear::Encoder& e, const InstrumentRegistry& r)
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

}  // namespace

std::unique_ptr<VenueQueries> account_queries(VenueCalls& calls, Encoder& encoder, const InstrumentRegistry& registry) {
  return std::make_unique<BybitLinearQueries>(calls, encoder, registry);
}


// ---- The key's permissions (oms/venue_queries.hpp) ----

KeyPermissionsRequest key_permissions_request(const Encoder& signer, std::int64_t now_ms) {
  KeyPermissionsRequest rq;
  rq.path = "/v5/user/query-api";
  rq.headers = signer.signed_headers("", now_ms);
  rq.hint = "[live] account_api_url is Bybit's API host";
  rq.console = "Bybit API Management";
  rq.read = [](std::string_view body) {
    const ApiKeyInfo a = parse_api_key_info(body);
    KeyPermissions k;
    k.log_fields = "permissions=" + log_quote(a.permissions) + " read_only=" + (a.read_only ? "true" : "false") +
                   " ips=" + log_quote(a.ip_whitelist);
    k.ip_restricted = !a.ip_whitelist.empty();
    k.moves_funds_out = account::funds_out(a.can_withdraw, a.can_transfer, a.permissions);
    if (a.read_only) k.cannot_trade = "the API key is read-only: it cannot place orders; use a key with Contract trade permission";
    return k;
  };
  return rq;
}


namespace {

// REST order entry signed with key and secret (X-BAPI-SIGN); the private stream after its auth op; the
// dead-man switch is DCP, a window set once at start-up.
class Live final : public LiveVenue {
 public:
  Live(const LiveAccount& a, std::string rest_host) : LiveVenue(a, std::move(rest_host), false) {
    config_.host = rest_host_;
  }
  [[nodiscard]] std::string_view name() const noexcept override { return "Bybit linear"; }
  [[nodiscard]] std::string auth() const override { return "bybit-hmac"; }

  LiveAccess access(const InstrumentRegistry& registry) override {
    // The gateway's own signer: start-up queries here, then the private stream's auth op on its thread.
    signer_ = std::make_shared<Encoder>(registry, api_key_, secret_, config_);
    LiveAccess a;
    a.stream_login = [signer = signer_] { return signer->auth_message(account::wall_ms() + 10'000); };
    a.budget = bybit_linear_budget();
    a.budget.orders_short.limit = static_cast<std::uint32_t>(account_.requests_per_s);
    a.dead_man_stream = account_.dead_man_window_s > 0;
    return a;
  }
  KeyPermissionsRequest key_permissions_request() override {
    return bybit_linear::key_permissions_request(*signer_, account::wall_ms());
  }
  // Sets the DCP window for derivatives once, before any order (README "Bybit"). A refusal (DCP not enabled
  // for the account, a window Bybit does not take) stops the start: the user asked for a dead-man switch and
  // would trade without one.
  void arm(VenueCalls& calls, const InstrumentRegistry& registry) override {
    const std::int64_t window_s = account_.dead_man_window_s;
    if (window_s <= 0) return;
    std::string request(2048, '\0');
    const auto n = signer_->encode_dead_man(static_cast<std::uint32_t>(window_s), account::wall_ms(), request.data(), request.size());
    if (!n.ok()) throw Error("[live] deadman_countdown_ms: Bybit's DCP window must be 3..300 s, not " + std::to_string(window_s));
    request.resize(n.value);
    std::string body;
    const int status = calls.call(request, body);
    UserStreamDecoder decoder(registry);
    RestAnswer answer;
    const Errc e = decoder.decode_rest(RestRequest::countdown, status, body, ClientOrderId{}, kInvalidInstrument, answer);
    if (e != Errc::ok || answer.unknown || answer.venue_code != 0) {
      throw Error("Bybit refused the dead-man switch (POST /v5/order/disconnected-cancel-all timeWindow " +
                  std::to_string(window_s) + " s, HTTP " + std::to_string(status) + "): " + body.substr(0, 200) +
                  ". DCP must be enabled for the account by Bybit; set [live] deadman_countdown_ms = 0 to trade without it");
    }
    ENIGMA_LOG_INFO("venue", "dead-man switch armed: Bybit DCP window {} s for derivatives (orders cancelled once the private stream is gone that long)",
                    window_s);
  }
  std::unique_ptr<VenueOrderEntry> order_entry(const InstrumentRegistry& registry) override {
    return std::make_unique<OrderEntry>(registry, api_key_, secret_, config_);
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

// [live] on Bybit: its budget and the DCP window as the dead-man switch, set at start-up.
const LiveVenueRules& live_rules() {
  static const LiveVenueRules rules{Venue::bybit, "Bybit", {"requests_per_s"}, "requests_per_s and the private stream at user_ws_url",
      "https://api.bybit.com", "https://api.bybit.com", "wss://stream.bybit.com/v5/private", true,
      {DeadManRule::Kind::stream_window, "Bybit's dead-man switch (DCP)", 3'000, 300'000, true}};
  return rules;
}

}  // namespace enigma::oms::bybit_linear
