#include "oms/venues/binance_futures_ws_api.hpp"
#include "oms/venues/binance_futures_names.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace enigma::oms::binance_futures {
namespace {

namespace od = simdjson::ondemand;


bool printable_token(std::string_view s) noexcept {
  for (const char c : s)
    if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\') return false;
  return !s.empty();
}

}  // namespace

// Writes the params object and, for hmac, the same `k=v&k=v` text to sign. Callers add params in
// alphabetical order of their names (the order the signature payload must have).
struct WsApiWriter {
  BufWriter json;
  BufWriter query;
  bool first{true};

  WsApiWriter(char* out, std::size_t cap, char* q, std::size_t qcap) noexcept : json(out, cap), query(q, qcap) {}
  void key(std::string_view k) noexcept {
    json.put(first ? "\"" : ",\"");
    json.put(k);
    json.put("\":");
    if (!first) query.put('&');
    query.put(k);
    query.put('=');
    first = false;
  }
  // The value bytes just written to the JSON (between `from` and now), minus the quotes, into the query.
  void mirror(char* from, bool quoted) noexcept {
    if (json.overflow) return;
    std::string_view v(from, static_cast<std::size_t>(json.cur - from));
    if (quoted) v = v.substr(1, v.size() - 2);
    query.put(v);
  }
  void str(std::string_view k, std::string_view v) noexcept {
    key(k);
    char* at = json.cur;
    json.put('"');
    json.put(v);
    json.put('"');
    mirror(at, true);
  }
  template <class T>
  void fixed(std::string_view k, T v) noexcept {
    key(k);
    char* at = json.cur;
    json.put('"');
    json.put_fixed(v);
    json.put('"');
    mirror(at, true);
  }
  void integer(std::string_view k, std::int64_t v) noexcept {
    key(k);
    char* at = json.cur;
    json.put_int(v);
    mirror(at, false);
  }
};

WsApiEncoder::WsApiEncoder(const InstrumentRegistry& registry, std::string api_key, const Secret& secret,
                           WsApiAuth auth, std::int64_t recv_window_ms)
    : registry_(registry), api_key_(std::move(api_key)), hmac_(secret.reveal()), auth_(auth), recv_window_ms_(recv_window_ms) {
  if (!printable_token(api_key_)) throw Error("binance ws-api encoder: api key is empty or not printable ASCII");
  if (auth_ == WsApiAuth::hmac && secret.empty()) throw Error("binance ws-api encoder: HMAC signing needs the api secret");
}

namespace {

// Opens `{"id":<n>,"method":"<m>","params":{` in `out`; the params writer continues after it.
WsApiWriter open_request(std::uint64_t id, std::string_view method, char* out, std::size_t cap, char* q,
                         std::size_t qcap) noexcept {
  BufWriter head(out, cap);
  head.put("{\"id\":");
  head.put_uint(id);
  head.put(",\"method\":\"");
  head.put(method);
  head.put("\",\"params\":{");
  if (head.overflow) {
    WsApiWriter w(out, 0, q, qcap);
    w.json.overflow = true;
    return w;
  }
  WsApiWriter w(head.cur, static_cast<std::size_t>(head.end - head.cur), q, qcap);
  w.json.begin = out;  // size() then counts the whole request
  return w;
}

}  // namespace

Result<std::size_t> WsApiEncoder::finish(WsApiWriter& w) noexcept {
  if (auth_ == WsApiAuth::hmac) {
    if (w.query.overflow) return Result<std::size_t>::failure(Errc::capacity);
    unsigned char mac[kSha256Size];
    hmac_.sign(w.query.view(), mac);
    char sig[kSha256HexSize];
    hex_encode(mac, sizeof mac, sig);
    w.json.put(",\"signature\":\"");
    w.json.put(std::string_view(sig, sizeof sig));
    w.json.put('"');
  }
  w.json.put("}}");
  if (w.json.overflow) return Result<std::size_t>::failure(Errc::capacity);
  ++next_id_;
  return Result<std::size_t>::success(w.json.size());
}

bool WsApiEncoder::resign(char* bytes, std::size_t size, std::int64_t timestamp_ms) const noexcept {
  constexpr std::size_t npos = std::string_view::npos;
  constexpr std::string_view kParams = "\"params\":{", kTimestamp = "\"timestamp\":", kSig = ",\"signature\":\"";
  const std::string_view rq(bytes, size);
  const std::size_t params = rq.find(kParams);
  if (params == npos || !rq.ends_with("}}")) return false;
  const std::size_t from = params + kParams.size();
  // finish() writes the signature last: `,"signature":"<64 hex>"}}`; session requests end their params at `}}`.
  const bool hmac = auth_ == WsApiAuth::hmac;
  const std::size_t sig = hmac ? rq.rfind(kSig) : size - 2;
  if (sig == npos || sig < from || (hmac && size - 3 - (sig + kSig.size()) != kSha256HexSize)) return false;
  std::size_t ts = rq.find(kTimestamp, from);
  if (ts == npos || ts >= sig) return false;
  ts += kTimestamp.size();
  std::size_t ts_end = ts;
  while (ts_end < sig && bytes[ts_end] >= '0' && bytes[ts_end] <= '9') ++ts_end;
  char old[24];
  const std::size_t len = ts_end - ts;
  if (len == 0 || len > sizeof old) return false;
  std::memcpy(old, bytes + ts, len);
  if (!overwrite_decimal(bytes + ts, len, timestamp_ms)) return false;
  if (!hmac) return true;
  // The signed text again: the params as `k=v&k=v` in their written (sorted) order, strings unquoted. The
  // encoder's values never hold a quote or a comma (printable tokens, decimals, names).
  char query[sizeof query_];
  BufWriter q(query, sizeof query);
  std::string_view rest = rq.substr(from, sig - from);
  bool ok = true;
  while (ok && !rest.empty()) {
    const std::size_t key_end = rest.find("\":");
    ok = rest[0] == '"' && key_end != npos;
    if (!ok) break;
    if (q.size() != 0) q.put('&');
    q.put(rest.substr(1, key_end - 1));
    q.put('=');
    rest.remove_prefix(key_end + 2);
    const bool quoted = !rest.empty() && rest[0] == '"';
    const std::size_t value_end = quoted ? rest.find('"', 1) : std::min(rest.find(','), rest.size());
    ok = value_end != npos;
    if (!ok) break;
    q.put(quoted ? rest.substr(1, value_end - 1) : rest.substr(0, value_end));
    rest.remove_prefix(quoted ? value_end + 1 : value_end);
    if (!rest.empty()) {
      ok = rest[0] == ',';
      rest.remove_prefix(1);
    }
  }
  if (!ok || q.overflow) {
    std::memcpy(bytes + ts, old, len);  // not a request of ours: leave it as it was
    return false;
  }
  unsigned char mac[kSha256Size];
  hmac_.sign(q.view(), mac);
  hex_encode(mac, sizeof mac, bytes + sig + kSig.size());
  return true;
}

Result<std::size_t> WsApiEncoder::encode_new(const OrderSpec& o, std::int64_t timestamp_ms, char* out,
                                             std::size_t cap) noexcept {
  const OrderRequest& r = o.req;
  if (r.instrument >= registry_.size() || r.qty.raw() <= 0 ||
      !is_valid_client_id(r.client_id.view(), kBinanceMaxClientIdLen)) {
    return Result<std::size_t>::failure(Errc::out_of_range);
  }
  WsApiWriter w = open_request(next_id_, "order.place", out, cap, query_, sizeof query_);
  const bool hmac = auth_ == WsApiAuth::hmac;
  // Alphabetical: activationPrice apiKey callbackRate newClientOrderId price quantity recvWindow reduceOnly
  // side stopPrice symbol timeInForce timestamp type.
  if (r.type == OrderType::trailing_stop && r.stop_price.raw() > 0) w.fixed("activationPrice", r.stop_price);
  if (hmac) w.str("apiKey", api_key_);
  if (r.type == OrderType::trailing_stop) w.fixed("callbackRate", o.callback_rate * 100);  // percent
  w.str("newClientOrderId", r.client_id.view());
  if (r.type == OrderType::limit) w.fixed("price", r.price);
  w.fixed("quantity", r.qty);
  w.integer("recvWindow", recv_window_ms_);
  if (r.reduce_only) w.str("reduceOnly", "true");
  w.str("side", r.side == Side::buy ? "BUY" : "SELL");
  if (r.type == OrderType::stop_market || r.type == OrderType::take_profit_market) w.fixed("stopPrice", r.stop_price);
  w.str("symbol", registry_.get(r.instrument).symbol.view());
  if (r.type == OrderType::limit) w.str("timeInForce", tif_name(r.tif));
  w.integer("timestamp", timestamp_ms);
  w.str("type", type_name(r.type));
  return finish(w);
}

Result<std::size_t> WsApiEncoder::order_request(std::string_view method, InstrumentId instrument,
                                                const ClientOrderId& id, std::int64_t timestamp_ms, char* out,
                                                std::size_t cap) noexcept {
  if (instrument >= registry_.size() || !is_valid_client_id(id.view(), kBinanceMaxClientIdLen)) {
    return Result<std::size_t>::failure(Errc::out_of_range);
  }
  WsApiWriter w = open_request(next_id_, method, out, cap, query_, sizeof query_);
  if (auth_ == WsApiAuth::hmac) w.str("apiKey", api_key_);
  w.str("origClientOrderId", id.view());
  w.integer("recvWindow", recv_window_ms_);
  w.str("symbol", registry_.get(instrument).symbol.view());
  w.integer("timestamp", timestamp_ms);
  return finish(w);
}

Result<std::size_t> WsApiEncoder::encode_cancel(InstrumentId instrument, const ClientOrderId& id,
                                                std::int64_t timestamp_ms, char* out, std::size_t cap) noexcept {
  return order_request("order.cancel", instrument, id, timestamp_ms, out, cap);
}

Result<std::size_t> WsApiEncoder::encode_query(InstrumentId instrument, const ClientOrderId& id,
                                               std::int64_t timestamp_ms, char* out, std::size_t cap) noexcept {
  return order_request("order.status", instrument, id, timestamp_ms, out, cap);
}

Result<std::size_t> WsApiEncoder::encode_modify(InstrumentId instrument, const ClientOrderId& id, Side side, Qty qty,
                                                Price price, std::int64_t timestamp_ms, char* out,
                                                std::size_t cap) noexcept {
  if (instrument >= registry_.size() || qty.raw() <= 0 || price.raw() <= 0 ||
      !is_valid_client_id(id.view(), kBinanceMaxClientIdLen)) {
    return Result<std::size_t>::failure(Errc::out_of_range);
  }
  WsApiWriter w = open_request(next_id_, "order.modify", out, cap, query_, sizeof query_);
  if (auth_ == WsApiAuth::hmac) w.str("apiKey", api_key_);
  w.str("origClientOrderId", id.view());
  w.fixed("price", price);
  w.fixed("quantity", qty);
  w.integer("recvWindow", recv_window_ms_);
  w.str("side", side == Side::buy ? "BUY" : "SELL");
  w.str("symbol", registry_.get(instrument).symbol.view());
  w.integer("timestamp", timestamp_ms);
  return finish(w);
}

std::string logon_request(std::string_view api_key, const Ed25519Signer& key, std::int64_t timestamp_ms) {
  if (!printable_token(api_key)) throw Error("binance ws-api logon: api key is empty or not printable ASCII");
  const std::string ts = std::to_string(timestamp_ms);
  const std::string payload = "apiKey=" + std::string(api_key) + "&timestamp=" + ts;  // sorted by name
  char sig[Ed25519Signer::kBase64Size];
  key.sign_base64(payload, sig);
  return R"({"id":0,"method":"session.logon","params":{"apiKey":")" + std::string(api_key) + R"(","signature":")" +
         std::string(sig, sizeof sig) + R"(","timestamp":)" + ts + "}}";
}

struct WsApiAnswerDecoder::Impl {
  std::size_t max_bytes;
  od::parser parser;
  std::vector<char> padded;
  explicit Impl(std::size_t max) : max_bytes(max), parser(max) {
    if (parser.allocate(max)) throw Error("binance ws-api answer decoder: cannot allocate simdjson buffers");
    padded.resize(max + simdjson::SIMDJSON_PADDING);
  }
};

WsApiAnswerDecoder::WsApiAnswerDecoder(std::size_t max_message_bytes) : impl_(std::make_unique<Impl>(max_message_bytes)) {}
WsApiAnswerDecoder::~WsApiAnswerDecoder() = default;

Errc WsApiAnswerDecoder::decode(std::string_view msg, std::size_t padded_capacity, WsApiAnswer& out) noexcept {
  out = WsApiAnswer{};
  Impl& im = *impl_;
  if (msg.size() > im.max_bytes) return Errc::capacity;
  if (padded_capacity < msg.size() + simdjson::SIMDJSON_PADDING) {
    std::memcpy(im.padded.data(), msg.data(), msg.size());
    std::memset(im.padded.data() + msg.size(), 0, simdjson::SIMDJSON_PADDING);
    msg = std::string_view(im.padded.data(), msg.size());
    padded_capacity = im.padded.size();
  }
  od::document doc;
  if (im.parser.iterate(simdjson::padded_string_view(msg.data(), msg.size(), padded_capacity)).get(doc)) return Errc::bad_format;
  od::object obj;
  if (doc.get_object().get(obj)) return Errc::bad_format;
  std::int64_t id = -1;
  if (obj["id"].get_int64().get(id)) id = -1;
  std::int64_t status = 0;
  if (obj["status"].get_int64().get(status) || status <= 0 || status > 999) return Errc::bad_format;
  out.id = id;
  out.status = static_cast<int>(status);
  std::string_view body;
  od::object inner;
  if (!obj[status < 300 ? "result" : "error"].get_object().get(inner) && !inner.raw_json().get(body)) out.body = body;
  return Errc::ok;
}

}  // namespace enigma::oms::binance_futures
