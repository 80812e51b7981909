#include "oms/venues/okx_swap_user.hpp"
#include "core/logger.hpp"
#include "oms/venues/account_queries.hpp"
#include "oms/venues/okx_swap.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "oms/venues/venue_json.hpp"

namespace enigma::oms::okx_swap {

namespace od = simdjson::ondemand;
using namespace venue_json;  // the decoders' shared JSON helpers

namespace {

// ---- hot path helpers (no allocation, no throw) ----

// An OKX code: "0", "51008", or with a sub-code "51008_1000" (error-code docs: "51008 is the error code and 1000
// is the error sub-code"), which our reasons do not need. False on anything else or above INT32_MAX.
bool parse_code(std::string_view s, std::int64_t& out) noexcept {
  if (const std::size_t sub = s.find('_'); sub != std::string_view::npos) {
    std::uint64_t ignored = 0;
    if (!parse_u64(s.substr(sub + 1), ignored)) return false;
    s = s.substr(0, sub);
  }
  std::uint64_t u = 0;
  if (!parse_u64(s, u) || u > static_cast<std::uint64_t>(INT32_MAX)) return false;
  out = static_cast<std::int64_t>(u);
  return true;
}

// A code field ("code":"0" or 0); null or "" reads as absent (`has` stays false).
Errc get_code(od::value v, std::int64_t& out, bool& has) noexcept {
  std::string_view s;
  if (const Errc e = get_num_text(v, s); e != Errc::ok) return e;
  if (s.empty()) return Errc::ok;
  if (!parse_code(s, out)) return Errc::wrong_type;
  has = true;
  return Errc::ok;
}

// A decimal with more fractional digits than F keeps, rounded to the nearest (half away from zero) instead of
// refused: OKX writes fees and balances with 9 to 16 decimals ("-0.021776769", "99.89469657000001").
template <class F>
Errc parse_rounded(std::string_view s, F& out) noexcept {
  auto r = F::parse(s);
  if (r.error == Errc::too_many_digits) {
    const std::size_t dot = s.find('.');  // too_many_digits implies a dot followed by more than kDigits digits
    r = F::parse(s.substr(0, dot + 1 + F::kDigits));
    if (r.ok() && s[dot + 1 + F::kDigits] >= '5') r.value += F::from_raw(s.front() == '-' ? -1 : 1);
  }
  if (!r.ok()) return r.error;
  out = r.value;
  return Errc::ok;
}

bool side_from(std::string_view s, Side& out) noexcept {
  if (s == "buy")
    out = Side::buy;
  else if (s == "sell")
    out = Side::sell;
  else
    return false;
  return true;
}

// One element of a "data" array: an order of the orders channel or of GET /trade/order, an algo order of the
// orders-algo channel or of GET /trade/order-algo, or the per-order result of a POST (sCode). Their fields share
// names; read in any order.
struct Element {
  std::string_view inst_type, inst_id, side, ord_id, cl_ord_id, algo_id, algo_cl_ord_id, state, category;
  std::string_view acc_fill_sz, fill_sz, fill_px, trade_id, fill_fee, fill_fee_ccy, fee, fee_ccy, avg_px;
  std::string_view exec_type, cancel_source, fail_code, s_code;
  std::string_view first_placed;  // an algo order's ordIdList[0]: the order it placed once fired
  std::uint64_t u_time{0}, fill_time{0};
  bool has_acc_fill{false};  // an order (not an algo order) answer
};

Errc walk_element(od::object obj, Element& f) noexcept {
  for (auto field : obj) {
    std::string_view k;
    if (field.unescaped_key().get(k)) return Errc::bad_format;
    od::value v;
    if (field.value().get(v)) return Errc::bad_format;
    Errc e = Errc::ok;
    if (k == "instType")
      e = get_text(v, f.inst_type);
    else if (k == "instId")
      e = get_text(v, f.inst_id);
    else if (k == "side")
      e = get_text(v, f.side);
    else if (k == "ordId")
      e = get_num_text(v, f.ord_id);
    else if (k == "clOrdId")
      e = get_num_text(v, f.cl_ord_id);
    else if (k == "algoId")
      e = get_num_text(v, f.algo_id);
    else if (k == "algoClOrdId")
      e = get_num_text(v, f.algo_cl_ord_id);
    else if (k == "ordIdList") {
      od::array list;
      if (v.get_array().get(list)) return Errc::wrong_type;
      for (auto item : list) {
        od::value x;
        if (item.get(x)) return Errc::bad_format;
        if (f.first_placed.empty()) e = get_num_text(x, f.first_placed);
        if (e != Errc::ok) break;
      }
    }
    else if (k == "state")
      e = get_text(v, f.state);
    else if (k == "category")
      e = get_text(v, f.category);
    else if (k == "accFillSz") {
      e = get_num_text(v, f.acc_fill_sz);
      f.has_acc_fill = true;
    } else if (k == "fillSz")
      e = get_num_text(v, f.fill_sz);
    else if (k == "fillPx")
      e = get_num_text(v, f.fill_px);
    else if (k == "tradeId")
      e = get_num_text(v, f.trade_id);
    else if (k == "fillFee")
      e = get_num_text(v, f.fill_fee);
    else if (k == "fillFeeCcy")
      e = get_text(v, f.fill_fee_ccy);
    else if (k == "fee")
      e = get_num_text(v, f.fee);
    else if (k == "feeCcy")
      e = get_text(v, f.fee_ccy);
    else if (k == "avgPx")
      e = get_num_text(v, f.avg_px);
    else if (k == "execType")
      e = get_text(v, f.exec_type);
    else if (k == "cancelSource")
      e = get_num_text(v, f.cancel_source);
    else if (k == "failCode")
      e = get_num_text(v, f.fail_code);
    else if (k == "sCode")
      e = get_num_text(v, f.s_code);
    else if (k == "uTime")
      e = get_u64_any(v, f.u_time);
    else if (k == "fillTime")
      e = get_u64_any(v, f.fill_time);
    if (e != Errc::ok) return e;
  }
  return Errc::ok;
}

// Login refusals on the private / business WebSocket: the session is not logged in (error-code docs, 600xx).
bool login_refused(std::int64_t code) noexcept {
  switch (code) {
    case 60004:  // Invalid timestamp
    case 60005:  // Invalid apiKey
    case 60006:  // Timestamp request expired
    case 60007:  // Invalid sign
    case 60009:  // Login failure
    case 60011:  // Please log in
    case 60024:  // Wrong passphrase
    case 60032:  // API key doesn't exist
    case 63999:  // Login failed due to internal error
      return true;
    default:
      return false;
  }
}

// Codes after which the venue does not know either whether the request was carried out: the order's fate is
// UNKNOWN until a query settles it.
bool venue_does_not_know(std::int64_t code) noexcept {
  switch (code) {
    case 50001:  // Service temporarily unavailable (HTTP 503)
    case 50004:  // API endpoint request timeout ("does not mean that the request was successful or failed")
    case 50013:  // Systems are busy (HTTP 429)
    case 50026:  // System error (HTTP 500)
    case 51054:  // Request timed out (HTTP 500)
    case 51149:  // Order timed out ("does not mean that the request was successful or failed")
      return true;
    default:
      return false;
  }
}

// cancelSource of a canceled order -> our reason (orders channel docs).
Reason reason_from_cancel_source(std::string_view s) noexcept {
  if (s == "13") return Reason::fok_unfillable;         // FOK order was canceled due to incompletely filled
  if (s == "14") return Reason::ioc_no_liquidity;       // IOC order was partially canceled due to incompletely filled
  if (s == "31") return Reason::post_only_would_cross;  // The post-only order will take liquidity
  return Reason::none;
}

// The quote currency of an instrument id: "USDT" of "BTC-USDT-SWAP".
std::string_view quote_of(std::string_view inst_id) noexcept {
  const std::size_t a = inst_id.find('-');
  if (a == std::string_view::npos) return {};
  const std::size_t b = inst_id.find('-', a + 1);
  return inst_id.substr(a + 1, b == std::string_view::npos ? std::string_view::npos : b - a - 1);
}

// A REST answer: {"code":..,"msg":..,"data":[{..}]}.
struct RestBody {
  std::int64_t code{-1};
  bool has_code{false};
  bool has_data{false};
  std::size_t count{0};
  Element first;  // data[0]
  Errc first_err{Errc::ok};
};

Errc walk_rest(od::object obj, RestBody& b) noexcept {
  for (auto field : obj) {
    std::string_view k;
    if (field.unescaped_key().get(k)) return Errc::bad_format;
    od::value v;
    if (field.value().get(v)) return Errc::bad_format;
    if (k == "code") {
      if (const Errc e = get_code(v, b.code, b.has_code); e != Errc::ok) return e;
    } else if (k == "data") {
      od::json_type t;
      if (v.type().get(t)) return Errc::bad_format;
      if (t == od::json_type::array) {
        od::array arr;
        if (v.get_array().get(arr)) return Errc::bad_format;
        bool found = false;
        if (const Errc e = walk_array(arr, 0, b.first, b.count, found, b.first_err, walk_element); e != Errc::ok) return e;
        b.has_data = true;
      }  // null / {} on some refusals: nothing to read
    }
  }
  return Errc::ok;
}

// The order's state (orders and GET /trade/order) -> ours, given the filled qty.
bool order_status_from(std::string_view s, Qty cum, OrderStatus& out) noexcept {
  if (s == "live")
    out = cum.raw() > 0 ? OrderStatus::partially_filled : OrderStatus::accepted;
  else if (s == "partially_filled")
    out = OrderStatus::partially_filled;
  else if (s == "filled")
    out = OrderStatus::filled;
  else if (s == "canceled" || s == "mmp_canceled")
    out = OrderStatus::canceled;
  else
    return false;
  return true;
}

// An algo order's state (GET /trade/order-algo) -> ours. A fired algo order stays working as far as this answer
// tells: what the order it placed did comes on the stream.
bool algo_status_from(std::string_view s, OrderStatus& out) noexcept {
  if (s == "live" || s == "pause" || s == "effective" || s == "partially_effective")
    out = OrderStatus::accepted;
  else if (s == "canceled")
    out = OrderStatus::canceled;
  else if (s == "order_failed" || s == "partially_failed")
    out = OrderStatus::rejected;
  else
    return false;
  return true;
}

// The client id an answer's element echoes (algoClOrdId for an algo order or the order an algo order placed,
// clOrdId otherwise); "" when it echoes none.
std::string_view echoed_id(const Element& f) noexcept {
  return f.algo_cl_ord_id.empty() ? f.cl_ord_id : f.algo_cl_ord_id;
}

}  // namespace

Reason reason_from_code(std::int32_t code) noexcept {
  switch (code) {
    case 51008:  // Order failed. Insufficient {param0} balance / margin in account (all sub-codes)
    case 51127:  // Available balance is 0
    case 51131:  // Insufficient balance
      return Reason::insufficient_margin;
    case 51603:  // Order does not exist
    case 51400:  // Order cancellation failed as the order has been filled, canceled or does not exist
    case 51401:  // Cancellation failed as the order is already canceled
    case 51402:  // Cancellation failed as the order is already completed
    case 51503:  // Your order has already been filled or canceled
    case 51063:  // OrdId does not exist
      return Reason::order_not_found;
    case 51169:  // Order failed because you don't have any positions in this direction ... to reduce or close
    case 51170:  // A reduce-only order can't be the same trading direction as your existing positions
      return Reason::reduce_only_would_increase;
    case 50014:  // Parameter {param0} can not be empty
    case 50015:  // Either parameter {param0} or {param1} is required
    case 50016:  // Parameter {param0} does not match parameter {param1}
    case 51000:  // Parameter {param0} error
    case 51001:  // Instrument ID ... doesn't exist
    case 51005:  // Your order amount exceeds the max order amount
    case 51006:  // Order price is not within the price limit
    case 51007:  // Please place orders of at least 1 contract or more
    case 51016:  // Client order ID already exists
    case 51020:  // Your order should meet or exceed the minimum order amount
    case 51065:  // algoClOrdId already exists
    case 51116:  // Order price or trigger price exceeds {param0}
    case 51120:  // Order amount is less than {param0}
    case 51121:  // Order quantity must be a multiple of the lot size
    case 51137:  // The highest price limit for buy orders is {param0}
    case 51138:  // The lowest price limit for sell orders is {param0}
    case 51201:  // The value of a market order can't exceed {param0}
    case 51202:  // Market order amount exceeds the maximum amount
    case 51203:  // Order amount exceeds the limit {param0}
    case 51277:  // TP trigger price cannot be higher than the last price
    case 51278:  // SL trigger price cannot be lower than the last price
    case 51279:  // TP trigger price cannot be lower than the last price
    case 51280:  // SL trigger price cannot be higher than the last price
      return Reason::invalid_order;
    default:
      return Reason::venue_error;  // 50011 / 50061 rate limits and credentials included
  }
}

struct UserStreamDecoder::Impl {
  const InstrumentRegistry& registry;
  Venue venue;
  venue_json::PaddedParser json;
  std::size_t last_count{0};
  std::int32_t last_code{0};

  Impl(const InstrumentRegistry& r, Venue v, std::size_t max) : registry(r), venue(v), json(max, "okx swap user decoder") {}

  Errc open(std::string_view msg, std::size_t padded_capacity, od::document& doc) noexcept {
    return json.open(msg, padded_capacity, doc);
  }

  // The fields every report carries: ids, side, instrument. `algo_channel`: an element of orders-algo.
  Errc common(const Element& f, bool algo_channel, ExecReport& out) noexcept {
    out = ExecReport{};
    if (f.inst_id.empty() || f.side.empty()) return Errc::missing_field;
    // On "orders", the order an algo order placed names the algo order in algoClOrdId: that is our id.
    const std::string_view cid = algo_channel ? f.algo_cl_ord_id : echoed_id(f);
    if (!cid.empty()) {  // "" for an order placed without one (and from(): no memcpy from a null view)
      const auto id = ClientOrderId::from(cid);
      if (!id.ok()) return Errc::out_of_range;
      out.client_id = id.value;
    }
    const auto vid = VenueOrderId::from(algo_channel ? f.algo_id : f.ord_id);
    if (!vid.ok()) return Errc::out_of_range;
    out.venue_order_id = vid.value;
    if (!side_from(f.side, out.side)) return Errc::bad_format;
    const auto found = registry.find(venue, f.inst_id);
    if (!found) return Errc::not_found;
    out.instrument = *found;
    return Errc::ok;
  }

  // The fee of one fill, positive = paid (see the header).
  static Errc fill_fee(const Element& f, Qty cum, Qty fill, Notional& out) noexcept {
    out = Notional{};
    const std::string_view ccy = f.fill_fee_ccy.empty() ? f.fee_ccy : f.fill_fee_ccy;
    if (!ccy.empty() && ccy != quote_of(f.inst_id)) return Errc::ok;  // not in quote currency: left to the ledger
    std::string_view text = f.fill_fee;
    if (text.empty() && cum == fill) text = f.fee;  // the first fill: the cumulative fee is this fill's
    if (text.empty()) return Errc::ok;
    Notional venue_fee{};
    if (const Errc e = parse_rounded(text, venue_fee); e != Errc::ok) return e;
    out = -venue_fee;  // OKX: negative = charged
    return Errc::ok;
  }

  Result<UserEvent> order_report(const Element& f, ExecReport& out) noexcept {
    using R = Result<UserEvent>;
    // Liquidations, ADL, delivery, ...: the venue's orders, not ours (position reconciliation sees them).
    if (!f.category.empty() && f.category != "normal") return R::success(UserEvent::ignored);
    if (f.state.empty()) return R::failure(Errc::missing_field);
    if (const Errc e = common(f, false, out); e != Errc::ok) return R::failure(e);
    if (const Errc e = ms_to_ns(f.u_time, out.venue_time_ns); e != Errc::ok) return R::failure(e);
    if (const Errc e = parse_opt(f.acc_fill_sz, out.cum_qty); e != Errc::ok) return R::failure(e);
    Qty fill{};
    if (const Errc e = parse_opt(f.fill_sz, fill); e != Errc::ok) return R::failure(e);
    const std::string_view s = f.state;
    const bool canceled = s == "canceled" || s == "mmp_canceled";
    if (fill.raw() > 0 && !canceled) {
      // A trade of this update.
      if (s != "live" && s != "partially_filled" && s != "filled") return R::failure(Errc::unknown_message);
      if (f.fill_px.empty()) return R::failure(Errc::missing_field);
      if (const Errc e = parse_opt(f.fill_px, out.last_px); e != Errc::ok) return R::failure(e);
      if (out.last_px.raw() <= 0 || out.cum_qty < fill) return R::failure(Errc::out_of_range);
      if (const Errc e = fill_fee(f, out.cum_qty, fill, out.fee); e != Errc::ok) return R::failure(e);
      out.kind = ExecKind::fill;
      out.last_qty = fill;
      out.status = s == "filled" ? OrderStatus::filled : OrderStatus::partially_filled;
      out.maker = f.exec_type == "M";
      std::uint64_t seq = 0;
      if (parse_u64(f.trade_id, seq)) out.venue_seq = seq;
      if (f.fill_time != 0) {
        if (const Errc e = ms_to_ns(f.fill_time, out.venue_time_ns); e != Errc::ok) return R::failure(e);
      }
      return R::success(UserEvent::report);
    }
    if (s == "live") {
      out.kind = ExecKind::accepted;
      out.status = out.cum_qty.raw() > 0 ? OrderStatus::partially_filled : OrderStatus::accepted;
      return R::success(UserEvent::report);
    }
    // The rest may carry fills the stream did not show one by one: their average price books them.
    if (const Errc e = parse_opt(f.avg_px, out.last_px); e != Errc::ok) return R::failure(e);
    if (s == "partially_filled" || s == "filled") {
      out.kind = ExecKind::status;
      out.status = s == "filled" ? OrderStatus::filled : OrderStatus::partially_filled;
    } else if (canceled) {
      out.kind = ExecKind::canceled;
      out.status = OrderStatus::canceled;
      out.reason = reason_from_cancel_source(f.cancel_source);
    } else {
      return R::failure(Errc::unknown_message);
    }
    return R::success(UserEvent::report);
  }

  Result<UserEvent> algo_report(const Element& f, ExecReport& out) noexcept {
    using R = Result<UserEvent>;
    if (f.state.empty()) return R::failure(Errc::missing_field);
    if (const Errc e = common(f, true, out); e != Errc::ok) return R::failure(e);
    if (const Errc e = ms_to_ns(f.u_time, out.venue_time_ns); e != Errc::ok) return R::failure(e);
    const std::string_view s = f.state;
    if (s == "live") {
      out.kind = ExecKind::accepted;
      out.status = OrderStatus::accepted;
    } else if (s == "effective") {
      out.kind = ExecKind::triggered;  // it placed its order: that order's fills come on "orders"
      out.status = OrderStatus::accepted;
    } else if (s == "canceled") {
      out.kind = ExecKind::canceled;
      out.status = OrderStatus::canceled;
    } else if (s == "order_failed") {
      out.kind = ExecKind::rejected;
      out.status = OrderStatus::rejected;
      std::int64_t code = 0;
      out.reason = parse_code(f.fail_code, code) && code != 0 ? reason_from_code(static_cast<std::int32_t>(code))
                                                              : Reason::venue_error;
    } else {
      return R::failure(Errc::unknown_message);  // pause, partially_effective, partially_failed, ...
    }
    return R::success(UserEvent::report);
  }

  Result<UserEvent> decode(std::string_view msg, std::size_t padded_capacity, ExecReport& out,
                           std::size_t index) noexcept {
    using R = Result<UserEvent>;
    last_count = 0;
    if (trim(msg) == "pong") return R::success(UserEvent::ignored);  // the answer to our plain-text "ping"
    od::document doc;
    if (const Errc e = open(msg, padded_capacity, doc); e != Errc::ok) return R::failure(e);
    od::object top;
    if (const Errc e = top_object(doc, top); e != Errc::ok) return R::failure(e);
    std::string_view channel, event, op;
    std::int64_t code = 0;
    bool has_code = false, has_data = false, data_is_array = false, found = false;
    std::size_t count = 0;
    Element f;
    Errc elem_err = Errc::ok;
    for (auto field : top) {
      std::string_view k;
      if (field.unescaped_key().get(k)) return R::failure(Errc::bad_format);
      od::value v;
      if (field.value().get(v)) return R::failure(Errc::bad_format);
      if (k == "event") {
        if (get_text(v, event) != Errc::ok) return R::failure(Errc::wrong_type);
      } else if (k == "code") {
        if (get_code(v, code, has_code) != Errc::ok) return R::failure(Errc::wrong_type);
      } else if (k == "op") {
        if (get_text(v, op) != Errc::ok) return R::failure(Errc::wrong_type);
      } else if (k == "arg") {
        od::object arg;
        if (v.get_object().get(arg)) return R::failure(Errc::wrong_type);
        for (auto a : arg) {
          std::string_view ak;
          if (a.unescaped_key().get(ak)) return R::failure(Errc::bad_format);
          if (ak != "channel") continue;
          od::value av;
          if (a.value().get(av) || get_text(av, channel) != Errc::ok) return R::failure(Errc::wrong_type);
        }
      } else if (k == "data") {
        // Read whatever the channel (OKX sends "arg" first, but key order is not promised); judged below.
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
    if (!event.empty()) {
      const bool refused = (event == "login" && has_code && code != 0) ||
                           (event == "error" && has_code && login_refused(code)) ||
                           (event == "notice" && has_code && code == 64008);  // closing soon: reconnect now
      if (refused) {
        last_code = static_cast<std::int32_t>(code);
        return R::success(UserEvent::listen_key_expired);
      }
      if (event == "error" || event == "channel-conn-count-error") return R::failure(Errc::unknown_message);
      return R::success(UserEvent::ignored);  // login success, subscribe / unsubscribe acks, channel-conn-count
    }
    if (!op.empty()) return R::success(UserEvent::ignored);  // answers to WebSocket order operations: not ours
    if (channel.empty()) return R::failure(Errc::missing_field);
    const bool orders = channel == "orders", algo = channel == "orders-algo";
    if (!orders && !algo) return R::success(UserEvent::ignored);  // positions, account, ...
    if (!has_data) return R::failure(Errc::missing_field);
    if (!data_is_array) return R::failure(Errc::wrong_type);
    last_count = count;
    if (!found) return R::success(UserEvent::ignored);  // past the end
    if (elem_err != Errc::ok) return R::failure(elem_err);
    if (!f.inst_type.empty() && f.inst_type != "SWAP") return R::success(UserEvent::ignored);
    return orders ? order_report(f, out) : algo_report(f, out);
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
    if (e == Errc::ok && b.count > 0 && b.first_err != Errc::ok) e = b.first_err;
    if (e != Errc::ok) return unknown(e);  // cannot tell what the venue did
    // The outcome: data[0].sCode under a summary code (0 all done, 1 all failed, 2 some failed), else the code.
    std::int64_t code = b.code;
    if (b.count > 0 && !b.first.s_code.empty() && (b.code == 0 || b.code == 1 || b.code == 2)) {
      if (!parse_code(b.first.s_code, code)) return unknown(Errc::wrong_type);
    }
    const bool ok_http = http >= 200 && http < 300;
    if (code == 0) {
      if (!ok_http) return unknown(Errc::bad_format);  // success code on an error status: not an answer we know
      if (const Errc se = success(kind, b, id, inst, r); se != Errc::ok) return unknown(se);
      // A stop that fired: the order it placed (ordIdList's first; the ordId beside it "will be deprecated"),
      // whose own answer has the fills and fees (the engine queries it: TradingCore::query_placed).
      const bool fired = b.first.state == "effective" || b.first.state == "partially_effective";
      if (kind == RestRequest::query && !b.first.has_acc_fill && fired) {
        const std::string_view placed = b.first.first_placed.empty() ? b.first.ord_id : b.first.first_placed;
        if (const auto vid = VenueOrderId::from(placed); !placed.empty() && vid.ok()) out.placed_order = vid.value;
      }
      return Errc::ok;
    }
    if (venue_does_not_know(code)) return unknown(Errc::ok);
    out.venue_code = static_cast<std::int32_t>(code);
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
        if (code == 51603) {  // "Order does not exist": never placed, or canceled unfilled over 2 hours ago
          r.kind = ExecKind::status;
          r.status = OrderStatus::unknown;
          break;
        }
        const std::int32_t kept = out.venue_code;
        unknown(Errc::ok);  // refused for another reason: ask again later
        out.venue_code = kept;
        break;
      }
      case RestRequest::cancel_all:
      case RestRequest::countdown:
        r.kind = ExecKind::status;
        break;  // refused: venue_code says why
    }
    return Errc::ok;
  }

  // A code 0 answer. Returns non-ok when its data is not what the request kind answers with.
  Errc success(RestRequest kind, const RestBody& b, const ClientOrderId& id, InstrumentId inst,
               ExecReport& r) noexcept {
    if (kind == RestRequest::cancel_all || kind == RestRequest::countdown) return Errc::ok;  // nothing to report
    if (b.count == 0) return Errc::missing_field;
    const Element& f = b.first;
    const std::string_view echoed = echoed_id(f);
    switch (kind) {
      case RestRequest::new_order: {
        if (!echoed.empty() && echoed != id.view()) return Errc::not_found;  // an answer about another order
        const std::string_view venue_id = f.ord_id.empty() ? f.algo_id : f.ord_id;
        if (venue_id.empty()) return Errc::missing_field;
        const auto vid = VenueOrderId::from(venue_id);
        if (!vid.ok()) return Errc::out_of_range;
        r.venue_order_id = vid.value;
        r.kind = ExecKind::accepted;
        r.status = OrderStatus::accepted;
        return Errc::ok;
      }
      case RestRequest::cancel:
      case RestRequest::cancel_batch:
        if (!echoed.empty() && echoed != id.view()) return Errc::not_found;
        // Accepted, not done: the stream's canceled ends the order (see the header).
        r.kind = ExecKind::status;
        r.status = OrderStatus::pending_cancel;
        return Errc::ok;
      case RestRequest::query:
        return query(f, id, inst, r);
      case RestRequest::cancel_all:
      case RestRequest::countdown:
        break;
    }
    return Errc::bad_format;
  }

  Errc query(const Element& f, const ClientOrderId& id, InstrumentId inst, ExecReport& r) noexcept {
    r.kind = ExecKind::status;
    const bool algo = !f.has_acc_fill;  // an algo order answer has no accFillSz
    if (f.state.empty()) return Errc::missing_field;
    const std::string_view echoed = algo ? f.algo_cl_ord_id : echoed_id(f);
    if (!echoed.empty() && echoed != id.view()) return Errc::not_found;  // an answer about another order
    if (inst == kInvalidInstrument) {
      const auto found = registry.find(venue, f.inst_id);
      if (!found) return Errc::not_found;
      inst = *found;
      r.instrument = inst;
    }
    if (inst >= registry.size()) return Errc::not_found;
    const std::string_view venue_id = algo ? f.algo_id : f.ord_id;
    if (!venue_id.empty()) {
      const auto vid = VenueOrderId::from(venue_id);
      if (vid.ok()) r.venue_order_id = vid.value;
    }
    if (!f.side.empty() && !side_from(f.side, r.side)) return Errc::bad_format;
    if (ms_to_ns(f.u_time, r.venue_time_ns) != Errc::ok) r.venue_time_ns = 0;
    if (algo) {
      if (!algo_status_from(f.state, r.status)) return Errc::unknown_message;
      if (r.status == OrderStatus::rejected) {
        std::int64_t code = 0;
        r.reason = parse_code(f.fail_code, code) && code != 0 ? reason_from_code(static_cast<std::int32_t>(code))
                                                              : Reason::venue_error;
      }
      return Errc::ok;
    }
    Qty filled{};
    if (parse_opt(f.acc_fill_sz, filled) != Errc::ok) return Errc::bad_format;
    if (!order_status_from(f.state, filled, r.status)) return Errc::unknown_message;
    r.cum_qty = filled;
    if (parse_opt(f.avg_px, r.last_px) != Errc::ok) r.last_px = Price{};
    // The order's fees so far ("fee", OKX: negative = charged), in the quote currency only: they reach fills
    // the stream never delivered.
    const bool quote_fee = f.fee_ccy.empty() || f.fee_ccy == quote_of(f.inst_id);
    Notional venue_fee{};
    r.fee = quote_fee && !f.fee.empty() && parse_rounded(f.fee, venue_fee) == Errc::ok ? -venue_fee : Notional{};
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
    const auto settle = [&](std::size_t i, std::int64_t code) {
      if (venue_does_not_know(code)) return;  // stays unknown
      RestAnswer& a = out[i];
      a.unknown = false;
      a.report.kind = ExecKind::status;
      a.report.status = OrderStatus::unknown;
      a.report.reason = Reason::none;
      if (code == 0) {
        a.report.status = OrderStatus::pending_cancel;  // accepted; the stream's canceled ends it
        return;
      }
      a.venue_code = static_cast<std::int32_t>(code);
      a.report.kind = ExecKind::cancel_rejected;  // the cancel's refusal says nothing of the order itself
      a.report.reason = reason_from_code(a.venue_code);
    };
    if (http == 0 || http >= 500) return Errc::ok;
    od::document doc;
    if (const Errc e = open(body, body.size(), doc); e != Errc::ok) return e;
    od::object obj;
    if (const Errc e = top_object(doc, obj); e != Errc::ok) return e;
    std::int64_t top_code = 0;
    bool has_code = false;
    std::size_t count = 0;
    const bool ok_http = http >= 200 && http < 300;
    for (auto field : obj) {
      std::string_view k;
      if (field.unescaped_key().get(k)) return Errc::bad_format;
      od::value v;
      if (field.value().get(v)) return Errc::bad_format;
      if (k == "code") {
        if (get_code(v, top_code, has_code) != Errc::ok) return Errc::wrong_type;
        continue;
      }
      if (k != "data") continue;
      od::json_type t;
      if (v.type().get(t)) return Errc::bad_format;
      if (t != od::json_type::array) continue;  // null on a whole-request refusal
      od::array arr;
      if (v.get_array().get(arr)) return Errc::bad_format;
      for (auto item : arr) {
        od::value iv;
        od::object io;
        if (item.get(iv) || iv.get_object().get(io)) return Errc::wrong_type;
        Element f;
        if (const Errc e = walk_element(io, f); e != Errc::ok) return e;
        // The result names its order (cancel-batch-orders echoes clOrdId); cancel-algos' algoClOrdId is
        // deprecated and empty: by position then.
        const std::string_view echoed = echoed_id(f);
        std::size_t j = count;
        if (!echoed.empty()) {
          j = n;
          for (std::size_t x = 0; x < n; ++x)
            if (ids[x].view() == echoed) j = x;
        }
        if (j >= n) return Errc::bad_format;  // an answer about an order we did not ask for: the rest stays unknown
        std::int64_t code = 0;
        if (f.s_code.empty() || !parse_code(f.s_code, code)) return Errc::missing_field;
        if (code == 0 && !ok_http) return Errc::bad_format;
        settle(j, code);
        ++count;
      }
    }
    if (!has_code) return Errc::missing_field;
    if (count == 0) {
      // Nothing per order: the whole request was refused (or, with code 0, the answer is not one we know).
      if (top_code == 0) return Errc::missing_field;
      for (std::size_t i = 0; i < n; ++i) settle(i, top_code);
      return Errc::ok;
    }
    return count == n ? Errc::ok : Errc::missing_field;
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
std::int32_t UserStreamDecoder::last_refusal_code() const noexcept { return impl_->last_code; }

Errc UserStreamDecoder::decode_rest(RestRequest kind, int http_status, std::string_view body, const ClientOrderId& id,
                                    InstrumentId instrument, RestAnswer& out) noexcept {
  return impl_->decode_rest(kind, http_status, body, id, instrument, out);
}

Errc UserStreamDecoder::decode_rest_batch(int http_status, std::string_view body, std::span<const ClientOrderId> ids,
                                          InstrumentId instrument, std::span<RestAnswer> out) noexcept {
  return impl_->decode_rest_batch(http_status, body, ids, instrument, out);
}

// ---- cold path ----

namespace {

namespace dom = simdjson::dom;

// Parses `body` and returns its "data" array after checking code 0; `what` names the request in errors.
dom::array checked_data(dom::parser& parser, std::string_view body, std::string_view what) {
  dom::element doc;
  if (parser.parse(body.data(), body.size()).get(doc) != simdjson::SUCCESS || !doc.is_object())
    throw Error(std::string(what) + ": the answer is not a JSON object: " + quote(body));
  const std::string code = num_text(doc.get_object().value(), "code", what);
  if (code.empty()) throw Error(std::string(what) + ": the answer has no code: " + quote(body));
  if (code != "0") {
    std::string_view msg;
    if (doc["msg"].get(msg) != simdjson::SUCCESS) msg = "";
    throw Error(std::string(what) + ": the venue refused with code " + code + ": " + std::string(msg));
  }
  dom::array data;
  if (doc["data"].get(data) != simdjson::SUCCESS)
    throw Error(std::string(what) + ": the answer has no data array: " + quote(body));
  return data;
}

dom::object as_object(dom::element e, const std::string& what) {
  dom::object o;
  if (e.get(o) != simdjson::SUCCESS) throw Error(what + ": an entry is not an object");
  return o;
}

// OKX writes booleans of its answers as "true" / "false" strings (reduceOnly); a JSON bool is read too.
bool truthy(dom::object o, std::string_view key) {
  dom::element e;
  if (o[key].get(e) != simdjson::SUCCESS) return false;
  bool b = false;
  if (e.get(b) == simdjson::SUCCESS) return b;
  std::string_view s;
  return e.get(s) == simdjson::SUCCESS && s == "true";
}

// A fixed-point field rounded to F's resolution ("" -> zero unless `required`).
template <class F>
F rounded(dom::object o, std::string_view key, bool required, const std::string& what) {
  const std::string s = num_text(o, key, what);
  if (s.empty()) {
    if (required) throw Error(what + ": no " + std::string(key));
    return F{};
  }
  F v{};
  if (const Errc e = parse_rounded(s, v); e != Errc::ok)
    throw Error(what + ": bad " + std::string(key) + " '" + s + "': " + std::string(to_string(e)));
  return v;
}

ClientOrderId client_id_or_empty(const std::string& s) {
  const auto c = ClientOrderId::from(s);
  return c.ok() ? c.value : ClientOrderId{};  // longer ids stay empty
}

void common_fields(dom::object o, const InstrumentRegistry& registry, Venue venue, const std::string& where,
                   OpenOrder& v) {
  v.symbol = text(o, "instId");
  if (const auto found = registry.find(venue, v.symbol)) v.instrument = *found;
  if (!side_from(text(o, "side"), v.side)) throw Error(where + ": side is not buy or sell");
  v.qty = fixed<Qty>(o, "sz", true, where);
  v.reduce_only = truthy(o, "reduceOnly");
}

}  // namespace

std::vector<OpenOrder> parse_open_orders(std::string_view body, const InstrumentRegistry& registry, Venue venue,
                                         std::string* next_after) {
  constexpr std::string_view what = "GET /api/v5/trade/orders-pending";
  dom::parser parser;
  const dom::array data = checked_data(parser, body, what);
  std::vector<OpenOrder> out;
  for (dom::element item : data) {
    const dom::object o = as_object(item, std::string(what));
    OpenOrder v;
    v.order_id = num_text(o, "ordId", what);
    if (v.order_id.empty()) throw Error(std::string(what) + ": an order has no ordId");
    const std::string where = std::string(what) + ": order " + v.order_id;
    // The order a fired algo order placed carries the algo order's client id: the engine knows that one.
    const std::string algo_cid = num_text(o, "algoClOrdId", where);
    v.client_id = client_id_or_empty(algo_cid.empty() ? num_text(o, "clOrdId", where) : algo_cid);
    common_fields(o, registry, venue, where, v);
    v.filled = fixed<Qty>(o, "accFillSz", false, where);
    const std::string type = text(o, "ordType");
    if (type == "market" || type == "optimal_limit_ioc") {
      v.type = risk::OrderType::market;  // optimal_limit_ioc: a market order the venue limits to the best levels
      v.tif = risk::TimeInForce::ioc;
    } else {
      v.type = risk::OrderType::limit;
      if (type == "limit")
        v.tif = risk::TimeInForce::gtc;
      else if (type == "post_only")
        v.tif = risk::TimeInForce::post_only;
      else if (type == "ioc")
        v.tif = risk::TimeInForce::ioc;
      else if (type == "fok")
        v.tif = risk::TimeInForce::fok;
      else
        throw Error(where + ": ordType '" + type + "' is not market, limit, post_only, ioc, fok or optimal_limit_ioc");
      v.price = fixed<Price>(o, "px", true, where);
    }
    out.push_back(std::move(v));
  }
  if (next_after != nullptr) *next_after = out.size() == kPageLimit ? out.back().order_id : std::string{};
  return out;
}

std::vector<OpenOrder> parse_open_algo_orders(std::string_view body, const InstrumentRegistry& registry, Venue venue,
                                              std::string* next_after) {
  constexpr std::string_view what = "GET /api/v5/trade/orders-algo-pending";
  dom::parser parser;
  const dom::array data = checked_data(parser, body, what);
  std::vector<OpenOrder> out;
  for (dom::element item : data) {
    const dom::object o = as_object(item, std::string(what));
    OpenOrder v;
    v.algo = true;
    v.order_id = num_text(o, "algoId", what);
    if (v.order_id.empty()) throw Error(std::string(what) + ": an algo order has no algoId");
    const std::string where = std::string(what) + ": algo order " + v.order_id;
    v.client_id = client_id_or_empty(num_text(o, "algoClOrdId", where));
    common_fields(o, registry, venue, where, v);
    const std::string type = text(o, "ordType");
    std::string order_px;  // the price of the order placed when it fires; "-1" = market
    bool rises = false;    // the trigger fires when the price rises to it (only for a market "trigger")
    bool stop = false;     // conditional: the stop-loss leg (else take-profit)
    if (type == "conditional") {
      // "When ... both take-profit and stop-loss parameters are sent, only stop-loss logic will be performed."
      stop = !num_text(o, "slTriggerPx", where).empty();
      const char* leg = stop ? "sl" : "tp";
      v.stop_price = fixed<Price>(o, std::string(leg) + "TriggerPx", true, where);
      order_px = num_text(o, std::string(leg) + "OrdPx", where);
    } else if (type == "trigger") {
      v.stop_price = fixed<Price>(o, "triggerPx", true, where);
      order_px = num_text(o, "ordPx", where);
      if (order_px == "-1" || order_px.empty()) {
        // Which way it fires is not written down; the last price when it was placed tells.
        const Price last = fixed<Price>(o, "last", false, where);
        if (last.raw() <= 0 || last == v.stop_price)
          throw Error(where + ": a market trigger order without a last price to tell its direction");
        rises = v.stop_price > last;
      }
    } else {
      throw Error(where + ": ordType '" + type + "' is not conditional or trigger");
    }
    if (order_px.empty() || order_px == "-1") {
      // As the encoder writes them: a stop-loss leg is a stop_market, a take-profit leg a take_profit_market.
      // A trigger order: a buy that fires on a rise (a sell on a fall) is a stop, the other way a take-profit.
      if (type == "trigger") stop = rises == (v.side == Side::buy);
      v.type = stop ? risk::OrderType::stop_market : risk::OrderType::take_profit_market;
    } else {
      v.type = risk::OrderType::limit;  // fires a limit order: stop_price says it is conditional
      const auto p = Price::parse(order_px);
      if (!p.ok()) throw Error(where + ": bad order price '" + order_px + "': " + std::string(to_string(p.error)));
      v.price = p.value;
    }
    out.push_back(std::move(v));
  }
  if (next_after != nullptr) *next_after = out.size() == kPageLimit ? out.back().order_id : std::string{};
  return out;
}

std::vector<VenuePosition> parse_positions(std::string_view body, const InstrumentRegistry& registry, Venue venue) {
  constexpr std::string_view what = "GET /api/v5/account/positions";
  dom::parser parser;
  const dom::array data = checked_data(parser, body, what);
  std::vector<VenuePosition> out;
  for (dom::element item : data) {
    const dom::object o = as_object(item, std::string(what));
    VenuePosition p;
    p.symbol = text(o, "instId");
    if (p.symbol.empty()) throw Error(std::string(what) + ": an entry has no instId");
    const std::string where = std::string(what) + ": " + p.symbol;
    if (const auto found = registry.find(venue, p.symbol)) p.instrument = *found;
    const Qty pos = fixed<Qty>(o, "pos", true, where);
    const std::string side = text(o, "posSide");
    if (side == "net") {
      p.signed_qty = pos;  // net mode: the sign is the side
    } else if (side == "long" || side == "short") {
      if (pos.raw() < 0) throw Error(where + ": negative pos in " + side + " mode");
      p.signed_qty = side == "long" ? pos : Qty{} - pos;
    } else {
      throw Error(where + ": posSide '" + side + "' is not net, long or short");
    }
    p.entry_px = fixed<Price>(o, "avgPx", false, where);
    out.push_back(std::move(p));
  }
  return out;
}

Notional parse_balance(std::string_view body, std::string_view ccy) {
  constexpr std::string_view what = "GET /api/v5/account/balance";
  dom::parser parser;
  const dom::array data = checked_data(parser, body, what);
  for (dom::element item : data) {
    const dom::object account = as_object(item, std::string(what));
    dom::array details;
    if (account["details"].get(details) != simdjson::SUCCESS)
      throw Error(std::string(what) + ": an account has no details array");
    for (dom::element d : details) {
      const dom::object o = as_object(d, std::string(what));
      if (text(o, "ccy") != ccy) continue;
      const std::string where = std::string(what) + ": " + std::string(ccy);
      // eq: equity of the currency (cash balance plus unrealised PnL); cashBal when the venue leaves it empty.
      if (!num_text(o, "eq", where).empty()) return rounded<Notional>(o, "eq", true, where);
      return rounded<Notional>(o, "cashBal", true, where);
    }
  }
  throw Error(std::string(what) + ": no balance of " + std::string(ccy));
}

ApiKeyInfo parse_account_config(std::string_view body) {
  constexpr std::string_view what = "GET /api/v5/account/config";
  dom::parser parser;
  const dom::array data = checked_data(parser, body, what);
  dom::element first;
  if (data.at(0).get(first) != simdjson::SUCCESS) throw Error(std::string(what) + ": data is empty");
  const dom::object o = as_object(first, std::string(what));
  ApiKeyInfo info;
  std::string_view perm;
  if (o["perm"].get(perm) != simdjson::SUCCESS) throw Error(std::string(what) + ": data[0].perm is missing");
  info.permissions = std::string(perm);
  bool read = false;
  while (!perm.empty()) {
    const std::size_t comma = perm.find(',');
    const std::string_view p = trim(perm.substr(0, comma));
    if (p == "withdraw")
      info.can_withdraw = true;
    else if (p == "trade")
      info.can_trade = true;
    else if (p == "read_only")
      read = true;
    perm = comma == std::string_view::npos ? std::string_view{} : perm.substr(comma + 1);
  }
  info.read_only = read && !info.can_trade;
  info.ip_whitelist = text(o, "ip");
  info.pos_mode = text(o, "posMode");
  info.account_level = num_text(o, "acctLv", what);
  return info;
}


std::string PrivateStream::after_login() const {
  return endpoint_ == Endpoint::business ? Encoder::business_subscribe_message() : Encoder::subscribe_message();
}

VenueStreamDialect::Answer PrivateStream::answer(std::string_view payload) const noexcept {
  const auto has = [&](std::string_view text) { return payload.find(text) != std::string_view::npos; };
  // A refused login ("code" not "0") is the decoder's to report.
  if (has("\"event\":\"login\"")) return has("\"code\":\"0\"") ? Answer::login_accepted : Answer::other;
  if (!has("\"event\":\"subscribe\"")) return Answer::other;
  // {"event":"subscribe","arg":{"channel":"orders",..}}: the channel this connection's pushes come on.
  const std::string_view channel = endpoint_ == Endpoint::business ? "orders-algo" : "orders";
  const std::size_t at = payload.find("\"channel\":\"");
  if (at == std::string_view::npos) return Answer::other;
  const std::string_view rest = payload.substr(at + 11);
  return rest.size() > channel.size() && rest.substr(0, channel.size()) == channel && rest[channel.size()] == '"'
             ? Answer::subscribed
             : Answer::other;
}


// ---- Start-up reconciliation's queries (oms/venue_queries.hpp) ----

namespace {

using account::field;
using account::SignedRequests;
using account::venue_order_type;

class OkxSwapQueries final : public VenueQueries, private SignedRequests<oms::okx_swap::Encoder> {
 public:
  OkxSwapQueries(VenueCalls& g, oms::okx_swap::Encoder& e, const InstrumentRegistry& r)
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

}  // namespace

std::unique_ptr<VenueQueries> account_queries(VenueCalls& calls, Encoder& encoder, const InstrumentRegistry& registry) {
  return std::make_unique<OkxSwapQueries>(calls, encoder, registry);
}


// ---- The key's permissions (oms/venue_queries.hpp) ----

KeyPermissionsRequest key_permissions_request(const Encoder& signer, std::int64_t now_ms) {
  KeyPermissionsRequest rq;
  rq.path = "/api/v5/account/config";
  rq.headers = signer.signed_headers("GET", rq.path, "", now_ms);
  rq.hint = "[live] account_api_url is OKX's API host";
  rq.console = "OKX API management";
  rq.read = [](std::string_view body) {
    const ApiKeyInfo a = parse_account_config(body);
    KeyPermissions k;
    k.log_fields = "permissions=" + log_quote(a.permissions) + " ips=" + log_quote(a.ip_whitelist) + " pos_mode=" + log_quote(a.pos_mode);
    k.ip_restricted = !a.ip_whitelist.empty();
    if (a.can_move_funds_out()) k.moves_funds_out = "withdraw, per its permissions \"" + a.permissions + "\"";
    if (!a.can_trade) {
      k.cannot_trade = "the API key cannot trade (permissions \"" + a.permissions + "\"); use a key with the Trade permission";
    } else if (!a.net_mode()) {
      k.cannot_trade = "the OKX account is in position mode \"" + a.pos_mode +
                       "\": enigma sends orders without posSide, which needs net mode (one-way); switch it in OKX's settings or "
                       "with POST /api/v5/account/set-position-mode while no position or order is open";
    }
    return k;
  };
  return rq;
}


namespace {

// REST order entry signed with key, secret and passphrase (OK-ACCESS-SIGN); order changes and fills from the
// private stream after its login op, untriggered stops from the business stream beside it.
class Live final : public LiveVenue {
 public:
  Live(const LiveAccount& a, std::string rest_host) : LiveVenue(a, std::move(rest_host), true) {
    config_.host = rest_host_;
    config_.simulated = a.okx_simulated;
    config_.td_mode = a.okx_td_mode == "isolated" ? TdMode::isolated : TdMode::cross;
  }
  [[nodiscard]] std::string_view name() const noexcept override { return "OKX swaps"; }
  [[nodiscard]] std::string auth() const override { return account_.okx_simulated ? "okx-hmac simulated=1" : "okx-hmac"; }

  LiveAccess access(const InstrumentRegistry& registry) override {
    LiveAccess a;
    // The business endpoint (algo orders) sits beside the private one: .../ws/v5/private -> .../ws/v5/business.
    a.second_stream_url = account_.user_ws_url;
    const std::size_t at = a.second_stream_url.rfind("/private");
    if (at == std::string::npos) {
      throw Error("[live] user_ws_url '" + account_.user_ws_url +
                  "' must end in /ws/v5/private (OKX's private stream; algo orders come from /ws/v5/business beside it)");
    }
    a.second_stream_url.replace(at, 8, "/business");
    // The gateway's own signer: start-up queries here, then the private streams' login on its thread.
    signer_ = std::make_shared<Encoder>(registry, api_key_, secret_, passphrase_, config_);
    a.stream_login = [signer = signer_] { return signer->login_message(account::wall_ms() / 1000); };
    a.budget = okx_swap_budget();
    a.budget.orders_short.limit = static_cast<std::uint32_t>(account_.requests_per_2s);
    return a;
  }
  // Its answer also refuses an account in long/short position mode: our orders go without posSide, which only
  // net mode takes.
  KeyPermissionsRequest key_permissions_request() override {
    return okx_swap::key_permissions_request(*signer_, account::wall_ms());
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

// [live] on OKX: its budget, margin mode, demo trading, the passphrase, cancel-all-after (whole seconds, 10..120)
// as the dead-man switch, and clOrdId of letters and digits only.
const LiveVenueRules& live_rules() {
  static const LiveVenueRules rules{Venue::okx, "OKX", {"requests_per_2s", "td_mode", "simulated", "api_passphrase_env", "api_passphrase_file"},
      "requests_per_2s, td_mode, simulated, the passphrase and the private stream at user_ws_url",
      "https://www.okx.com", "https://www.okx.com", "wss://ws.okx.com:8443/ws/v5/private", true,
      {DeadManRule::Kind::countdown, "OKX's cancel-all-after", 10'000, 120'000, true},
      true};
  return rules;
}

}  // namespace enigma::oms::okx_swap
