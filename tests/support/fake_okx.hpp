// An OKX V5 venue (USDT-margined perpetual swaps, instType SWAP, one-way "net" position mode) in miniature for
// loopback tests (modelled on tests/support/fake_bybit.hpp): Beast, TLS with a self-signed certificate made at
// start, 127.0.0.1 only, one io thread, stopped and joined by its destructor. Header-only. It checks every
// request itself, so a suite can test an encoder against it or build signed requests by hand.
//
// REST (https://www.okx.com/docs-v5/en/, "REST Authentication" and the error-code tables): answers
// {"code":"0","msg":"","data":[..],"inTime":"<us>","outTime":"<us>"}; a request-level refusal is
// {"code":"<code>","msg":"..","data":[]} with the HTTP status the docs' error table gives the code; per-order
// refusals are HTTP 200 with "code":"1" ("All operations failed") or "2" ("Bulk operation partially
// succeeded") and each data entry's sCode / sMsg. Every private request is authenticated as OKX does:
// OK-ACCESS-KEY must be kOkxKey (50103 missing, 50111 other), OK-ACCESS-PASSPHRASE kOkxPassphrase (50104 / 50105),
// OK-ACCESS-TIMESTAMP ISO-8601 UTC with milliseconds, 2020-12-08T09:08:57.715Z (50107 missing, 50112 any other
// shape, 50102 "Timestamp request expired." when more than 30 s from the venue clock either way),
// OK-ACCESS-SIGN = Base64(HMAC-SHA256(secret, timestamp + METHOD + requestPath + body)) with requestPath the
// request target as sent (path and query string, no re-ordering) and body the raw POST body ("" for a GET)
// (50106 missing, 50113 wrong); all HTTP 401. "x-simulated-trading: 1" is accepted and counted
// (simulated_requests); set_require_simulated(true) refuses a request without it with 50101 as demo keys are.
// Other request-level codes: 50000 empty POST body, 50002 malformed JSON, 50014 a required query parameter
// missing, 51000 a bad top-level parameter (HTTP 400, the docs' table), 50115 known path with another method
// (405), an unknown path HTTP 404 with 50005 (OKX answers unknown paths with a bare 404; the code is ours).
//   POST /api/v5/trade/order          instId (listed, else sCode 51001), tdMode cross|isolated, side buy|sell,
//                                     ordType market|limit|post_only|ioc|fok, px (51204 when missing for a
//                                     priced type), sz in contracts, clOrdId (1-32 alphanumerics starting with a
//                                     letter), reduceOnly (true/"true"), posSide absent or "net", tag.
//                                     sCodes: 51000 "Parameter X error", 51121 sz not a multiple of lotSz, 51150
//                                     px not a multiple of tickSz (the docs' "precision ... exceeds the limit";
//                                     51006 is their price-limit code, used here for a buy above
//                                     mark * (1 + limit) or a sell below mark * (1 - limit), limit 5 % by default,
//                                     set_price_limit), 51016 clOrdId of an order still open (a closed order's
//                                     clOrdId may be used again), 51008 insufficient margin (the opening part of
//                                     sz * ctVal * px / leverage above available equity), 51169 a reduce-only
//                                     order with no position to reduce. Success: data[{clOrdId, ordId, tag, ts,
//                                     sCode "0", sMsg "Order placed"}].
//   POST /api/v5/trade/order-algo     ordType "conditional" only (others 51000), slTriggerPx + slOrdPx and/or
//                                     tpTriggerPx + tpOrdPx (ordPx "-1": market, else a limit on the tick),
//                                     *TriggerPxType last|mark|index (all read the one mark price here),
//                                     algoClOrdId (51065 when a live algo has it), reduceOnly. A trigger already
//                                     crossed is refused as OKX does: 51277/51278/51279/51280. Answer data[{algoId,
//                                     clOrdId "", algoClOrdId, sCode, sMsg, tag}]. The algo rests "live" until the
//                                     mark crosses a trigger (set_mark: sell SL mark <= slTriggerPx, sell TP mark
//                                     >= tpTriggerPx, mirrored for buys) or trigger_algo(); it then becomes
//                                     "effective" (actualSide sl|tp, triggerTime, ordId of the child) and its
//                                     child order (own ordId, clOrdId "", algoId/algoClOrdId set, source "7")
//                                     is matched as a new order at the mark.
//   POST /api/v5/trade/cancel-order   instId + ordId or clOrdId (ordId wins); sCode 51603 unknown order (also an
//                                     instId that does not match it), 51400 already filled or canceled, 51003
//                                     neither id. Per the docs 51400 also covers "does not exist"; we keep 51603.
//   POST /api/v5/trade/cancel-batch-orders   a JSON array of 1..20 such objects (more: 51000, top-level);
//                                     one data entry per element, code "0" all canceled, "2" some, "1" none.
//   POST /api/v5/trade/cancel-algos   an array of 1..10 {instId, algoId | algoClOrdId} (the docs accept either,
//                                     algoId wins when both); 51603 unknown, 51416 already triggered, 51400
//                                     already canceled; data[{algoId, algoClOrdId, sCode, sMsg}], code 0/1/2.
//   POST /api/v5/trade/cancel-all-after {"timeOut":"N"[,"tag":..]} N 0 (disarm) or 10..120, else 51000 (HTTP
//                                     400). data[{triggerTime (ms, "0" when disarmed), tag, ts}]. Once armed and
//                                     not refreshed for N s, every open order and live algo is cancelled
//                                     (orders: cancelSource "20" "Cancel all after triggered"; algos: state
//                                     canceled), pushed. set_countdown_scale(ms) makes one countdown second last
//                                     `ms` real milliseconds (triggerTime still reads now + N s);
//                                     expire_countdown() fires it at once. Tag-level timers are not modelled.
//   GET  /api/v5/trade/order          instId (50014) + ordId or clOrdId (51003); any state; clOrdId finds the
//                                     newest order that used it; 51603 unknown.
//   GET  /api/v5/trade/order-algo     algoId or algoClOrdId (50015 when neither); any state; 51603 unknown.
//   GET  /api/v5/trade/orders-pending [instType][&instId][&ordType][&state][&after][&before][&limit]: open
//                                     orders, newest first (ordIds grow with time), after=ordId: older than it,
//                                     before=ordId: newer, limit 1..100 (100 by default, else 51000).
//   GET  /api/v5/trade/orders-algo-pending   ordType (50014 when missing, "conditional" only matches) live algos,
//                                     newest first, same paging by algoId.
//   GET  /api/v5/account/positions    [instType][&instId]: the non-zero net positions: pos signed (contracts),
//                                     avgPx, mgnMode (tdMode of the order that opened it), posSide "net", upl at
//                                     the mark, imr = |pos| * ctVal * mark / lever, pnl (closing PnL), fee (sum of
//                                     fees, negative), realizedPnl = pnl + fee, markPx, lever.
//   GET  /api/v5/account/balance      [ccy]: details[{ccy "USDT", cashBal = start balance + fees (negative) +
//                                     realised PnL, eq = cashBal + upl, frozenBal = position imr + ordFrozen (open
//                                     non-reduce-only orders' leaves * ctVal * px / lever), availEq = eq -
//                                     frozenBal, availBal = cashBal - frozenBal, upl}]; totalEq.
//   GET  /api/v5/account/config       data[{uid, acctLv "2", posMode "net_mode", perm "read_only,trade", ip "",
//                                     ..}] (set_key_perm / set_key_can_withdraw, set_pos_mode, set_acct_lv
//                                     change what it says; matching stays one-way).
// Rate limits (each endpoint's "Rate Limit" line in the docs): per endpoint (keyed "METHOD /path") over a
// rolling window, per instId where the docs' rule is "User ID + Instrument ID": place 60/2 s, place algo 20/2 s,
// cancel 60/2 s, batch cancel 300 orders/2 s, cancel algos 20 orders/2 s (batch endpoints count their
// elements), cancel-all-after 1/1 s, order query 60/2 s, algo query 20/2 s, orders-pending 60/2 s,
// algo-pending 20/2 s, positions 10/2 s, balance 10/2 s, config 5/2 s; set_rate_limit changes one. A used-up
// quota (or rate_limit_next) answers HTTP 429 {"code":"50011","msg":"Rate limit reached. Please refer to API
// documentation and throttle requests accordingly.","data":[]} (the docs list 50011 both as HTTP 200 with
// this text and HTTP 429 "Too Many Requests"; we send this text with 429).
//
// Matching, per instrument against a mark price (set_mark, default 60000; the account, positions, fees and
// these rules are the shared kit's, tests/support/test_venue_account.hpp): market fills at the mark as taker;
// a limit / ioc / fok that crosses the mark (buy px >= mark, sell px <= mark) fills at the mark as taker; a
// crossing post_only is accepted (sCode 0) and then canceled with cancelSource "31" (OKX accepts and cancels a
// post-only that would take; the docs' cancelSource list); a non-crossing limit / post_only rests (state
// live); a non-crossing ioc is canceled with cancelSource "14", fok "13". An order filled on arrival is not
// pushed "live" first. fill_resting fills a resting order as maker at its price; set_fill_parts(n) splits
// every fill into n fills (partially_filled first). set_mark does not re-match resting orders; it triggers
// algos. reduceOnly only ever closes: what would open is canceled with cancelSource "22". Quantities and prices
// are exact decimals (enigma::Price's 10 decimals, products in 128 bits). Fees: rate * sz * ctVal * fillPx,
// maker 0.0002 and taker 0.0005 by default (set_fee_rates); OKX's sign: fillFee and the order's cumulative fee
// are NEGATIVE for a charge and positive for a rebate (a negative rate). fills() keeps each fill.
//
// Private WebSocket at wss://127.0.0.1:<port>/ws/v5/private, and /ws/v5/business for orders-algo only (OKX's
// algo-orders channel page: "URL Path /ws/v5/business"; a channel on the wrong one answers 64001)
// (https://www.okx.com/docs-v5/en/ "WebSocket"):
//   {"op":"login","args":[{"apiKey","passphrase","timestamp":"<unix s>","sign":Base64(HMAC-SHA256(secret,
//   timestamp + "GET" + "/users/self/verify"))}]} -> {"event":"login","code":"0","msg":"","connId":".."}; a
//   refusal is {"event":"error","code":..,"msg":..,"connId":..} and the connection is then closed: 60005
//   "Invalid apiKey", 60024 "Wrong passphrase", 60004 "Invalid timestamp" (not a number), 60006 "Timestamp
//   request expired" (more than 30 s away), 60007 "Invalid sign", 60009 "Login failure" (no usable args)
//   (texts of the docs' WebSocket error-code table).
//   {"op":"subscribe"|"unsubscribe","args":[{"channel":..,..}..]} -> one {"event":"subscribe","arg":<the arg as
//   sent>,"connId":..} per arg, for orders / orders-algo / positions (instType SWAP or ANY, optional instId
//   filter) and account (optional ccy); before login {"event":"error","code":"60011","msg":"Please log in"};
//   an unknown channel 60018, a missing instType 60013, an unknown op 60019, a frame that is not JSON 60012.
//   Text "ping" -> text "pong".
//   Pushes {"arg":{"channel":..,"instType":"SWAP"|"ccy":..,"uid":".."},"data":[..]} with OKX's field names,
//   every number a string: "orders" on every state change (live, partially_filled, filled, canceled) and fill,
//   with fillSz / fillPx / tradeId / fillFee / execType T|M / fillTime of that fill (on a push that is not a
//   fill: fillSz "0", fillFee "0", fillPx / tradeId / fillTime / execType ""), accFillSz, fee (cumulative),
//   avgPx ("0" before a fill), cancelSource / cancelSourceReason; "orders-algo" on algo state changes (live,
//   effective, canceled); per fill, in this order: "orders", "positions" (the changed position; pos "0" and
//   avgPx "" once closed), "account". The pushes a request causes are queued right after its REST answer is
//   started. set_batch_pushes(true) puts consecutive updates of one channel caused by one request or venue
//   action into one message's data array. Frames of a dropped connection are lost, never replayed.
#pragma once

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/fixed_point.hpp"
#include "oms/signing.hpp"
#include "tests/support/test_venue_account.hpp"
#include "tests/support/tls_test_venue.hpp"
#include "tests/support/venue_decimal_json.hpp"

namespace enigma::testing {

inline constexpr const char* kOkxKey = "5c1f8e2a-93d4-4b7e-a06f-2d8b1c7e9f43";  // OKX keys are UUIDs
inline constexpr const char* kOkxSecret = "9B3E7A1C5D0F2E8A6C4B1D9E7F3A5C20";   // 32 upper-case hex, like OKX's
inline constexpr const char* kOkxPassphrase = "Enigma-Test-Pass1";

// Helpers of this fake only (their own namespace: the other fakes have same-named helpers).
namespace okx_fake {

// The decimals and flat JSON every test venue reads and writes (tests/support/venue_decimal_json.hpp).
using namespace venue_text;

// Base64 HMAC-SHA256 (what OK-ACCESS-SIGN and the WebSocket login carry).
inline std::string hmac_b64(const oms::HmacSha256& h, std::initializer_list<std::string_view> parts) {
  unsigned char mac[oms::kSha256Size];
  h.sign(parts, mac);
  char b64[oms::kSha256Base64Size];
  oms::base64_encode(mac, sizeof mac, b64);
  return {b64, sizeof b64};
}

inline std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Days since 1970-01-01 of a proleptic Gregorian date, and back (H. Hinnant's civil algorithms).
inline std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}
inline void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2);
}
// "2020-12-08T09:08:57.715Z" of a Unix time in ms.
inline std::string iso_ms(std::int64_t ms) {
  const std::int64_t s = ms / 1000, days = s / 86400, rem = s % 86400;
  std::int64_t y = 0;
  unsigned m = 0, d = 0;
  civil_from_days(days, y, m, d);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ", static_cast<long long>(y), m, d,
                static_cast<long long>(rem / 3600), static_cast<long long>(rem / 60 % 60),
                static_cast<long long>(rem % 60), static_cast<long long>(ms % 1000));
  return buf;
}
// The Unix time in ms of exactly "YYYY-MM-DDTHH:MM:SS.mmmZ"; nothing for any other shape.
inline std::optional<std::int64_t> parse_iso_ms(std::string_view t) {
  static constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:dd.dddZ";
  if (t.size() != kShape.size()) return std::nullopt;
  for (std::size_t i = 0; i < t.size(); ++i)
    if (kShape[i] == 'd' ? !std::isdigit(static_cast<unsigned char>(t[i])) : t[i] != kShape[i]) return std::nullopt;
  const auto num = [&](std::size_t at, std::size_t n) {
    int v = 0;
    for (std::size_t i = at; i < at + n; ++i) v = v * 10 + (t[i] - '0');
    return v;
  };
  const int y = num(0, 4), mo = num(5, 2), d = num(8, 2), h = num(11, 2), mi = num(14, 2), s = num(17, 2),
            ms = num(20, 3);
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return std::nullopt;
  const std::int64_t days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  return ((days * 86400 + h * 3600 + mi * 60 + s) * 1000) + ms;
}

// A client id as OKX takes it: 1-32 letters or digits, the first a letter.
inline bool valid_client_id(std::string_view id) {
  if (id.empty() || id.size() > 32 || !std::isalpha(static_cast<unsigned char>(id.front()))) return false;
  return std::all_of(id.begin(), id.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; });
}
// A decimal id ("ordId", "algoId") as a number for paging; nothing when it is not one.
inline std::optional<std::uint64_t> id_number(std::string_view s) {
  std::uint64_t v = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

// One channel subscription of a connection (the arg as sent, and its filters).
struct Sub {
  std::string inst_type, inst_id, ccy;
};

// What the venue keeps of one private WebSocket connection (guarded by the venue's mutex).
struct Connection {
  bool logged_in = false;
  bool business = false;  // connected to /ws/v5/business (orders-algo) rather than /ws/v5/private
  std::string conn_id;
  std::map<std::string, Sub> subs;  // channel -> filters
};

}  // namespace okx_fake


class FakeOkx : public TlsTestVenue<FakeOkx, okx_fake::Connection> {
  friend class TlsTestVenue<FakeOkx, okx_fake::Connection>;

 public:
  using Dec = okx_fake::Dec;

  // One order as the venue keeps it (a triggered algo's child included). `body`: the exact POST body received.
  struct Order {
    std::string ord_id, cl_ord_id, inst_id, td_mode, side, ord_type, tag;
    std::string state;          // live, partially_filled, filled, canceled
    std::string cancel_source;  // "" or OKX's code: 0 system, 1 user, 13 FOK, 14 IOC, 20 cancel-all-after,
                                // 22 reduce-only, 31 post-only
    std::string algo_id, algo_cl_ord_id, source;  // set on the child of a triggered algo (source "7")
    Dec px{0}, sz{0}, acc_fill_sz{0}, fill_value{0} /* sum of contracts * px */, fee{0} /* OKX sign */, pnl{0};
    // The last fill.
    Dec fill_sz{0}, fill_px{0}, fill_fee{0}, fill_pnl{0};
    std::string trade_id, exec_type;
    std::int64_t fill_time{0};
    bool reduce_only{false};
    std::string body;
    std::int64_t c_time{0}, u_time{0};
    [[nodiscard]] bool open() const { return state == "live" || state == "partially_filled"; }
    [[nodiscard]] Dec leaves() const { return open() ? sz - acc_fill_sz : 0; }
    // The decimal strings OKX would show.
    [[nodiscard]] std::string sz_str() const { return okx_fake::dec(sz); }
    [[nodiscard]] std::string acc_fill_sz_str() const { return okx_fake::dec(acc_fill_sz); }
    [[nodiscard]] std::string fee_str() const { return okx_fake::dec(fee); }
    [[nodiscard]] std::string avg_px() const {
      return acc_fill_sz == 0 ? "0" : okx_fake::dec(okx_fake::div(fill_value, acc_fill_sz));
    }
  };
  // One algo (conditional) order.
  struct Algo {
    std::string algo_id, algo_cl_ord_id, inst_id, td_mode, side, ord_type{"conditional"}, tag;
    std::string state;  // live, effective, canceled
    std::string sl_trigger_px, sl_ord_px, sl_trigger_px_type, tp_trigger_px, tp_ord_px, tp_trigger_px_type;
    Dec sz{0}, sl_trigger{0}, tp_trigger{0};
    std::string ord_id;       // the child order's, once triggered
    std::string actual_side;  // "sl" or "tp" once triggered
    std::string actual_px;    // the child's price ("" for market)
    bool reduce_only{false};
    std::string body;
    std::int64_t c_time{0}, u_time{0}, trigger_time{0};
    [[nodiscard]] bool live() const { return state == "live"; }
  };
  // One fill. fee in OKX's sign (negative: a charge); notional = sz * ct_val * px; fee = -notional * fee_rate.
  struct Fill {
    std::string cl_ord_id, ord_id, trade_id, inst_id, side, px, sz, ct_val, notional, fee, fee_rate, exec_type;
    bool is_maker{false};
    std::int64_t ts{0};
  };
  // The rules of a listed instrument: price tick, size step (contracts), base coin per contract.
  struct Instrument {
    Dec tick{0}, lot{0}, ct_val{0};
  };
  // One REST request as it arrived (header names lower-case; body empty for a GET).
  struct Request {
    std::string method, target, path, query, body;
    std::map<std::string, std::string> headers;
  };

  FakeOkx() : TlsTestVenue(venue_ca_file("okx")), hmac_(kOkxSecret) {
    instruments_["BTC-USDT-SWAP"] =
        Instrument{*okx_fake::parse_dec("0.1"), *okx_fake::parse_dec("0.01"), *okx_fake::parse_dec("0.01")};
    instruments_["ETH-USDT-SWAP"] =
        Instrument{*okx_fake::parse_dec("0.01"), *okx_fake::parse_dec("0.01"), *okx_fake::parse_dec("0.1")};
    limits_["POST /api/v5/trade/order"] = {60, 2000, true};
    limits_["POST /api/v5/trade/order-algo"] = {20, 2000, true};
    limits_["POST /api/v5/trade/cancel-order"] = {60, 2000, true};
    limits_["POST /api/v5/trade/cancel-batch-orders"] = {300, 2000, true};
    limits_["POST /api/v5/trade/cancel-algos"] = {20, 2000, true};
    limits_["POST /api/v5/trade/cancel-all-after"] = {1, 1000, false};
    limits_["GET /api/v5/trade/order"] = {60, 2000, true};
    limits_["GET /api/v5/trade/order-algo"] = {20, 2000, false};
    limits_["GET /api/v5/trade/orders-pending"] = {60, 2000, false};
    limits_["GET /api/v5/trade/orders-algo-pending"] = {20, 2000, false};
    limits_["GET /api/v5/account/positions"] = {10, 2000, false};
    limits_["GET /api/v5/account/balance"] = {10, 2000, false};
    limits_["GET /api/v5/account/config"] = {5, 2000, false};
    id_seq_ = 700'000'000'000'000'000ULL + rng_() % 100'000'000'000'000ULL;
    trade_seq_ = 400'000'000ULL + rng_() % 10'000'000ULL;
    start_serving();
  }
  ~FakeOkx() {
    stop_serving([this] {
      if (countdown_timer_) countdown_timer_->cancel();
    });
  }
  FakeOkx(const FakeOkx&) = delete;
  FakeOkx& operator=(const FakeOkx&) = delete;

  // ---- Where it is --------------------------------------------------------------------------------------
  // port(), rest_url() and ca_file() (the PEM of its certificate) come with the transport (tls_test_venue.hpp).
  [[nodiscard]] std::string private_ws_url() const {
    return "wss://127.0.0.1:" + std::to_string(port()) + "/ws/v5/private";
  }
  // Where orders-algo lives (OKX moved it off /private: subscribing there answers 64001, and the other
  // channels are refused here the same way). set_algo_channel_anywhere(true) lifts the split, for a suite that
  // reads the order and algo pushes in their order on one connection.
  [[nodiscard]] std::string business_ws_url() const {
    return "wss://127.0.0.1:" + std::to_string(port()) + "/ws/v5/business";
  }
  [[nodiscard]] const std::string& uid() const noexcept { return uid_; }          // the account's uid

  // ---- Market and account ------------------------------------------------------------------------------
  // An instrument the venue lists (BTC-USDT-SWAP tick 0.1 lot 0.01 ctVal 0.01 and ETH-USDT-SWAP 0.01 / 0.01 /
  // 0.1 from the start, as OKX lists them); others are refused with 51001.
  void add_instrument(const std::string& inst_id, const std::string& tick_sz, const std::string& lot_sz,
                      const std::string& ct_val) {
    std::lock_guard lk(mu_);
    instruments_[inst_id] =
        Instrument{*okx_fake::parse_dec(tick_sz), *okx_fake::parse_dec(lot_sz), *okx_fake::parse_dec(ct_val)};
  }
  // The mark price market orders fill at, limits are checked against and algos trigger on ("60000" by
  // default). Live algos of the instrument whose trigger the new mark crosses trigger at once.
  void set_mark(const std::string& inst_id, const std::string& price) {
    std::lock_guard lk(mu_);
    marks_.set(inst_id, *okx_fake::parse_dec(price));
    check_algos(inst_id);
    flush_pushes();
  }
  void set_mark(const std::string& price) {  // every instrument
    std::lock_guard lk(mu_);
    marks_.set_all(*okx_fake::parse_dec(price));
    for (const auto& [inst, _] : instruments_) check_algos(inst);
    flush_pushes();
  }
  // Each fill is split into `n` fills (1: one per fill).
  void set_fill_parts(int n) {
    std::lock_guard lk(mu_);
    fill_parts_ = std::max(1, n);
  }
  // Fee rates as decimal strings, positive for a charge (defaults: maker "0.0002", taker "0.0005"); a negative
  // maker rate is a rebate (a positive fillFee).
  void set_fee_rates(const std::string& maker, const std::string& taker) {
    std::lock_guard lk(mu_);
    fees_.maker = *okx_fake::parse_signed_dec(maker);
    fees_.taker = *okx_fake::parse_signed_dec(taker);
  }
  // The USDT the account starts with (10000 by default).
  void set_balance(const std::string& usdt) {
    std::lock_guard lk(mu_);
    account_.balance = *okx_fake::parse_signed_dec(usdt);
  }
  // The leverage margins are computed with (10 by default).
  void set_leverage(int lever) {
    std::lock_guard lk(mu_);
    lever_ = std::max(1, lever);
  }
  // The price limit band as a ratio of the mark ("0.05" by default; "0": none).
  void set_price_limit(const std::string& ratio) {
    std::lock_guard lk(mu_);
    price_limit_ = *okx_fake::parse_dec(ratio);
  }
  // GET /api/v5/account/config's perm ("read_only,trade" by default).
  void set_key_perm(std::string perm) {
    std::lock_guard lk(mu_);
    perm_ = std::move(perm);
  }
  void set_key_can_withdraw(bool on) { set_key_perm(on ? "read_only,withdraw,trade" : "read_only,trade"); }
  // What GET /api/v5/account/config says (matching stays one-way whatever it says).
  void set_pos_mode(std::string mode) {
    std::lock_guard lk(mu_);
    pos_mode_ = std::move(mode);
  }
  void set_acct_lv(std::string lv) {
    std::lock_guard lk(mu_);
    acct_lv_ = std::move(lv);
  }
  // One endpoint's quota ("POST /api/v5/trade/order", "GET /api/v5/account/config", ..): `limit` requests (or
  // batch elements) per rolling `window_ms` (per instId where OKX counts so); a longer window keeps a test
  // independent of its own speed.
  void set_rate_limit(const std::string& endpoint, int limit, int window_ms = 2000) {
    std::lock_guard lk(mu_);
    Limit& l = limits_[endpoint];
    l.limit = limit;
    l.window_ms = window_ms;
    for (auto it = hits_.begin(); it != hits_.end();)
      it = it->first.rfind(endpoint, 0) == 0 ? hits_.erase(it) : std::next(it);
  }
  void set_algo_channel_anywhere(bool on) {
    std::lock_guard lk(mu_);
    algo_channel_anywhere_ = on;
  }
  // Refuse requests whose timestamp is more than 30 s away (on by default, as OKX does).
  void set_check_timestamp(bool on) {
    std::lock_guard lk(mu_);
    check_timestamp_ = on;
  }
  // Refuse requests without "x-simulated-trading: 1" with 50101, as OKX does for a demo key (off by default).
  void set_require_simulated(bool on) {
    std::lock_guard lk(mu_);
    require_simulated_ = on;
  }
  // How many real milliseconds one second of the cancel-all-after countdown lasts (1000 by default), from
  // the next arming on.
  void set_countdown_scale(int ms_per_second) {
    std::lock_guard lk(mu_);
    countdown_ms_per_s_ = std::max(1, ms_per_second);
  }

  // ---- Faults -------------------------------------------------------------------------------------------
  // The next n authenticated REST requests are answered HTTP 429 50011 and not carried out.
  void rate_limit_next(int n) {
    std::lock_guard lk(mu_);
    rate_limit_next_ = n;
  }
  // The next n REST requests are answered HTTP `status` {"code":"50001","msg":"Service temporarily
  // unavailable. Please try again later.","data":[]} ("50026" "System error. Try again later" for 500) and not
  // carried out.
  void fail_next(int n, int status = 503) {
    std::lock_guard lk(mu_);
    fail_next_ = n;
    fail_status_ = status;
  }
  // The next n REST requests are neither carried out nor answered (the connection stays open).
  void silence_next(int n) {
    std::lock_guard lk(mu_);
    silence_next_ = n;
  }
  // The next POST /api/v5/trade/order is carried out (booked, matched, pushed) but answered HTTP `status`
  // as fail_next does; status 0: never answered. Only a query tells what became of it.
  void lose_next_order_answer(int status) {
    std::lock_guard lk(mu_);
    lose_order_status_ = status;
    lose_order_ = true;
  }
  // The next n orders are refused with sCode `code` (not booked).
  void reject_next_orders(int n, int code = 51008,
                          std::string msg = "Order failed. Insufficient USDT margin in account") {
    std::lock_guard lk(mu_);
    reject_next_ = n;
    reject_code_ = code;
    reject_msg_ = std::move(msg);
  }
  // Every REST answer is written `ms` after its request arrived (the other connections go on meanwhile).
  void delay_answers(int ms) {
    std::lock_guard lk(mu_);
    delay_ms_ = ms;
  }
  // Subscriptions that arrive from now on are held unanswered until release_subscriptions()
  // (tests/support/subscription_hold.hpp).
  using TlsTestVenue::hold_subscriptions;
  using TlsTestVenue::release_subscriptions;
  using TlsTestVenue::held_subscriptions;

  // Closes every private WebSocket connection (no close frame): what is pushed until the client reconnects
  // is lost. business_only: only the /ws/v5/business ones (orders-algo); the orders connection stays up.
  void drop_streams(bool business_only = false) {
    std::lock_guard lk(mu_);
    drop_ws_connections([business_only](const Session& s) { return s.business || !business_only; });
    ++stream_drops_;
  }
  // "ping" is answered "pong" (true by default).
  void set_answer_pings(bool on) {
    std::lock_guard lk(mu_);
    answer_pings_ = on;
  }
  // While on, nothing at all is written to the private connections (pushes, acks, pongs): what would have
  // been is lost. The connections stay open.
  void set_stream_silent(bool on) {
    std::lock_guard lk(mu_);
    stream_silent_ = on;
  }
  // The next n push messages are not sent to anyone (still in pushed()).
  void drop_next_pushes(int n) {
    std::lock_guard lk(mu_);
    drop_next_pushes_ = n;
  }
  // Every push message is written `ms` after the event (in order).
  void set_push_delay(int ms) {
    std::lock_guard lk(mu_);
    push_delay_ms_ = ms;
  }
  // Consecutive updates of one channel caused by one request or venue action go out as one message whose
  // data array holds them all (off by default: one message per update).
  void set_batch_pushes(bool on) {
    std::lock_guard lk(mu_);
    batch_pushes_ = on;
  }

  // ---- The venue acts ----------------------------------------------------------------------------------
  // A resting order fills (maker) by `qty` contracts ("" : all that remains) at `price` ("": its limit price).
  // False when no such open order rests.
  bool fill_resting(const std::string& cl_ord_id, const std::string& qty = "", const std::string& price = "") {
    std::lock_guard lk(mu_);
    Order* o = find_cl(cl_ord_id);
    if (o == nullptr || !o->open()) return false;
    const Dec q = qty.empty() ? o->leaves() : std::min(*okx_fake::parse_dec(qty), o->leaves());
    fill(*o, q, price.empty() ? o->px : *okx_fake::parse_dec(price), true);
    flush_pushes();
    return true;
  }
  // A live algo (by algoClOrdId or algoId) triggers now: its stop-loss leg when it has one, else its
  // take-profit leg. False when no such live algo.
  bool trigger_algo(const std::string& id) {
    std::lock_guard lk(mu_);
    Algo* a = find_algo_cl(id);
    if (a == nullptr) a = find_algo_id(id);
    if (a == nullptr || !a->live()) return false;
    trigger(*a, a->sl_trigger_px.empty() ? "tp" : "sl");
    flush_pushes();
    return true;
  }
  // The venue cancels an open order itself: a canceled push with `cancel_source` ("0": by the system).
  bool cancel_by_venue(const std::string& cl_ord_id, const std::string& cancel_source = "0") {
    std::lock_guard lk(mu_);
    Order* o = find_cl(cl_ord_id);
    if (o == nullptr || !o->open()) return false;
    cancel(*o, cancel_source);
    flush_pushes();
    return true;
  }
  // The venue cancels a live algo itself (state canceled, pushed on orders-algo). False when no such live algo.
  bool cancel_algo_by_venue(const std::string& algo_cl_ord_id) {
    std::lock_guard lk(mu_);
    Algo* a = find_algo_cl(algo_cl_ord_id);
    if (a == nullptr || !a->live()) return false;
    cancel_algo(*a);
    flush_pushes();
    return true;
  }
  // The armed cancel-all-after countdown expires now. False when none is armed.
  bool expire_countdown() {
    std::lock_guard lk(mu_);
    if (!countdown_armed_) return false;
    ++countdown_gen_;  // the pending timer finds itself stale
    countdown_trip();
    flush_pushes();
    return true;
  }

  // ---- What happened ------------------------------------------------------------------------------------
  // Requests by "METHOD /path" (no query), every one that arrived, refused or not.
  [[nodiscard]] int requests(const std::string& method_path) const {
    std::lock_guard lk(mu_);
    const auto it = requests_.find(method_path);
    return it == requests_.end() ? 0 : it->second;
  }
  // Every REST request in arrival order (method, target, path, query, body, headers).
  [[nodiscard]] std::vector<Request> request_log() const {
    std::lock_guard lk(mu_);
    return request_log_;
  }
  // Refusals by code: a request-level code (50113, 50011, ...) or the sCode of a refused order / cancel.
  [[nodiscard]] int refusals(int code) const {
    std::lock_guard lk(mu_);
    const auto it = refusals_.find(code);
    return it == refusals_.end() ? 0 : it->second;
  }
  [[nodiscard]] int bad_signatures() const { return refusals(50113); }
  [[nodiscard]] int rate_limited() const { return refusals(50011); }
  // Requests that carried "x-simulated-trading: 1".
  [[nodiscard]] int simulated_requests() const {
    std::lock_guard lk(mu_);
    return simulated_requests_;
  }
  [[nodiscard]] std::vector<Order> orders() const {  // in arrival order
    std::lock_guard lk(mu_);
    return {orders_.begin(), orders_.end()};
  }
  [[nodiscard]] std::vector<Order> open_orders() const {
    std::lock_guard lk(mu_);
    std::vector<Order> out;
    for (const Order& o : orders_)
      if (o.open()) out.push_back(o);
    return out;
  }
  // The newest order with this clOrdId.
  [[nodiscard]] std::optional<Order> order(const std::string& cl_ord_id) const {
    std::lock_guard lk(mu_);
    for (auto it = orders_.rbegin(); it != orders_.rend(); ++it)
      if (it->cl_ord_id == cl_ord_id) return *it;
    return std::nullopt;
  }
  [[nodiscard]] std::optional<Order> order_by_id(const std::string& ord_id) const {
    std::lock_guard lk(mu_);
    for (const Order& o : orders_)
      if (o.ord_id == ord_id) return o;
    return std::nullopt;
  }
  [[nodiscard]] std::vector<Algo> algos() const {
    std::lock_guard lk(mu_);
    return {algos_.begin(), algos_.end()};
  }
  // By algoClOrdId or algoId.
  [[nodiscard]] std::optional<Algo> algo(const std::string& id) const {
    std::lock_guard lk(mu_);
    for (auto it = algos_.rbegin(); it != algos_.rend(); ++it)
      if (it->algo_cl_ord_id == id || it->algo_id == id) return *it;
    return std::nullopt;
  }
  [[nodiscard]] std::vector<Fill> fills() const {
    std::lock_guard lk(mu_);
    return fills_;
  }
  [[nodiscard]] std::vector<Fill> matches() const { return fills(); }  // the other fakes' name for fills
  // Signed net position of an instrument in contracts ("2", "-0.5", "0").
  [[nodiscard]] std::string position(const std::string& inst_id) const {
    std::lock_guard lk(mu_);
    return okx_fake::dec(account_.position(inst_id));
  }
  // cashBal: start balance + fees (negative) + realised PnL.
  [[nodiscard]] std::string cash_balance() const {
    std::lock_guard lk(mu_);
    return okx_fake::dec(cash());
  }
  [[nodiscard]] std::vector<std::string> bodies() const {  // POST bodies
    std::lock_guard lk(mu_);
    return bodies_;
  }
  [[nodiscard]] std::vector<std::string> ws_received() const {
    std::lock_guard lk(mu_);
    return ws_received_;
  }
  [[nodiscard]] std::vector<std::string> ws_targets() const {
    std::lock_guard lk(mu_);
    return ws_targets_;
  }
  // Every push message, in order, whether or not a connection was there to take it (with the channel's plain
  // arg: instType SWAP, or ccy USDT for account).
  [[nodiscard]] std::vector<std::string> pushed() const {
    std::lock_guard lk(mu_);
    return pushed_;
  }
  [[nodiscard]] int ws_connections() const {
    std::lock_guard lk(mu_);
    return ws_connections_;
  }
  [[nodiscard]] int ws_logins() const {  // successful
    std::lock_guard lk(mu_);
    return ws_logins_;
  }
  [[nodiscard]] int ws_login_refusals() const {
    std::lock_guard lk(mu_);
    return ws_login_refusals_;
  }
  [[nodiscard]] int pings() const {
    std::lock_guard lk(mu_);
    return pings_;
  }
  [[nodiscard]] int stream_drops() const {
    std::lock_guard lk(mu_);
    return stream_drops_;
  }
  // Push messages withheld by drop_next_pushes or set_stream_silent.
  [[nodiscard]] int dropped_pushes() const {
    std::lock_guard lk(mu_);
    return dropped_pushes_;
  }
  // cancel-all-after: armed now, the last timeOut set (0: disarmed or never), times it cancelled everything.
  [[nodiscard]] bool countdown_armed() const {
    std::lock_guard lk(mu_);
    return countdown_armed_;
  }
  [[nodiscard]] int countdown_timeout_s() const {
    std::lock_guard lk(mu_);
    return countdown_timeout_s_;
  }
  [[nodiscard]] int countdown_trips() const {
    std::lock_guard lk(mu_);
    return countdown_trips_;
  }
  // A live, logged-in connection subscribed to the orders channel.
  [[nodiscard]] bool stream_open() const {
    std::lock_guard lk(mu_);
    for (const auto& w : ws_sessions_)
      if (auto s = w.lock(); s && s->open && s->logged_in && s->subs.count("orders") != 0) return true;
    return false;
  }
  using TlsTestVenue::wait_until;  // polls a condition every 2 ms (tls_test_venue.hpp)

 private:

  using Sub = okx_fake::Sub;
  using Session = TlsTestVenue::Session;

  // The kit's net position (qty in contracts, negative short; entry = avgPx; realised = the closing PnL of
  // this position, USDT) and OKX's own fields.
  struct Position : venue_kit::Position {
    Dec fee{0};  // fees of this position, OKX sign
    std::string pos_id, mgn_mode{"cross"}, trade_id;
    std::int64_t c_time{0}, u_time{0};
  };
  struct Limit {
    int limit{20};
    int window_ms{2000};
    bool per_inst{false};
  };
  // One update waiting to be pushed (channel, its instrument for instId filters, the data object).
  struct PushItem {
    std::string channel, inst_id, data;
  };

  // ---- REST -----------------------------------------------------------------------------------------------
  static Response answer(int status, std::string body) {
    Response r{static_cast<http::status>(status), 11};
    r.set(http::field::content_type, "application/json");
    r.body() = std::move(body);
    return r;
  }
  static std::string times(std::int64_t in_us) {
    return R"(,"inTime":")" + std::to_string(in_us) + R"(","outTime":")" + std::to_string(okx_fake::now_us()) + R"(")";
  }
  // {"code":"0","msg":"","data":[<items>]} with the gateway times.
  static Response ok(const std::string& items, std::int64_t in_us) {
    return answer(200, R"({"code":"0","msg":"","data":[)" + items + "]" + times(in_us) + "}");
  }
  // A request-level refusal. mu_ held.
  Response refuse(int code, const std::string& msg, int status = 200) {
    ++refusals_[code];
    return answer(status, R"({"code":")" + std::to_string(code) + R"(","msg":")" + okx_fake::json_escape(msg) +
                              R"(","data":[]})");
  }
  Response server_error(int status) {  // mu_ held
    return status == 500 ? refuse(50026, "System error. Try again later", 500)
                         : refuse(50001, "Service temporarily unavailable. Please try again later.", status);
  }
  Response rate_limited_answer() {  // mu_ held
    return refuse(50011, "Rate limit reached. Please refer to API documentation and throttle requests accordingly.",
                  429);
  }

  // One element of a per-order answer: its fields, then sCode / sMsg.
  struct Item {
    std::string json;
    bool ok{false};
  };
  static Item item_ok(const std::string& fields, const std::string& s_msg) {
    return {"{" + fields + R"(,"sCode":"0","sMsg":")" + okx_fake::json_escape(s_msg) + R"("})", true};
  }
  Item item_fail(const std::string& fields, int s_code, const std::string& s_msg) {  // mu_ held
    ++refusals_[s_code];
    return {"{" + fields + R"(,"sCode":")" + std::to_string(s_code) + R"(","sMsg":")" + okx_fake::json_escape(s_msg) +
                R"("})",
            false};
  }
  // code "0" when every element succeeded, "1" when none did, "2" otherwise.
  static Response items_answer(const std::vector<Item>& items, std::int64_t in_us) {
    std::size_t good = 0;
    std::string data;
    for (const Item& it : items) {
      good += it.ok ? 1 : 0;
      if (!data.empty()) data += ',';
      data += it.json;
    }
    const char* head = good == items.size() ? R"({"code":"0","msg":"",)"
                       : good == 0          ? R"({"code":"1","msg":"All operations failed",)"
                                            : R"({"code":"2","msg":"Bulk operation partially succeeded",)";
    return answer(200, std::string(head) + R"("data":[)" + data + "]" + times(in_us) + "}");
  }

  // The rolling-window quota of `endpoint` for `units` (one instId per unit; "" when none): true when they
  // all fit (and counts them). mu_ held.
  bool take_quota(const std::string& endpoint, const std::vector<std::string>& units) {
    const auto lit = limits_.find(endpoint);
    const Limit lim = lit == limits_.end() ? Limit{} : lit->second;
    std::map<std::string, int> need;
    for (const auto& inst : units) need[lim.per_inst ? endpoint + "|" + inst : endpoint] += 1;
    const auto now = std::chrono::steady_clock::now();
    for (const auto& [key, n] : need) {
      auto& h = hits_[key];
      while (!h.empty() && now - h.front() >= std::chrono::milliseconds(lim.window_ms)) h.pop_front();
      if (static_cast<int>(h.size()) + n > lim.limit) return false;
    }
    for (const auto& [key, n] : need)
      for (int i = 0; i < n; ++i) hits_[key].push_back(now);
    return true;
  }
  // The instIds a request counts against (one per batch element).
  static std::vector<std::string> quota_units(const std::string& method, const std::string& query,
                                              const std::string& body) {
    if (method == "GET") {
      const auto p = okx_fake::parse_query(query);
      const auto it = p.find("instId");
      return {it == p.end() ? std::string() : it->second};
    }
    if (const auto arr = okx_fake::parse_flat_array(body)) {
      std::vector<std::string> units;
      for (const auto& e : *arr) {
        const auto o = okx_fake::parse_flat_json(e.text);
        units.push_back(o ? okx_fake::get(*o, "instId") : std::string());
      }
      if (units.empty()) units.emplace_back();
      return units;
    }
    const auto o = okx_fake::parse_flat_json(body);
    return {o ? okx_fake::get(*o, "instId") : std::string()};
  }

  // mu_ is taken here: called on the io thread for every REST request.
  Response serve(const http::request<http::string_body>& rq, bool& silent, int& delay_ms) {
    std::lock_guard lk(mu_);
    Response r = serve_locked(rq, silent, delay_ms);
    flush_pushes();
    return r;
  }
  Response serve_locked(const http::request<http::string_body>& rq, bool& silent, int& delay_ms) {
    const std::int64_t in_us = okx_fake::now_us();
    delay_ms = delay_ms_;
    const std::string method(rq.method_string());
    const std::string target(rq.target());
    const std::size_t q = target.find('?');
    const std::string path = target.substr(0, q);
    const std::string query = q == std::string::npos ? "" : target.substr(q + 1);
    const std::string body = method == "GET" ? std::string() : std::string(rq.body());
    ++requests_[method + " " + path];
    Request entry{method, target, path, query, body, {}};
    for (const auto& f : rq) {
      std::string name(f.name_string());
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      entry.headers[name] = std::string(f.value());
    }
    record(request_log_, std::move(entry));
    if (method == "POST") record(bodies_, body);
    const bool simulated = rq["x-simulated-trading"] == "1";
    if (simulated) ++simulated_requests_;
    if (silence_next_ > 0) {
      --silence_next_;
      silent = true;
      return answer(200, "");
    }
    if (fail_next_ > 0) {
      --fail_next_;
      return server_error(fail_status_);
    }
    static const std::set<std::string> kPost{"/api/v5/trade/order",        "/api/v5/trade/order-algo",
                                             "/api/v5/trade/cancel-order", "/api/v5/trade/cancel-batch-orders",
                                             "/api/v5/trade/cancel-algos", "/api/v5/trade/cancel-all-after"};
    static const std::set<std::string> kGet{"/api/v5/trade/order",          "/api/v5/trade/order-algo",
                                            "/api/v5/trade/orders-pending", "/api/v5/trade/orders-algo-pending",
                                            "/api/v5/account/positions",    "/api/v5/account/balance",
                                            "/api/v5/account/config"};
    const bool post_known = kPost.count(path) != 0, get_known = kGet.count(path) != 0;
    if (!post_known && !get_known) return refuse(50005, "API endpoint is inactive or unavailable.", 404);
    if ((method == "POST" && !post_known) || (method == "GET" && !get_known) || (method != "GET" && method != "POST"))
      return refuse(50115, "Invalid request method.", 405);
    if (auto refused = authenticate(rq, method, target, body, simulated)) return *refused;
    const std::string endpoint = method + " " + path;
    if (rate_limit_next_ > 0) {
      --rate_limit_next_;
      return rate_limited_answer();
    }
    if (!take_quota(endpoint, quota_units(method, query, body))) return rate_limited_answer();
    if (method == "GET") return route_get(path, okx_fake::parse_query(query), in_us);
    if (body.empty()) return refuse(50000, "Body for POST request cannot be empty.", 400);
    return route_post(path, body, silent, in_us);
  }

  // The gateway's check of a private request; empty when it passes, else the refusal. mu_ held.
  std::optional<Response> authenticate(const http::request<http::string_body>& rq, const std::string& method,
                                       const std::string& target, const std::string& body, bool simulated) {
    const std::string key(rq["OK-ACCESS-KEY"]), pass(rq["OK-ACCESS-PASSPHRASE"]), ts(rq["OK-ACCESS-TIMESTAMP"]),
        sign(rq["OK-ACCESS-SIGN"]);
    if (key.empty()) return refuse(50103, R"(Request header "OK-ACCESS-KEY" cannot be empty.)", 401);
    if (key != kOkxKey) return refuse(50111, "Invalid OK-ACCESS-KEY.", 401);
    if (pass.empty()) return refuse(50104, R"(Request header "OK-ACCESS-PASSPHRASE" cannot be empty.)", 401);
    if (pass != kOkxPassphrase) return refuse(50105, R"(Request header "OK-ACCESS-PASSPHRASE" incorrect.)", 401);
    if (ts.empty()) return refuse(50107, R"(Request header "OK-ACCESS-TIMESTAMP" cannot be empty.)", 401);
    const auto ts_ms = okx_fake::parse_iso_ms(ts);
    if (!ts_ms) return refuse(50112, "Invalid OK-ACCESS-TIMESTAMP.", 401);
    if (check_timestamp_ && okx_fake::abs(*ts_ms - okx_fake::now_ms()) > 30'000)
      return refuse(50102, "Timestamp request expired.", 401);
    if (sign.empty()) return refuse(50106, R"(Request header "OK-ACCESS-SIGN" cannot be empty.)", 401);
    if (sign != okx_fake::hmac_b64(hmac_, {ts, method, target, body})) return refuse(50113, "Invalid signature.", 401);
    if (require_simulated_ && !simulated) return refuse(50101, "APIKey does not match current environment.", 401);
    return std::nullopt;
  }

  // ---- POST endpoints ---------------------------------------------------------------------------------------
  Response route_post(const std::string& path, const std::string& body, bool& silent, std::int64_t in_us) {
    if (path == "/api/v5/trade/cancel-batch-orders" || path == "/api/v5/trade/cancel-algos") {
      const auto arr = okx_fake::parse_flat_array(body);
      if (!arr) {
        if (okx_fake::parse_flat_json(body)) return refuse(51000, "Parameter data error", 400);  // not an array
        return refuse(50002, "JSON syntax error", 400);
      }
      const bool algos = path == "/api/v5/trade/cancel-algos";
      const std::size_t max = algos ? 10 : 20;
      if (arr->empty() || arr->size() > max) return refuse(51000, "Parameter data error", 400);
      std::vector<Item> items;
      for (const auto& e : *arr) {
        const auto o = okx_fake::parse_flat_json(e.text);
        if (!o) return refuse(50002, "JSON syntax error", 400);
        items.push_back(algos ? cancel_algo_one(*o) : cancel_one(*o));
      }
      return items_answer(items, in_us);
    }
    const auto parsed = okx_fake::parse_flat_json(body);
    if (!parsed) return refuse(50002, "JSON syntax error", 400);
    const okx_fake::JsonObject& j = *parsed;
    if (path == "/api/v5/trade/order") return place(j, body, silent, in_us);
    if (path == "/api/v5/trade/order-algo") return place_algo(j, body, in_us);
    if (path == "/api/v5/trade/cancel-order") return items_answer({cancel_one(j)}, in_us);
    // /api/v5/trade/cancel-all-after
    const std::string t = okx_fake::get(j, "timeOut"), tag = okx_fake::get(j, "tag");
    int n = -1;
    const auto r = std::from_chars(t.data(), t.data() + t.size(), n);
    if (t.empty() || r.ec != std::errc() || r.ptr != t.data() + t.size() || (n != 0 && (n < 10 || n > 120)))
      return refuse(51000, "Parameter timeOut error", 400);
    const std::int64_t now = okx_fake::now_ms();
    ++countdown_gen_;
    countdown_timeout_s_ = n;
    if (n == 0) {
      countdown_armed_ = false;
      if (countdown_timer_) countdown_timer_->cancel();
      return ok(
          R"({"triggerTime":"0","tag":")" + okx_fake::json_escape(tag) + R"(","ts":")" + std::to_string(now) + R"("})",
          in_us);
    }
    countdown_armed_ = true;
    if (!countdown_timer_) countdown_timer_ = std::make_unique<net::steady_timer>(io_);  // io thread
    countdown_timer_->expires_after(std::chrono::milliseconds(static_cast<std::int64_t>(n) * countdown_ms_per_s_));
    const std::uint64_t gen = countdown_gen_;
    countdown_timer_->async_wait([this, gen](const error_code& ec) {
      if (ec) return;
      std::lock_guard lk(mu_);
      if (!countdown_armed_ || gen != countdown_gen_) return;
      countdown_trip();
      flush_pushes();
    });
    return ok(R"({"triggerTime":")" + std::to_string(now + static_cast<std::int64_t>(n) * 1000) + R"(","tag":")" +
                  okx_fake::json_escape(tag) + R"(","ts":")" + std::to_string(now) + R"("})",
              in_us);
  }

  // POST /api/v5/trade/order after authentication. mu_ held.
  Response place(const okx_fake::JsonObject& j, const std::string& body, bool& silent, std::int64_t in_us) {
    using okx_fake::get;
    Order o;
    o.inst_id = get(j, "instId");
    o.td_mode = get(j, "tdMode");
    o.side = get(j, "side");
    o.ord_type = get(j, "ordType");
    o.cl_ord_id = get(j, "clOrdId");
    o.tag = get(j, "tag");
    o.reduce_only = get(j, "reduceOnly") == "true";
    o.body = body;
    const std::string fields = R"("clOrdId":")" + okx_fake::json_escape(o.cl_ord_id) + R"(","ordId":"","tag":")" +
                               okx_fake::json_escape(o.tag) + R"(","ts":")" + std::to_string(okx_fake::now_ms()) +
                               R"(")";
    const auto fail = [&](int code, const std::string& msg) {
      return items_answer({item_fail(fields, code, msg)}, in_us);
    };
    const auto inst = instruments_.find(o.inst_id);
    if (o.inst_id.empty()) return fail(51000, "Parameter instId error");
    if (inst == instruments_.end()) return fail(51001, "Instrument ID, Instrument ID code or Spread ID doesn't exist.");
    if (o.td_mode != "cross" && o.td_mode != "isolated") return fail(51000, "Parameter tdMode error");
    if (o.side != "buy" && o.side != "sell") return fail(51000, "Parameter side error");
    static const std::set<std::string> kTypes{"market", "limit", "post_only", "ioc", "fok"};
    if (kTypes.count(o.ord_type) == 0) return fail(51000, "Parameter ordType error");
    const std::string pos_side = get(j, "posSide");
    if (!pos_side.empty() && pos_side != "net") return fail(51000, "Parameter posSide error");
    if (j.count("clOrdId") != 0 && !okx_fake::valid_client_id(o.cl_ord_id))
      return fail(51000, "Parameter clOrdId error");
    const auto sz = okx_fake::parse_dec(get(j, "sz"));
    if (!sz || *sz <= 0) return fail(51000, "Parameter sz error");
    if (*sz % inst->second.lot != 0) return fail(51121, "Order quantity must be a multiple of the lot size.");
    const bool market = o.ord_type == "market";
    const std::string px_text = get(j, "px");
    if (!market) {
      if (px_text.empty()) return fail(51204, "The price for the limit order cannot be empty.");
      const auto px = okx_fake::parse_dec(px_text);
      if (!px || *px <= 0) return fail(51000, "Parameter px error");
      if (*px % inst->second.tick != 0)
        return fail(51150, "The precision of the number of trades or the price exceeds the limit.");
      o.px = *px;
      const Dec m = mark(o.inst_id);
      if (price_limit_ > 0) {
        const Dec max_buy = okx_fake::mul(m, okx_fake::kOne + price_limit_),
                  min_sell = okx_fake::mul(m, okx_fake::kOne - price_limit_);
        if ((o.side == "buy" && o.px > max_buy) || (o.side == "sell" && o.px < min_sell))
          return fail(51006, "Order price is not within the price limit (max buy price: " + okx_fake::dec(max_buy) +
                                 ", min sell price: " + okx_fake::dec(min_sell) + ")");
      }
    }
    o.sz = *sz;
    if (!o.cl_ord_id.empty())
      if (const Order* dup = find_cl(o.cl_ord_id); dup != nullptr && dup->open())
        return fail(51016, "Client order ID already exists.");
    const Dec pos = position_of(o.inst_id);
    if (o.reduce_only && (pos == 0 || (pos > 0) == (o.side == "buy")))
      return fail(51169,
                  "Order failed because you don't have any positions in this direction for this contract to reduce "
                  "or close.");
    if (!o.reduce_only) {
      const Dec opening = o.side == "buy" ? (pos >= 0 ? o.sz : std::max<Dec>(0, o.sz + pos))
                                          : (pos <= 0 ? o.sz : std::max<Dec>(0, o.sz - pos));
      const Dec need = margin_of(o.inst_id, opening, market ? mark(o.inst_id) : o.px);
      if (opening > 0 && need > avail_eq()) return fail(51008, "Order failed. Insufficient USDT margin in account");
    }
    if (reject_next_ > 0) {
      --reject_next_;
      return fail(reject_code_, reject_msg_);
    }
    o.ord_id = next_id();
    o.c_time = o.u_time = okx_fake::now_ms();
    orders_.push_back(std::move(o));
    Order& booked = orders_.back();  // a deque: stays valid while orders are added
    const std::string ok_fields = R"("clOrdId":")" + okx_fake::json_escape(booked.cl_ord_id) + R"(","ordId":")" +
                                  booked.ord_id + R"(","tag":")" + okx_fake::json_escape(booked.tag) + R"(","ts":")" +
                                  std::to_string(booked.c_time) + R"(")";
    match_new(booked);
    if (std::exchange(lose_order_, false)) {
      if (lose_order_status_ == 0) {
        silent = true;
        return answer(200, "");
      }
      return server_error(lose_order_status_);
    }
    return items_answer({item_ok(ok_fields, "Order placed")}, in_us);
  }

  // POST /api/v5/trade/order-algo after authentication. mu_ held.
  Response place_algo(const okx_fake::JsonObject& j, const std::string& body, std::int64_t in_us) {
    using okx_fake::get;
    Algo a;
    a.inst_id = get(j, "instId");
    a.td_mode = get(j, "tdMode");
    a.side = get(j, "side");
    a.ord_type = get(j, "ordType");
    a.algo_cl_ord_id = get(j, "algoClOrdId");
    a.tag = get(j, "tag");
    a.reduce_only = get(j, "reduceOnly") == "true";
    a.sl_trigger_px = get(j, "slTriggerPx");
    a.sl_ord_px = get(j, "slOrdPx");
    a.sl_trigger_px_type = get(j, "slTriggerPxType");
    a.tp_trigger_px = get(j, "tpTriggerPx");
    a.tp_ord_px = get(j, "tpOrdPx");
    a.tp_trigger_px_type = get(j, "tpTriggerPxType");
    a.body = body;
    const std::string fields = R"("algoId":"","clOrdId":"","algoClOrdId":")" + okx_fake::json_escape(a.algo_cl_ord_id) +
                               R"(","tag":")" + okx_fake::json_escape(a.tag) + R"(")";
    const auto fail = [&](int code, const std::string& msg) {
      return items_answer({item_fail(fields, code, msg)}, in_us);
    };
    const auto inst = instruments_.find(a.inst_id);
    if (a.inst_id.empty()) return fail(51000, "Parameter instId error");
    if (inst == instruments_.end()) return fail(51001, "Instrument ID, Instrument ID code or Spread ID doesn't exist.");
    if (a.td_mode != "cross" && a.td_mode != "isolated") return fail(51000, "Parameter tdMode error");
    if (a.side != "buy" && a.side != "sell") return fail(51000, "Parameter side error");
    if (a.ord_type != "conditional") return fail(51000, "Parameter ordType error");
    const std::string pos_side = get(j, "posSide");
    if (!pos_side.empty() && pos_side != "net") return fail(51000, "Parameter posSide error");
    if (j.count("algoClOrdId") != 0 && !okx_fake::valid_client_id(a.algo_cl_ord_id))
      return fail(51000, "Parameter algoClOrdId error");
    const auto sz = okx_fake::parse_dec(get(j, "sz"));
    if (!sz || *sz <= 0) return fail(51000, "Parameter sz error");
    if (*sz % inst->second.lot != 0) return fail(51121, "Order quantity must be a multiple of the lot size.");
    a.sz = *sz;
    if (a.sl_trigger_px.empty() && a.tp_trigger_px.empty()) return fail(51000, "Parameter slTriggerPx error");
    const Dec m = mark(a.inst_id);
    const bool buy = a.side == "buy";
    // One leg: its trigger (on the tick, not already crossed), its order price ("-1" or on the tick).
    const auto leg = [&](const std::string& trg, const std::string& ord_px, const std::string& type, bool sl,
                         Dec& out) -> std::optional<Response> {
      const char* name = sl ? "sl" : "tp";
      const auto t = okx_fake::parse_dec(trg);
      if (!t || *t <= 0) return fail(51000, std::string("Parameter ") + name + "TriggerPx error");
      if (*t % inst->second.tick != 0)
        return fail(51150, "The precision of the number of trades or the price exceeds the limit.");
      if (ord_px != "-1") {
        const auto p = okx_fake::parse_dec(ord_px);
        if (!p || *p <= 0 || *p % inst->second.tick != 0)
          return fail(51000, std::string("Parameter ") + name + "OrdPx error");
      }
      if (!type.empty() && type != "last" && type != "mark" && type != "index")
        return fail(51000, std::string("Parameter ") + name + "TriggerPxType error");
      if (sl && buy && *t <= m) return fail(51278, "SL trigger price cannot be lower than the last price");
      if (sl && !buy && *t >= m) return fail(51280, "SL trigger price cannot be higher than the last price");
      if (!sl && buy && *t >= m) return fail(51277, "TP trigger price cannot be higher than the last price");
      if (!sl && !buy && *t <= m) return fail(51279, "TP trigger price cannot be lower than the last price");
      out = *t;
      return std::nullopt;
    };
    if (!a.sl_trigger_px.empty())
      if (auto r = leg(a.sl_trigger_px, a.sl_ord_px, a.sl_trigger_px_type, true, a.sl_trigger)) return std::move(*r);
    if (!a.tp_trigger_px.empty())
      if (auto r = leg(a.tp_trigger_px, a.tp_ord_px, a.tp_trigger_px_type, false, a.tp_trigger)) return std::move(*r);
    if (!a.algo_cl_ord_id.empty())
      if (const Algo* dup = find_algo_cl(a.algo_cl_ord_id); dup != nullptr && dup->live())
        return fail(51065, "algoClOrdId already exists.");
    if (reject_next_ > 0) {
      --reject_next_;
      return fail(reject_code_, reject_msg_);
    }
    a.algo_id = next_id();
    a.state = "live";
    a.c_time = a.u_time = okx_fake::now_ms();
    algos_.push_back(std::move(a));
    const Algo& booked = algos_.back();
    push_algo(booked);
    return items_answer({item_ok(R"("algoId":")" + booked.algo_id + R"(","clOrdId":"","algoClOrdId":")" +
                                     okx_fake::json_escape(booked.algo_cl_ord_id) + R"(","tag":")" +
                                     okx_fake::json_escape(booked.tag) + R"(")",
                                 "")},
                        in_us);
  }

  // One cancel (cancel-order or an element of cancel-batch-orders). mu_ held.
  Item cancel_one(const okx_fake::JsonObject& j) {
    const std::string inst = okx_fake::get(j, "instId"), id = okx_fake::get(j, "ordId"),
                      cl = okx_fake::get(j, "clOrdId");
    const std::string ts = std::to_string(okx_fake::now_ms());
    const auto fields = [&](const std::string& c, const std::string& i) {
      return R"("clOrdId":")" + okx_fake::json_escape(c) + R"(","ordId":")" + okx_fake::json_escape(i) + R"(","ts":")" +
             ts + R"(")";
    };
    if (inst.empty()) return item_fail(fields(cl, id), 51000, "Parameter instId error");
    if (instruments_.count(inst) == 0)
      return item_fail(fields(cl, id), 51001, "Instrument ID, Instrument ID code or Spread ID doesn't exist.");
    if (id.empty() && cl.empty())
      return item_fail(fields(cl, id), 51003, "Either client order ID or order ID is required.");
    Order* o = !id.empty() ? find_id(id) : find_cl(cl);
    if (o == nullptr || o->inst_id != inst) return item_fail(fields(cl, id), 51603, "Order does not exist.");
    if (!o->open())
      return item_fail(fields(o->cl_ord_id, o->ord_id), 51400,
                       "Order cancellation failed as the order has been filled, canceled or does not exist.");
    cancel(*o, "1");
    return item_ok(fields(o->cl_ord_id, o->ord_id), "");
  }
  // One element of cancel-algos. mu_ held.
  Item cancel_algo_one(const okx_fake::JsonObject& j) {
    const std::string inst = okx_fake::get(j, "instId"), id = okx_fake::get(j, "algoId"),
                      cl = okx_fake::get(j, "algoClOrdId");
    const auto fields = [&](const std::string& i, const std::string& c) {
      return R"("algoId":")" + okx_fake::json_escape(i) + R"(","algoClOrdId":")" + okx_fake::json_escape(c) + R"(")";
    };
    if (inst.empty()) return item_fail(fields(id, cl), 51000, "Parameter instId error");
    if (id.empty() && cl.empty()) return item_fail(fields(id, cl), 51000, "Parameter algoId error");
    Algo* a = !id.empty() ? find_algo_id(id) : find_algo_cl(cl);
    if (a == nullptr || a->inst_id != inst) return item_fail(fields(id, cl), 51603, "Order does not exist.");
    if (a->state == "effective")
      return item_fail(fields(a->algo_id, a->algo_cl_ord_id), 51416, "Order has been triggered and can't be canceled");
    if (!a->live())
      return item_fail(fields(a->algo_id, a->algo_cl_ord_id), 51400,
                       "Order cancellation failed as the order has been filled, canceled or does not exist.");
    cancel_algo(*a);
    return item_ok(fields(a->algo_id, a->algo_cl_ord_id), "");
  }

  // ---- GET endpoints ----------------------------------------------------------------------------------------
  Response route_get(const std::string& path, const std::map<std::string, std::string>& p, std::int64_t in_us) {
    const auto param = [&](const char* k) {
      const auto it = p.find(k);
      return it == p.end() ? std::string() : it->second;
    };
    if (path == "/api/v5/trade/order") {
      const std::string inst = param("instId"), id = param("ordId"), cl = param("clOrdId");
      if (inst.empty()) return refuse(50014, "Parameter instId can not be empty.", 400);
      if (instruments_.count(inst) == 0)
        return refuse(51001, "Instrument ID, Instrument ID code or Spread ID doesn't exist.");
      if (id.empty() && cl.empty()) return refuse(51003, "Either client order ID or order ID is required.");
      const Order* o = !id.empty() ? find_id(id) : find_cl(cl);
      if (o == nullptr || o->inst_id != inst) return refuse(51603, "Order does not exist.");
      return ok(order_json(*o, false, false), in_us);
    }
    if (path == "/api/v5/trade/order-algo") {
      const std::string id = param("algoId"), cl = param("algoClOrdId");
      if (id.empty() && cl.empty()) return refuse(50015, "Either parameter algoId or algoClOrdId is required", 400);
      const Algo* a = !id.empty() ? find_algo_id(id) : find_algo_cl(cl);
      if (a == nullptr) return refuse(51603, "Order does not exist.");
      return ok(algo_json(*a), in_us);
    }
    if (path == "/api/v5/trade/orders-pending" || path == "/api/v5/trade/orders-algo-pending") {
      const bool algo = path == "/api/v5/trade/orders-algo-pending";
      const std::string type = param("instType"), inst = param("instId"), ord_type = param("ordType"),
                        state = param("state"), after = param("after"), before = param("before"), lim = param("limit");
      static const std::set<std::string> kInstTypes{"SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION"};
      if (!type.empty() && kInstTypes.count(type) == 0) return refuse(51000, "Parameter instType error", 400);
      if (algo && ord_type.empty()) return refuse(50014, "Parameter ordType can not be empty.", 400);
      int limit = 100;
      if (!lim.empty()) {
        const auto r = std::from_chars(lim.data(), lim.data() + lim.size(), limit);
        if (r.ec != std::errc() || r.ptr != lim.data() + lim.size() || limit < 1 || limit > 100)
          return refuse(51000, "Parameter limit error", 400);
      }
      const auto after_n = okx_fake::id_number(after), before_n = okx_fake::id_number(before);
      if ((!after.empty() && !after_n) || (!before.empty() && !before_n))
        return refuse(51000, std::string("Parameter ") + (after.empty() ? "before" : "after") + " error", 400);
      // A comma-separated list of ordTypes matches any of them.
      const auto type_ok = [&](const std::string& t) {
        if (ord_type.empty()) return true;
        std::string_view rest = ord_type;
        while (!rest.empty()) {
          const std::size_t c = rest.find(',');
          if (rest.substr(0, c) == t) return true;
          if (c == std::string_view::npos) break;
          rest.remove_prefix(c + 1);
        }
        return false;
      };
      const auto page_ok = [&](const std::string& id) {
        const std::uint64_t n = okx_fake::id_number(id).value_or(0);
        return (!after_n || n < *after_n) && (!before_n || n > *before_n);
      };
      std::string list;
      int count = 0;
      const bool swap = type.empty() || type == "SWAP";
      if (!algo) {
        for (auto it = orders_.rbegin(); swap && it != orders_.rend() && count < limit; ++it) {  // newest first
          const Order& o = *it;
          if (!o.open() || (!inst.empty() && o.inst_id != inst) || !type_ok(o.ord_type) ||
              (!state.empty() && o.state != state) || !page_ok(o.ord_id))
            continue;
          if (!list.empty()) list += ',';
          list += order_json(o, false, false);
          ++count;
        }
      } else {
        const std::string algo_id = param("algoId");
        for (auto it = algos_.rbegin(); swap && it != algos_.rend() && count < limit; ++it) {
          const Algo& a = *it;
          if (!a.live() || (!inst.empty() && a.inst_id != inst) || !type_ok(a.ord_type) ||
              (!algo_id.empty() && a.algo_id != algo_id) || !page_ok(a.algo_id))
            continue;
          if (!list.empty()) list += ',';
          list += algo_json(a);
          ++count;
        }
      }
      return ok(list, in_us);
    }
    if (path == "/api/v5/account/positions") {
      const std::string type = param("instType"), inst = param("instId");
      if (!type.empty() && type != "SWAP" && type != "MARGIN" && type != "FUTURES" && type != "OPTION")
        return refuse(51000, "Parameter instType error", 400);
      std::string list;
      for (const auto& [id, pos] : account_.positions) {
        if (pos.qty == 0 || (!type.empty() && type != "SWAP")) continue;
        if (!inst.empty() && ("," + inst + ",").find("," + id + ",") == std::string::npos) continue;
        if (!list.empty()) list += ',';
        list += position_json(id, pos);
      }
      return ok(list, in_us);
    }
    if (path == "/api/v5/account/balance") {
      const std::string ccy = param("ccy");
      const bool usdt = ccy.empty() || ("," + ccy + ",").find(",USDT,") != std::string::npos;
      return ok(account_json(usdt), in_us);
    }
    // GET /api/v5/account/config
    return ok(R"({"uid":")" + uid_ + R"(","mainUid":")" + uid_ + R"(","acctLv":")" + okx_fake::json_escape(acct_lv_) +
                  R"(","acctStpMode":"cancel_maker","posMode":")" + okx_fake::json_escape(pos_mode_) +
                  R"(","autoLoan":false,"greeksType":"PA","level":"Lv1","levelTmp":"","ctIsoMode":"automatic",)"
                  R"("mgnIsoMode":"automatic","spotOffsetType":"","roleType":"0","traderInsts":[],"spotRoleType":"0",)"
                  R"("spotTraderInsts":[],"opAuth":"0","kycLv":"3","label":"enigma-test","ip":"","perm":")" +
                  okx_fake::json_escape(perm_) +
                  R"(","liquidationGear":"-1","enableSpotBorrow":false,"spotBorrowAutoRepay":false,"type":"0"})",
              in_us);
  }

  // ---- Matching -------------------------------------------------------------------------------------------
  // The matching rule for an order just booked (or an algo's child just created), the kit's
  // (test_venue_account.hpp) in OKX's words. mu_ held. `o` stays valid: orders_ is a deque, only ever
  // appended to.
  void match_new(Order& o) {
    using venue_kit::Arrival;
    using venue_kit::Tif;
    const Dec m = mark(o.inst_id);
    const Tif tif = o.ord_type == "post_only" ? Tif::post_only
                    : o.ord_type == "ioc"     ? Tif::ioc
                    : o.ord_type == "fok"     ? Tif::fok
                                              : Tif::gtc;
    switch (venue_kit::on_arrival(o.side == "buy", o.ord_type == "market", o.px, tif, m)) {
      case Arrival::fill:
        return fill(o, o.sz, m, false);
      case Arrival::cancel_post_only:
        return cancel(o, "31");
      case Arrival::cancel_ioc:
        return cancel(o, "14");
      case Arrival::cancel_fok:
        return cancel(o, "13");
      case Arrival::rest:
        o.state = "live";
        return push_order(o, false);
    }
  }

  // `q` contracts of `o` fill at `px` (split into fill_parts_ fills). mu_ held.
  void fill(Order& o, Dec q, Dec px, bool maker) {
    if (o.reduce_only) {  // only ever closes: what would open or add is canceled
      q = venue_kit::reduce_only_qty(o.side == "buy", q, position_of(o.inst_id));
      if (q == 0) return cancel(o, "22");
    }
    const Instrument& inst = instruments_.at(o.inst_id);
    const Dec rate = fees_.rate(maker);
    for (const Dec part : venue_kit::split_fill(q, inst.lot, fill_parts_)) {
      const Dec notional = okx_fake::mul(okx_fake::mul(part, inst.ct_val), px);
      const Dec fee = -fees_.on(notional, maker);  // OKX's sign: negative for a charge
      const std::int64_t now = okx_fake::now_ms();
      o.acc_fill_sz += part;
      o.fill_value += okx_fake::mul(part, px);
      o.fee += fee;
      o.fill_sz = part;
      o.fill_px = px;
      o.fill_fee = fee;
      o.trade_id = std::to_string(++trade_seq_);
      o.exec_type = maker ? "M" : "T";
      o.fill_time = o.u_time = now;
      o.state = o.acc_fill_sz == o.sz ? "filled" : "partially_filled";
      o.fill_pnl = book_fill(o, o.side == "buy" ? part : -part, px, fee);
      o.pnl += o.fill_pnl;
      record(fills_, Fill{o.cl_ord_id, o.ord_id, o.trade_id, o.inst_id, o.side, okx_fake::dec(px), okx_fake::dec(part),
                          okx_fake::dec(inst.ct_val), okx_fake::dec(notional), okx_fake::dec(fee), okx_fake::dec(rate),
                          o.exec_type, maker, now});
      push_order(o, true);
      push("positions", o.inst_id, position_json(o.inst_id, account_.positions[o.inst_id]));
      push("account", "", account_json(true));
    }
    if (o.open() && o.reduce_only && position_of(o.inst_id) == 0) cancel(o, "22");
  }

  void cancel(Order& o, const std::string& source) {  // mu_ held
    o.state = "canceled";
    o.cancel_source = source;
    o.u_time = okx_fake::now_ms();
    push_order(o, false);
  }
  void cancel_algo(Algo& a) {  // mu_ held
    a.state = "canceled";
    a.u_time = okx_fake::now_ms();
    push_algo(a);
  }
  // Every open order and live algo goes (cancel-all-after expired). mu_ held.
  void countdown_trip() {
    countdown_armed_ = false;
    ++countdown_trips_;
    for (Order& o : orders_)
      if (o.open()) cancel(o, "20");
    for (Algo& a : algos_)
      if (a.live()) cancel_algo(a);
  }

  // A live algo's `leg` ("sl" / "tp") triggers: effective, and its child order is matched. mu_ held.
  void trigger(Algo& a, const std::string& leg) {
    const std::string& ord_px = leg == "sl" ? a.sl_ord_px : a.tp_ord_px;
    Order c;
    c.ord_id = next_id();
    c.inst_id = a.inst_id;
    c.td_mode = a.td_mode;
    c.side = a.side;
    c.ord_type = ord_px == "-1" ? "market" : "limit";
    c.px = ord_px == "-1" ? 0 : *okx_fake::parse_dec(ord_px);
    c.sz = a.sz;
    c.reduce_only = a.reduce_only;
    c.algo_id = a.algo_id;
    c.algo_cl_ord_id = a.algo_cl_ord_id;
    c.tag = a.tag;
    c.source = "7";  // "The normal order triggered by the TP/SL order"
    c.body = a.body;
    c.c_time = c.u_time = okx_fake::now_ms();
    a.state = "effective";
    a.actual_side = leg;
    a.actual_px = ord_px == "-1" ? "" : ord_px;
    a.ord_id = c.ord_id;
    a.trigger_time = a.u_time = c.c_time;
    orders_.push_back(std::move(c));
    push_algo(a);
    match_new(orders_.back());
  }
  // The live algos of `inst_id` whose trigger the mark has crossed trigger. mu_ held.
  void check_algos(const std::string& inst_id) {
    const Dec m = mark(inst_id);
    for (Algo& a : algos_) {
      if (!a.live() || a.inst_id != inst_id) continue;
      const bool buy = a.side == "buy";
      const bool sl = !a.sl_trigger_px.empty() && (buy ? m >= a.sl_trigger : m <= a.sl_trigger);
      const bool tp = !a.tp_trigger_px.empty() && (buy ? m <= a.tp_trigger : m >= a.tp_trigger);
      if (sl || tp) trigger(a, sl ? "sl" : "tp");
    }
  }

  // Books a signed fill of `o` into the account (the kit: position, realised PnL, fee) after OKX's own position
  // fields; returns the PnL it closed. mu_ held.
  Dec book_fill(const Order& o, Dec signed_qty, Dec px, Dec fee) {
    Position& p = account_.positions[o.inst_id];
    const std::int64_t now = okx_fake::now_ms();
    if (p.qty == 0) {  // a new position: its own id, times and totals
      p = Position{};
      p.pos_id = next_id();
      p.mgn_mode = o.td_mode;
      p.c_time = now;
    }
    p.u_time = now;
    p.trade_id = o.trade_id;
    p.fee += fee;
    return account_.book_fill(o.inst_id, signed_qty, px, -fee, instruments_.at(o.inst_id).ct_val).pnl;
  }

  // ---- Account arithmetic (mu_ held) -------------------------------------------------------------------------
  [[nodiscard]] Dec mark(const std::string& inst_id) const { return marks_.of(inst_id); }
  [[nodiscard]] Dec position_of(const std::string& inst_id) const { return account_.position(inst_id); }
  [[nodiscard]] Dec ct_val(const std::string& inst_id) const {
    const auto it = instruments_.find(inst_id);
    return it == instruments_.end() ? okx_fake::kOne : it->second.ct_val;
  }
  // The initial margin of `contracts` at `px`: contracts * ctVal * px / lever.
  [[nodiscard]] Dec margin_of(const std::string& inst_id, Dec contracts, Dec px) const {
    return okx_fake::mul(okx_fake::mul(contracts, ct_val(inst_id)), px) / lever_;
  }
  [[nodiscard]] Dec cash() const { return account_.cash(); }  // start balance - fees paid + realised PnL
  [[nodiscard]] Dec upl_of(const std::string& inst_id, const Position& p) const {
    return okx_fake::mul(okx_fake::mul(p.qty, ct_val(inst_id)), mark(inst_id) - p.entry);
  }
  [[nodiscard]] Dec upl() const {
    Dec u = 0;
    for (const auto& [id, p] : account_.positions) u += upl_of(id, p);
    return u;
  }
  [[nodiscard]] Dec imr() const {
    Dec m = 0;
    for (const auto& [id, p] : account_.positions) m += margin_of(id, okx_fake::abs(p.qty), mark(id));
    return m;
  }
  [[nodiscard]] Dec ord_frozen() const {
    Dec f = 0;
    for (const Order& o : orders_)
      if (o.open() && !o.reduce_only) f += margin_of(o.inst_id, o.leaves(), o.px);
    return f;
  }
  [[nodiscard]] Dec avail_eq() const { return cash() + upl() - imr() - ord_frozen(); }

  Order* find_cl(const std::string& cl) {  // the newest with this clOrdId
    if (cl.empty()) return nullptr;
    for (auto it = orders_.rbegin(); it != orders_.rend(); ++it)
      if (it->cl_ord_id == cl) return &*it;
    return nullptr;
  }
  Order* find_id(const std::string& id) {
    for (Order& o : orders_)
      if (o.ord_id == id) return &o;
    return nullptr;
  }
  Algo* find_algo_cl(const std::string& cl) {
    if (cl.empty()) return nullptr;
    for (auto it = algos_.rbegin(); it != algos_.rend(); ++it)
      if (it->algo_cl_ord_id == cl) return &*it;
    return nullptr;
  }
  Algo* find_algo_id(const std::string& id) {
    for (Algo& a : algos_)
      if (a.algo_id == id) return &a;
    return nullptr;
  }
  std::string next_id() {  // mu_ held; 18 digits growing with time, as OKX's ordId / algoId / posId
    id_seq_ += 1 + rng_() % 997;
    return std::to_string(id_seq_);
  }

  // ---- JSON of the venue's objects -------------------------------------------------------------------------
  static std::string cancel_reason(const std::string& source) {
    if (source == "0") return "Order canceled by system";
    if (source == "1") return "Order canceled by user";
    if (source == "13") return "Order canceled: FOK order was canceled due to incompletely filled.";
    if (source == "14") return "Order canceled: IOC order was partially canceled due to incompletely filled.";
    if (source == "20") return "Cancel all after triggered";
    if (source == "22")
      return "Order canceled: Reduce-only orders only allow reducing your current position. System has already "
             "canceled this order.";
    if (source == "31") return "The post-only order will take liquidity in maker orders";
    return "";
  }
  // An order as GET /api/v5/trade/order(s-pending) shows it; `push`: as the orders channel shows it, with the
  // fill fields of the fill being pushed (`fill_event`) or empty ones. mu_ held.
  std::string order_json(const Order& o, bool push, bool fill_event) const {
    using okx_fake::dec;
    const bool market = o.ord_type == "market";
    const bool show_fill = push ? fill_event : o.acc_fill_sz > 0;
    const Dec ct = ct_val(o.inst_id);
    const std::string px = market ? std::string() : dec(o.px);
    const std::string notional = dec(okx_fake::mul(okx_fake::mul(o.sz, ct), market ? mark(o.inst_id) : o.px));
    std::string s =
        R"({"instType":"SWAP","instId":")" + o.inst_id + R"(","tgtCcy":"","ccy":"","ordId":")" + o.ord_id +
        R"(","clOrdId":")" + okx_fake::json_escape(o.cl_ord_id) + R"(","tag":")" + okx_fake::json_escape(o.tag) +
        R"(","px":")" + px + R"(","pxUsd":"","pxVol":"","pxType":"","sz":")" + dec(o.sz) + R"(","pnl":")" + dec(o.pnl) +
        R"(","ordType":")" + o.ord_type + R"(","side":")" + o.side + R"(","posSide":"net","tdMode":")" + o.td_mode +
        R"(","accFillSz":")" + dec(o.acc_fill_sz) + R"(","fillPx":")" + (show_fill ? dec(o.fill_px) : "") +
        R"(","tradeId":")" + (show_fill ? o.trade_id : "") + R"(","fillSz":")" + (show_fill ? dec(o.fill_sz) : "0") +
        R"(","fillTime":")" + (show_fill ? std::to_string(o.fill_time) : "") + R"(","avgPx":")" + o.avg_px() +
        R"(","state":")" + o.state + R"(","stpId":"","stpMode":"cancel_maker","lever":")" + std::to_string(lever_) +
        R"(","attachAlgoClOrdId":"","tpTriggerPx":"","tpTriggerPxType":"","tpOrdPx":"","slTriggerPx":"",)"
        R"("slTriggerPxType":"","slOrdPx":"","attachAlgoOrds":[],"feeCcy":"USDT","fee":")" +
        dec(o.fee) + R"(","rebateCcy":"USDT","rebate":"0","source":")" + o.source +
        R"(","category":"normal","reduceOnly":")" + (o.reduce_only ? "true" : "false") +
        R"(","isTpLimit":"false","cancelSource":")" + o.cancel_source + R"(","cancelSourceReason":")" +
        okx_fake::json_escape(cancel_reason(o.cancel_source)) + R"(","quickMgnType":"","algoClOrdId":")" +
        okx_fake::json_escape(o.algo_cl_ord_id) + R"(","algoId":")" + o.algo_id +
        R"(","linkedAlgoOrd":{"algoId":""},"uTime":")" + std::to_string(o.u_time) + R"(","cTime":")" +
        std::to_string(o.c_time) + R"(")";
    if (push)
      s += R"(,"notionalUsd":")" + notional + R"(","fillFee":")" + (fill_event ? dec(o.fill_fee) : "0") +
           R"(","fillFeeCcy":"USDT","fillNotionalUsd":")" +
           (fill_event ? dec(okx_fake::mul(okx_fake::mul(o.fill_sz, ct), o.fill_px)) : "") + R"(","fillPnl":")" +
           (fill_event ? dec(o.fill_pnl) : "0") + R"(","fillMarkPx":")" + (fill_event ? dec(mark(o.inst_id)) : "") +
           R"(","execType":")" + (fill_event ? o.exec_type : "") +
           R"(","amendResult":"","amendSource":"","reqId":"","code":"0","msg":"")";
    return s + "}";
  }
  std::string algo_json(const Algo& a) const {  // mu_ held
    using okx_fake::dec;
    const bool triggered = a.state == "effective";
    return R"({"instType":"SWAP","instId":")" + a.inst_id + R"(","ordId":")" + a.ord_id + R"(","ordIdList":[)" +
           (a.ord_id.empty() ? "" : "\"" + a.ord_id + "\"") + R"(],"algoId":")" + a.algo_id + R"(","clOrdId":")" +
           okx_fake::json_escape(a.algo_cl_ord_id) + R"(","algoClOrdId":")" + okx_fake::json_escape(a.algo_cl_ord_id) +
           R"(","sz":")" + dec(a.sz) + R"(","ordType":")" + a.ord_type + R"(","side":")" + a.side +
           R"(","posSide":"net","tdMode":")" + a.td_mode + R"(","tgtCcy":"","lever":")" + std::to_string(lever_) +
           R"(","state":")" + a.state + R"(","tpTriggerPx":")" + a.tp_trigger_px + R"(","tpTriggerPxType":")" +
           (a.tp_trigger_px.empty()        ? ""
            : a.tp_trigger_px_type.empty() ? "last"
                                           : a.tp_trigger_px_type) +
           R"(","tpOrdPx":")" + a.tp_ord_px + R"(","slTriggerPx":")" + a.sl_trigger_px + R"(","slTriggerPxType":")" +
           (a.sl_trigger_px.empty()        ? ""
            : a.sl_trigger_px_type.empty() ? "last"
                                           : a.sl_trigger_px_type) +
           R"(","slOrdPx":")" + a.sl_ord_px + R"(","triggerPx":"","triggerPxType":"","ordPx":"","actualSz":")" +
           (triggered ? dec(a.sz) : "0") + R"(","actualPx":")" + a.actual_px + R"(","actualSide":")" + a.actual_side +
           R"(","notionalUsd":")" + dec(okx_fake::mul(okx_fake::mul(a.sz, ct_val(a.inst_id)), mark(a.inst_id))) +
           R"(","tag":")" + okx_fake::json_escape(a.tag) + R"(","reduceOnly":")" + (a.reduce_only ? "true" : "false") +
           R"(","last":")" + dec(mark(a.inst_id)) + R"(","failCode":"","amendResult":"","reqId":"","cTime":")" +
           std::to_string(a.c_time) + R"(","uTime":")" + std::to_string(a.u_time) + R"(","triggerTime":")" +
           (a.trigger_time == 0 ? "" : std::to_string(a.trigger_time)) + R"("})";
  }
  std::string position_json(const std::string& inst_id, const Position& p) const {  // mu_ held
    using okx_fake::dec;
    const Dec mk = mark(inst_id);
    const Dec im = margin_of(inst_id, okx_fake::abs(p.qty), mk);
    const Dec u = upl_of(inst_id, p);
    const Dec notional = okx_fake::mul(okx_fake::mul(okx_fake::abs(p.qty), ct_val(inst_id)), mk);
    return R"({"instType":"SWAP","instId":")" + inst_id + R"(","mgnMode":")" + p.mgn_mode + R"(","posId":")" +
           p.pos_id + R"(","posSide":"net","pos":")" + dec(p.qty) +
           R"(","baseBal":"","quoteBal":"","posCcy":"","availPos":"","avgPx":")" + (p.qty == 0 ? "" : dec(p.entry)) +
           R"(","markPx":")" + dec(mk) + R"(","upl":")" + dec(u) + R"(","uplRatio":")" +
           dec(im == 0 ? 0 : okx_fake::div(u, im)) + R"(","lever":")" + std::to_string(lever_) +
           R"(","liqPx":"","imr":")" + dec(im) + R"(","margin":"","mgnRatio":"","mmr":"0","notionalUsd":")" +
           dec(notional) + R"(","ccy":"USDT","last":")" + dec(mk) + R"(","idxPx":")" + dec(mk) + R"(","pnl":")" +
           dec(p.realised) + R"(","fee":")" + dec(p.fee) + R"(","fundingFee":"0","liqPenalty":"0","realizedPnl":")" +
           dec(p.realised + p.fee) + R"(","tradeId":")" + p.trade_id + R"(","cTime":")" + std::to_string(p.c_time) +
           R"(","uTime":")" + std::to_string(p.u_time) + R"("})";
  }
  // GET /api/v5/account/balance's data element and the account channel's (details empty unless `usdt`).
  std::string account_json(bool usdt) const {  // mu_ held
    using okx_fake::dec;
    const Dec c = cash(), u = upl(), eq = c + u, im = imr(), of = ord_frozen(), frozen = im + of;
    const std::string now = std::to_string(okx_fake::now_ms());
    std::string details;
    if (usdt)
      details = R"({"ccy":"USDT","eq":")" + dec(eq) + R"(","cashBal":")" + dec(c) + R"(","uTime":")" + now +
                R"(","isoEq":"0","availEq":")" + dec(eq - frozen) + R"(","disEq":")" + dec(eq) +
                R"(","fixedBal":"0","availBal":")" + dec(c - frozen) + R"(","frozenBal":")" + dec(frozen) +
                R"(","ordFrozen":")" + dec(of) + R"(","liab":"0","upl":")" + dec(u) +
                R"(","uplLiab":"0","crossLiab":"0","isoLiab":"0","mgnRatio":"","interest":"0","twap":"0",)"
                R"("maxLoan":"","eqUsd":")" +
                dec(eq) + R"(","notionalLever":"","stgyEq":"0","isoUpl":"0","spotInUseAmt":"","imr":")" + dec(im) +
                R"(","mmr":"0"})";
    return R"({"uTime":")" + now + R"(","totalEq":")" + dec(eq) + R"(","isoEq":"0","adjEq":")" + dec(eq) +
           R"(","ordFroz":")" + dec(of) + R"(","imr":")" + dec(im) +
           R"(","mmr":"0","borrowFroz":"","mgnRatio":"","notionalUsd":"","upl":")" + dec(u) + R"(","details":[)" +
           details + "]}";
  }

  // ---- Pushes --------------------------------------------------------------------------------------------
  void push_order(const Order& o, bool fill_event) { push("orders", o.inst_id, order_json(o, true, fill_event)); }
  void push_algo(const Algo& a) { push("orders-algo", a.inst_id, algo_json(a)); }
  void push(const std::string& channel, const std::string& inst_id, std::string data) {  // mu_ held
    pending_.push_back(PushItem{channel, inst_id, std::move(data)});
  }
  // A channel's plain arg (what pushed() records) and a connection's (its own subscription's filters).
  std::string plain_arg(const std::string& channel) const {
    return R"({"channel":")" + channel + (channel == "account" ? R"(","ccy":"USDT")" : R"(","instType":"SWAP")") +
           R"(,"uid":")" + uid_ + R"("})";
  }
  std::string session_arg(const std::string& channel, const Sub& sub) const {
    std::string s = R"({"channel":")" + channel + R"(")";
    if (!sub.inst_type.empty()) s += R"(,"instType":")" + okx_fake::json_escape(sub.inst_type) + R"(")";
    if (!sub.inst_id.empty()) s += R"(,"instId":")" + okx_fake::json_escape(sub.inst_id) + R"(")";
    if (!sub.ccy.empty()) s += R"(,"ccy":")" + okx_fake::json_escape(sub.ccy) + R"(")";
    return s + R"(,"uid":")" + uid_ + R"("})";
  }
  static std::string frame(const std::string& arg, const std::vector<const PushItem*>& items) {
    std::string data;
    for (const PushItem* it : items) {
      if (!data.empty()) data += ',';
      data += it->data;
    }
    return R"({"arg":)" + arg + R"(,"data":[)" + data + "]}";
  }
  // Sends what the last request or venue action queued: one message per update, or (set_batch_pushes) one per
  // run of updates of one channel; to every live logged-in connection subscribed to it (on the io thread, so
  // after the REST answer being served). mu_ held.
  void flush_pushes() {
    if (pending_.empty()) return;
    std::vector<PushItem> items = std::move(pending_);
    pending_.clear();
    std::vector<std::vector<const PushItem*>> messages;
    for (const PushItem& it : items) {
      if (batch_pushes_ && !messages.empty() && messages.back().front()->channel == it.channel)
        messages.back().push_back(&it);
      else
        messages.push_back({&it});
    }
    std::vector<std::shared_ptr<Session>> sessions;
    for (const auto& w : ws_sessions_)
      if (auto s = w.lock(); s && s->open && s->logged_in) sessions.push_back(std::move(s));
    std::vector<std::pair<std::shared_ptr<Session>, std::string>> out;
    for (const auto& m : messages) {
      const std::string& channel = m.front()->channel;
      record(pushed_, frame(plain_arg(channel), m));
      if (drop_next_pushes_ > 0 || stream_silent_) {
        if (drop_next_pushes_ > 0) --drop_next_pushes_;
        ++dropped_pushes_;
        continue;
      }
      for (const auto& s : sessions) {
        const auto sub = s->subs.find(channel);
        if (sub == s->subs.end()) continue;
        std::vector<const PushItem*> mine;
        for (const PushItem* it : m)
          if (sub->second.inst_id.empty() || sub->second.inst_id == it->inst_id) mine.push_back(it);
        if (!mine.empty()) out.emplace_back(s, frame(session_arg(channel, sub->second), mine));
      }
    }
    if (out.empty()) return;
    const int delay = push_delay_ms_;
    net::post(io_, [this, delay, out = std::move(out)]() mutable {
      if (delay <= 0) {
        for (auto& [s, f] : out) s->push(std::move(f));
        return;
      }
      auto t = std::make_shared<net::steady_timer>(io_, std::chrono::milliseconds(delay));
      t->async_wait([t, out = std::move(out)](const error_code& ec) mutable {
        if (ec) return;
        for (auto& [s, f] : out) s->push(std::move(f));
      });
    });
  }

  // ---- WebSocket connections ---------------------------------------------------------------------------------
  // Only the private streams live here (/ws/v5/private, and /ws/v5/business for orders-algo): an upgrade
  // elsewhere is refused (404). mu_ held.
  bool on_upgrade(Session& s, const std::string& target) {
    record(ws_targets_, target);
    const std::string path = target.substr(0, target.find('?'));
    s.business = path == "/ws/v5/business";
    return path == "/ws/v5/private" || s.business;
  }
  // A new connection's connId; nothing is sent before the client speaks. mu_ held.
  std::vector<std::string> on_ws_open(Session& s) {
    char id[16];
    std::snprintf(id, sizeof id, "%08x", static_cast<unsigned>(rng_() & 0xffffffffU));
    s.conn_id = id;
    ++ws_connections_;
    return {};
  }

  // ---- WebSocket client frames -----------------------------------------------------------------------------
  // The answers to one client frame; `close_after`: the connection closes once they are written. mu_ held.
  std::vector<std::string> on_client_text(Session& s, const std::string& text, bool& close_after) {
    record(ws_received_, text);
    const auto error = [&](int code, const std::string& msg) {
      return R"({"event":"error","code":")" + std::to_string(code) + R"(","msg":")" + okx_fake::json_escape(msg) +
             R"(","connId":")" + s.conn_id + R"("})";
    };
    const auto answers = [&](std::vector<std::string> a) {
      return stream_silent_ ? std::vector<std::string>{} : std::move(a);
    };
    if (text == "ping") {
      ++pings_;
      if (!answer_pings_) return {};
      return answers({"pong"});
    }
    const auto j = okx_fake::parse_flat_json(text);
    const std::string op = j ? okx_fake::get(*j, "op") : "";
    if (!j || op.empty()) return answers({error(60012, "Invalid request: " + text)});
    const auto args = j->count("args") != 0 ? okx_fake::parse_flat_array(j->at("args").text) : std::nullopt;
    if (op == "login") {
      const auto refused = [&](int code, const char* msg) {
        ++ws_login_refusals_;
        close_after = true;
        return answers({error(code, msg)});
      };
      const auto a = args && args->size() == 1 ? okx_fake::parse_flat_json((*args)[0].text) : std::nullopt;
      if (!a) return refused(60009, "Login failure");
      const std::string key = okx_fake::get(*a, "apiKey"), pass = okx_fake::get(*a, "passphrase"),
                        ts = okx_fake::get(*a, "timestamp"), sig = okx_fake::get(*a, "sign");
      if (key != kOkxKey) return refused(60005, "Invalid apiKey");
      if (pass != kOkxPassphrase) return refused(60024, "Wrong passphrase");
      double secs = 0;
      const auto r = std::from_chars(ts.data(), ts.data() + ts.size(), secs);
      if (ts.empty() || r.ec != std::errc() || r.ptr != ts.data() + ts.size())
        return refused(60004, "Invalid timestamp");
      if (check_timestamp_ && std::abs(secs - static_cast<double>(okx_fake::now_ms()) / 1000.0) > 30.0)
        return refused(60006, "Timestamp request expired");
      if (sig != okx_fake::hmac_b64(hmac_, {ts, "GET", "/users/self/verify"})) return refused(60007, "Invalid sign");
      s.logged_in = true;
      ++ws_logins_;
      return answers({R"({"event":"login","code":"0","msg":"","connId":")" + s.conn_id + R"("})"});
    }
    if (op == "subscribe" || op == "unsubscribe") {
      if (!args || args->empty()) return answers({error(60013, "Invalid args")});
      static const std::set<std::string> kChannels{"orders", "orders-algo", "positions", "account"};
      std::vector<std::pair<std::string, Sub>> subs;
      for (const auto& v : *args) {
        const auto a = okx_fake::parse_flat_json(v.text);
        if (!a) return answers({error(60013, "Invalid args")});
        const std::string channel = okx_fake::get(*a, "channel");
        Sub sub{okx_fake::get(*a, "instType"), okx_fake::get(*a, "instId"), okx_fake::get(*a, "ccy")};
        if (kChannels.count(channel) == 0 ||
            (channel != "account" && !sub.inst_type.empty() && sub.inst_type != "SWAP" && sub.inst_type != "ANY"))
          return answers({error(60018, "Wrong URL or channel:" + channel + ",instType:" + sub.inst_type +
                                           " doesn't exist. Please use the correct URL, channel and parameters "
                                           "referring to API document.")});
        if (channel != "account" && sub.inst_type.empty()) return answers({error(60013, "Invalid args")});
        // OKX serves the algo-orders channel on /ws/v5/business only, and the others on /ws/v5/private.
        if (!algo_channel_anywhere_ && (channel == "orders-algo") != s.business)
          return answers({error(64001, "This channel has been migrated to the '/" + std::string(s.business ? "private" : "business") +
                                           "' URL. Please subscribe using the new URL.")});
        subs.emplace_back(channel, std::move(sub));
      }
      if (!s.logged_in) return answers({error(60011, "Please log in")});
      std::vector<std::string> acks;
      for (std::size_t i = 0; i < subs.size(); ++i) {
        if (op == "subscribe")
          s.subs[subs[i].first] = subs[i].second;
        else
          s.subs.erase(subs[i].first);
        acks.push_back(R"({"event":")" + op + R"(","arg":)" + (*args)[i].text + R"(,"connId":")" + s.conn_id + R"("})");
      }
      return answers(std::move(acks));
    }
    return answers({error(60019, "Invalid op: " + op)});
  }

  // ---- State -------------------------------------------------------------------------------------------------
  oms::HmacSha256 hmac_;
  std::mt19937_64 rng_{std::random_device{}()};
  std::string uid_{"448715279360581632"};
  bool algo_channel_anywhere_{false};

  std::map<std::string, Instrument> instruments_;
  venue_kit::Marks marks_;    // 60000 for every instrument until set_mark
  std::deque<Order> orders_;  // arrival order; never erased; a deque so references survive appends
  std::deque<Algo> algos_;
  std::vector<Fill> fills_;
  venue_kit::Account<Position> account_;        // 10000 USDT; fees_paid positive (OKX prints them negative)
  venue_kit::Fees fees_{5'000'000, 2'000'000};  // taker 0.0005, maker 0.0002
  Dec price_limit_{500'000'000};                // 0.05
  int lever_{10};
  std::string perm_{"read_only,trade"}, pos_mode_{"net_mode"}, acct_lv_{"2"};
  int fill_parts_{1};
  std::uint64_t id_seq_{0}, trade_seq_{0};

  std::vector<PushItem> pending_;
  bool answer_pings_{true}, stream_silent_{false}, batch_pushes_{false};
  int drop_next_pushes_{0}, push_delay_ms_{0}, dropped_pushes_{0};

  std::map<std::string, Limit> limits_;
  std::map<std::string, std::deque<std::chrono::steady_clock::time_point>> hits_;
  bool check_timestamp_{true}, require_simulated_{false};

  bool countdown_armed_{false};
  std::uint64_t countdown_gen_{0};
  int countdown_timeout_s_{0}, countdown_trips_{0}, countdown_ms_per_s_{1000};
  std::unique_ptr<net::steady_timer> countdown_timer_;  // io thread only; dies before the transport's io_context

  int rate_limit_next_{0}, fail_next_{0}, fail_status_{503}, silence_next_{0}, delay_ms_{0};
  bool lose_order_{false};
  int lose_order_status_{0};
  int reject_next_{0}, reject_code_{0};
  std::string reject_msg_;

  std::map<std::string, int> requests_;
  std::map<int, int> refusals_;
  int simulated_requests_{0};
  int ws_connections_{0}, ws_logins_{0}, ws_login_refusals_{0}, pings_{0}, stream_drops_{0};
  std::vector<Request> request_log_;
  std::vector<std::string> bodies_, ws_targets_, ws_received_, pushed_;
};

}  // namespace enigma::testing
