#include "oms/venues/okx_swap.hpp"
#include "oms/venues/okx_swap_user.hpp"

#include <algorithm>

#include <openssl/crypto.h>

#include <cstring>

namespace enigma::oms::okx_swap {
namespace {

bool has_crlf(std::string_view s) noexcept { return s.find_first_of("\r\n") != std::string_view::npos; }

// The passphrase travels as a header value and inside the login JSON string, both written as is.
bool plain_text(std::string_view s) noexcept {
  for (const char c : s)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == '"' || c == '\\') return false;
  return true;
}

// ordType of a limit order: OKX folds the time in force into the order type.
std::string_view limit_ord_type(TimeInForce t) noexcept {
  switch (t) {
    case TimeInForce::gtc:
      return "limit";
    case TimeInForce::ioc:
      return "ioc";
    case TimeInForce::fok:
      return "fok";
    case TimeInForce::post_only:
      return "post_only";
  }
  return "limit";
}

std::string_view td_mode_text(TdMode m) noexcept { return m == TdMode::isolated ? "isolated" : "cross"; }

void put_two(char* at, unsigned v) noexcept {
  at[0] = static_cast<char>('0' + v / 10);
  at[1] = static_cast<char>('0' + v % 10);
}

// 9999-12-31T23:59:59.999Z: the last time the fixed 24-character form can write.
constexpr std::int64_t kMaxTimestampMs = 253402300799999;

constexpr std::string_view kTimestampHeader = "OK-ACCESS-TIMESTAMP: ";
constexpr std::string_view kSignHeader = "\r\nOK-ACCESS-SIGN: ";

}  // namespace

bool Encoder::format_timestamp(std::int64_t timestamp_ms, char out[kTimestampSize]) noexcept {
  if (timestamp_ms < 0 || timestamp_ms > kMaxTimestampMs) return false;
  const std::int64_t days = timestamp_ms / 86'400'000;
  const std::int64_t ms_of_day = timestamp_ms % 86'400'000;
  // Civil date of a day count since 1970-01-01 (H. Hinnant's civil_from_days, proleptic Gregorian).
  const std::int64_t z = days + 719468;
  const std::int64_t era = z / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const auto day = static_cast<unsigned>(doy - (153 * mp + 2) / 5 + 1);
  const auto month = static_cast<unsigned>(mp < 10 ? mp + 3 : mp - 9);
  const auto year = static_cast<unsigned>(yoe + era * 400 + (month <= 2 ? 1 : 0));
  const auto secs = static_cast<unsigned>(ms_of_day / 1000);
  const auto millis = static_cast<unsigned>(ms_of_day % 1000);
  put_two(out, year / 100);
  put_two(out + 2, year % 100);
  out[4] = '-';
  put_two(out + 5, month);
  out[7] = '-';
  put_two(out + 8, day);
  out[10] = 'T';
  put_two(out + 11, secs / 3600);
  out[13] = ':';
  put_two(out + 14, secs / 60 % 60);
  out[16] = ':';
  put_two(out + 17, secs % 60);
  out[19] = '.';
  out[20] = static_cast<char>('0' + millis / 100);
  put_two(out + 21, millis % 100);
  out[23] = 'Z';
  return true;
}

Encoder::Encoder(const InstrumentRegistry& registry, std::string api_key, const Secret& secret,
                 const Secret& passphrase, Config cfg)
    : registry_(registry),
      api_key_(std::move(api_key)),
      passphrase_(passphrase.reveal()),
      hmac_(secret.reveal()),
      cfg_(std::move(cfg)) {
  // A throwing constructor runs no destructor: wipe the passphrase copy before leaving.
  const auto fail = [this](const char* why) {
    if (!passphrase_.empty()) OPENSSL_cleanse(passphrase_.data(), passphrase_.size());
    throw Error(std::string("okx swap encoder: ") + why);
  };
  if (api_key_.empty() || has_crlf(api_key_) || !plain_text(api_key_))
    fail("api key is empty or has CR/LF, a quote or a backslash");
  if (cfg_.host.empty() || has_crlf(cfg_.host)) fail("host is empty or has CR/LF");
  if (secret.empty()) fail("api secret is empty");
  if (passphrase_.empty() || !plain_text(passphrase_))
    fail("passphrase is empty or has CR/LF, a quote, a backslash or a control character");
  head_ = " HTTP/1.1\r\nHost: " + cfg_.host + "\r\nOK-ACCESS-KEY: " + api_key_ +
          "\r\nOK-ACCESS-PASSPHRASE: " + passphrase_ + "\r\n";
  if (cfg_.simulated) head_ += "x-simulated-trading: 1\r\n";
  head_ += kTimestampHeader;
}

Encoder::~Encoder() {
  // The passphrase is a credential (RELIABILITY.md, Credentials): leave no copy in freed memory.
  if (!passphrase_.empty()) OPENSSL_cleanse(passphrase_.data(), passphrase_.size());
  if (!head_.empty()) OPENSSL_cleanse(head_.data(), head_.size());
}

void Encoder::sign(std::string_view timestamp, std::string_view method, std::string_view request_path,
                   std::string_view body, char out[kSha256Base64Size]) const noexcept {
  unsigned char mac[kSha256Size];
  hmac_.sign({timestamp, method, request_path, body}, mac);
  base64_encode(mac, sizeof mac, out);
}

std::vector<std::pair<std::string, std::string>> Encoder::signed_headers(std::string_view method,
                                                                         std::string_view endpoint,
                                                                         std::string_view body,
                                                                         std::int64_t timestamp_ms) const {
  char ts[kTimestampSize];
  if (!format_timestamp(timestamp_ms, ts)) throw Error("okx swap encoder: timestamp out of range");
  const std::string_view ts_view(ts, sizeof ts);
  char sig[kSha256Base64Size];
  sign(ts_view, method, endpoint, body, sig);
  std::vector<std::pair<std::string, std::string>> h{{"OK-ACCESS-KEY", api_key_},
                                                     {"OK-ACCESS-SIGN", std::string(sig, kSha256Base64Size)},
                                                     {"OK-ACCESS-TIMESTAMP", std::string(ts_view)},
                                                     {"OK-ACCESS-PASSPHRASE", passphrase_}};
  if (cfg_.simulated) h.emplace_back("x-simulated-trading", "1");
  return h;
}

std::string Encoder::login_message(std::int64_t unix_seconds) const {
  const std::string ts = std::to_string(unix_seconds);
  char sig[kSha256Base64Size];
  sign(ts, "GET", "/users/self/verify", {}, sig);
  return R"({"op":"login","args":[{"apiKey":")" + api_key_ + R"(","passphrase":")" + passphrase_ +
         R"(","timestamp":")" + ts + R"(","sign":")" + std::string(sig, kSha256Base64Size) + "\"}]}";
}

std::string Encoder::subscribe_message() {
  // Positions and the USDT balance are ignored by the decoder but keep the connection's data flowing and let a
  // gateway log them; the order states are what matters.
  return R"({"op":"subscribe","args":[{"channel":"orders","instType":"SWAP"},)"
         R"({"channel":"positions","instType":"SWAP"},{"channel":"account","ccy":"USDT"}]})";
}

std::string Encoder::business_subscribe_message() {
  return R"({"op":"subscribe","args":[{"channel":"orders-algo","instType":"SWAP"}]})";
}

bool Encoder::resign(char* bytes, std::size_t size, std::int64_t timestamp_ms) const noexcept {
  constexpr std::size_t npos = std::string_view::npos;
  const std::string_view rq(bytes, size);
  // "METHOD endpoint" head_ "timestamp" "\r\nOK-ACCESS-SIGN: " sig ... "\r\n\r\n" body, as finish() writes it.
  const std::size_t method_end = rq.find(' ');
  const std::size_t line_end = rq.find(" HTTP/1.1\r\n");
  const std::size_t head_end = rq.find("\r\n\r\n");
  if (method_end == npos || line_end == npos || head_end == npos || method_end >= line_end || line_end > head_end)
    return false;
  // Our own head (host, key, passphrase, demo flag) right after the request line: a request of another key
  // would be signed with the wrong secret.
  if (rq.compare(line_end, head_.size(), head_) != 0) return false;
  const std::size_t ts_begin = line_end + head_.size();
  if (ts_begin + kTimestampSize + kSignHeader.size() + kSha256Base64Size > head_end) return false;
  if (rq.compare(ts_begin + kTimestampSize, kSignHeader.size(), kSignHeader) != 0) return false;
  char ts[kTimestampSize];
  if (!format_timestamp(timestamp_ms, ts)) return false;
  std::memcpy(bytes + ts_begin, ts, sizeof ts);
  const std::string_view method = rq.substr(0, method_end);
  const std::string_view endpoint = rq.substr(method_end + 1, line_end - method_end - 1);
  sign(rq.substr(ts_begin, kTimestampSize), method, endpoint, rq.substr(head_end + 4),
       bytes + ts_begin + kTimestampSize + kSignHeader.size());
  return true;
}

Result<std::size_t> Encoder::finish(std::string_view method, std::string_view endpoint, std::string_view body,
                                    std::int64_t timestamp_ms, char* out, std::size_t cap) noexcept {
  char ts[kTimestampSize];
  if (!format_timestamp(timestamp_ms, ts)) return Result<std::size_t>::failure(Errc::out_of_range);
  const std::string_view ts_view(ts, sizeof ts);
  BufWriter w(out, cap);
  w.put(method);
  w.put(' ');
  w.put(endpoint);
  w.put(head_);
  w.put(ts_view);
  w.put(kSignHeader);
  if (w.overflow || static_cast<std::size_t>(w.end - w.cur) < kSha256Base64Size)
    return Result<std::size_t>::failure(Errc::capacity);
  // requestPath is the endpoint with its query, as written on the request line; the body is "" for a GET.
  sign(ts_view, method, endpoint, body, w.cur);  // the signature lands where it is sent
  w.cur += kSha256Base64Size;
  w.put("\r\n");
  if (!body.empty()) {
    w.put("Content-Type: application/json\r\nContent-Length: ");
    w.put_uint(body.size());
    w.put("\r\n");
  }
  w.put("\r\n");
  w.put(body);
  if (w.overflow) return Result<std::size_t>::failure(Errc::capacity);
  return Result<std::size_t>::success(w.size());
}

void Encoder::put_inst_and_mode(BufWriter& b, const InstrumentSpec& spec) const noexcept {
  b.put("\"instId\":\"");
  b.put(spec.symbol.view());
  b.put("\",\"tdMode\":\"");
  b.put(td_mode_text(cfg_.td_mode));
  b.put('"');
}

Result<std::size_t> Encoder::encode_new(const OrderSpec& o, std::int64_t timestamp_ms, char* out,
                                        std::size_t cap) noexcept {
  const OrderRequest& r = o.req;
  // No trailing stop (an OKX move_order_stop algo is not on this path) and no iceberg.
  if (r.instrument >= registry_.size() || r.qty.raw() <= 0 || r.type == OrderType::trailing_stop ||
      o.display_qty.raw() > 0 || !is_valid_okx_client_id(r.client_id.view())) {
    return Result<std::size_t>::failure(Errc::out_of_range);
  }
  const InstrumentSpec& spec = registry_.get(r.instrument);
  // lotSz: the venue refuses other sizes (51121 "Order quantity must be a multiple of the lot size").
  if (spec.lot.raw() > 0 && r.qty.raw() % spec.lot.raw() != 0) return Result<std::size_t>::failure(Errc::out_of_range);
  const bool limit = r.type == OrderType::limit;
  const bool conditional = is_algo(r.type);
  if ((limit && r.price.raw() <= 0) || (conditional && r.stop_price.raw() <= 0))
    return Result<std::size_t>::failure(Errc::out_of_range);
  BufWriter b(body_, sizeof body_);
  b.put('{');
  put_inst_and_mode(b, spec);
  b.put(r.side == Side::buy ? ",\"side\":\"buy\"" : ",\"side\":\"sell\"");
  if (conditional) {
    // A one-way stop ("conditional") with one leg, executed at market (-1) when the last price reaches it.
    const bool sl = r.type == OrderType::stop_market;
    b.put(",\"ordType\":\"conditional\",\"sz\":\"");
    b.put_fixed(r.qty);
    b.put("\",\"algoClOrdId\":\"");
    b.put(r.client_id.view());
    b.put(sl ? "\",\"slTriggerPx\":\"" : "\",\"tpTriggerPx\":\"");
    b.put_fixed(r.stop_price);
    b.put(sl ? "\",\"slOrdPx\":\"-1\",\"slTriggerPxType\":\"last\""
             : "\",\"tpOrdPx\":\"-1\",\"tpTriggerPxType\":\"last\"");
  } else {
    b.put(",\"ordType\":\"");
    b.put(limit ? limit_ord_type(r.tif) : std::string_view("market"));
    b.put('"');
    if (limit) {
      b.put(",\"px\":\"");
      b.put_fixed(r.price);
      b.put('"');
    }
    b.put(",\"sz\":\"");
    b.put_fixed(r.qty);
    b.put("\",\"clOrdId\":\"");
    b.put(r.client_id.view());
    b.put('"');
  }
  if (r.reduce_only) b.put(",\"reduceOnly\":true");
  b.put('}');
  if (b.overflow) return Result<std::size_t>::failure(Errc::capacity);
  return post(conditional ? "/api/v5/trade/order-algo" : "/api/v5/trade/order", b.view(), timestamp_ms, out, cap);
}

Result<std::size_t> Encoder::encode_cancel(InstrumentId instrument, const ClientOrderId& id, bool algo,
                                           std::int64_t timestamp_ms, char* out, std::size_t cap) noexcept {
  // cancel-algos takes an array only: one algo order is a batch of one.
  if (algo)
    return encode_cancel_batch(instrument, std::span<const ClientOrderId>(&id, 1), true, timestamp_ms, out, cap);
  if (instrument >= registry_.size() || !is_valid_okx_client_id(id.view()))
    return Result<std::size_t>::failure(Errc::out_of_range);
  BufWriter b(body_, sizeof body_);
  b.put("{\"instId\":\"");
  b.put(registry_.get(instrument).symbol.view());
  b.put("\",\"clOrdId\":\"");
  b.put(id.view());
  b.put("\"}");
  if (b.overflow) return Result<std::size_t>::failure(Errc::capacity);
  return post("/api/v5/trade/cancel-order", b.view(), timestamp_ms, out, cap);
}

Result<std::size_t> Encoder::encode_cancel_batch(InstrumentId instrument, std::span<const ClientOrderId> ids, bool algo,
                                                 std::int64_t timestamp_ms, char* out, std::size_t cap) noexcept {
  const std::size_t max = algo ? kMaxBatchCancelAlgo : kMaxBatchCancel;
  if (instrument >= registry_.size() || ids.empty() || ids.size() > max)
    return Result<std::size_t>::failure(Errc::out_of_range);
  const std::string_view symbol = registry_.get(instrument).symbol.view();
  BufWriter b(body_, sizeof body_);
  b.put('[');
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (!is_valid_okx_client_id(ids[i].view())) return Result<std::size_t>::failure(Errc::out_of_range);
    b.put(i == 0 ? "{\"instId\":\"" : ",{\"instId\":\"");
    b.put(symbol);
    b.put(algo ? "\",\"algoClOrdId\":\"" : "\",\"clOrdId\":\"");
    b.put(ids[i].view());
    b.put("\"}");
  }
  b.put(']');
  if (b.overflow) return Result<std::size_t>::failure(Errc::capacity);
  return post(algo ? "/api/v5/trade/cancel-algos" : "/api/v5/trade/cancel-batch-orders", b.view(), timestamp_ms, out,
              cap);
}

Result<std::size_t> Encoder::encode_query(InstrumentId instrument, const ClientOrderId& id, bool algo,
                                          std::int64_t timestamp_ms, char* out, std::size_t cap) noexcept {
  if (instrument >= registry_.size() || !is_valid_okx_client_id(id.view()))
    return Result<std::size_t>::failure(Errc::out_of_range);
  BufWriter e(endpoint_, sizeof endpoint_);
  if (algo) {
    e.put("/api/v5/trade/order-algo?algoClOrdId=");
  } else {
    e.put("/api/v5/trade/order?instId=");
    e.put(registry_.get(instrument).symbol.view());
    e.put("&clOrdId=");
  }
  e.put(id.view());  // [A-Za-z0-9] and the symbol's [A-Z0-9-]: nothing to URL-encode
  if (e.overflow) return Result<std::size_t>::failure(Errc::capacity);
  return finish("GET", e.view(), {}, timestamp_ms, out, cap);
}

Result<std::size_t> Encoder::encode_query_placed(InstrumentId instrument, std::string_view ord_id,
                                                 std::int64_t timestamp_ms, char* out, std::size_t cap) noexcept {
  const bool digits = !ord_id.empty() && std::all_of(ord_id.begin(), ord_id.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (instrument >= registry_.size() || !digits) return Result<std::size_t>::failure(Errc::out_of_range);
  BufWriter e(endpoint_, sizeof endpoint_);
  e.put("/api/v5/trade/order?instId=");
  e.put(registry_.get(instrument).symbol.view());
  e.put("&ordId=");
  e.put(ord_id);
  if (e.overflow) return Result<std::size_t>::failure(Errc::capacity);
  return finish("GET", e.view(), {}, timestamp_ms, out, cap);
}

Result<std::size_t> Encoder::encode_dead_man(std::uint32_t seconds, std::int64_t timestamp_ms, char* out,
                                             std::size_t cap) noexcept {
  if (seconds != 0 && (seconds < 10 || seconds > 120)) return Result<std::size_t>::failure(Errc::out_of_range);
  BufWriter b(body_, sizeof body_);
  b.put("{\"timeOut\":\"");
  b.put_uint(seconds);
  b.put("\"}");
  if (b.overflow) return Result<std::size_t>::failure(Errc::capacity);
  return post("/api/v5/trade/cancel-all-after", b.view(), timestamp_ms, out, cap);
}




Result<std::size_t> OrderEntry::encode_cancel(InstrumentId instrument, const ClientOrderId& id, risk::OrderType type,
                                              std::int64_t timestamp_ms, char* out, std::size_t cap) noexcept {
  return enc_.encode_cancel(instrument, id, is_algo(type), timestamp_ms, out, cap);
}

Result<std::size_t> OrderEntry::encode_query(InstrumentId instrument, const ClientOrderId& id, risk::OrderType type,
                                             std::int64_t timestamp_ms, char* out, std::size_t cap) noexcept {
  return enc_.encode_query(instrument, id, is_algo(type), timestamp_ms, out, cap);
}

Result<std::size_t> OrderEntry::encode_cancel_batch(InstrumentId instrument, std::span<const ClientOrderId> ids,
                                                    std::int64_t timestamp_ms, char* out, std::size_t cap) noexcept {
  return enc_.encode_cancel_batch(instrument, ids, false, timestamp_ms, out, cap);
}

std::string OrderEntry::dead_man_refusal(std::int64_t countdown_ns) const {
  if (countdown_ns == 0 || (countdown_ns >= 10'000'000'000 && countdown_ns <= 120'000'000'000)) return {};
  return "OKX's dead-man switch (cancel-all-after) takes 10 to 120 s: set [live] deadman_countdown_ms accordingly, or 0";
}

Result<std::size_t> OrderEntry::encode_dead_man(InstrumentId, std::int64_t countdown_ms, std::int64_t timestamp_ms,
                                                char* out, std::size_t cap) noexcept {
  // Whole seconds; 0 disarms.
  return enc_.encode_dead_man(static_cast<std::uint32_t>(countdown_ms / 1000), timestamp_ms, out, cap);
}

Result<std::size_t> OrderEntry::encode_query_placed(InstrumentId instrument, std::string_view venue_order_id,
                                                    std::int64_t timestamp_ms, char* out, std::size_t cap) noexcept {
  return enc_.encode_query_placed(instrument, venue_order_id, timestamp_ms, out, cap);
}

bool OrderEntry::credentials_refused(std::int32_t code) const noexcept { return okx_swap::credentials_refused(code); }


}  // namespace enigma::oms::okx_swap
