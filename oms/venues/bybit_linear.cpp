#include "oms/venues/bybit_linear.hpp"
#include "oms/venues/bybit_linear_user.hpp"

namespace enigma::oms::bybit_linear {
namespace {

bool has_crlf(std::string_view s) noexcept { return s.find_first_of("\r\n") != std::string_view::npos; }

// triggerDirection: 2 triggers when the last price falls to triggerPrice, 1 when it rises to it. A sell
// stop-loss (closing a long) and a buy take-profit (closing a short) trigger on the way down.
std::string_view trigger_direction(OrderType t, Side s) noexcept {
  const bool down = (t == OrderType::stop_market) == (s == Side::sell);
  return down ? ",\"triggerDirection\":2" : ",\"triggerDirection\":1";
}

std::string_view tif_text(TimeInForce t) noexcept {
  switch (t) {
    case TimeInForce::gtc:
      return "GTC";
    case TimeInForce::ioc:
      return "IOC";
    case TimeInForce::fok:
      return "FOK";
    case TimeInForce::post_only:
      return "PostOnly";
  }
  return "GTC";
}

// What a request signs: the query string of a GET (after '?', empty without one), the body otherwise.
std::string_view payload_of(std::string_view method, std::string_view endpoint, std::string_view body) noexcept {
  if (method != "GET") return body;
  const std::size_t q = endpoint.find('?');
  return q == std::string_view::npos ? std::string_view{} : endpoint.substr(q + 1);
}

constexpr std::string_view kSignHeader = "\r\nX-BAPI-SIGN: ";

}  // namespace

Encoder::Encoder(const InstrumentRegistry& registry, std::string api_key, const Secret& secret, Config cfg)
    : registry_(registry), api_key_(std::move(api_key)), hmac_(secret.reveal()), cfg_(std::move(cfg)) {
  if (api_key_.empty() || has_crlf(api_key_) || api_key_.find('"') != std::string::npos)
    throw Error("bybit linear encoder: api key is empty or has CR/LF or a quote");
  if (cfg_.host.empty() || has_crlf(cfg_.host)) throw Error("bybit linear encoder: host is empty or has CR/LF");
  if (secret.empty()) throw Error("bybit linear encoder: api secret is empty");
  if (cfg_.recv_window_ms == 0) throw Error("bybit linear encoder: recv_window_ms is 0");
  recv_window_ = std::to_string(cfg_.recv_window_ms);
  head_ = " HTTP/1.1\r\nHost: " + cfg_.host + "\r\nX-BAPI-API-KEY: " + api_key_ +
          "\r\nX-BAPI-RECV-WINDOW: " + recv_window_ + "\r\nX-BAPI-TIMESTAMP: ";
}

void Encoder::sign(std::string_view timestamp, std::string_view payload, char out[kSha256HexSize]) const noexcept {
  unsigned char mac[kSha256Size];
  hmac_.sign({timestamp, api_key_, recv_window_, payload}, mac);
  hex_encode(mac, sizeof mac, out);
}

std::vector<std::pair<std::string, std::string>> Encoder::signed_headers(std::string_view payload,
                                                                         std::int64_t timestamp_ms) const {
  const std::string ts = std::to_string(timestamp_ms);
  char sig[kSha256HexSize];
  sign(ts, payload, sig);
  return {{"X-BAPI-API-KEY", api_key_},
          {"X-BAPI-TIMESTAMP", ts},
          {"X-BAPI-RECV-WINDOW", recv_window_},
          {"X-BAPI-SIGN", std::string(sig, kSha256HexSize)}};
}

std::string Encoder::auth_message(std::int64_t expires_ms) const {
  const std::string expires = std::to_string(expires_ms);
  unsigned char mac[kSha256Size];
  hmac_.sign({"GET/realtime", expires}, mac);
  char sig[kSha256HexSize];
  hex_encode(mac, sizeof mac, sig);
  return R"({"op":"auth","args":[")" + api_key_ + "\"," + expires + ",\"" + std::string(sig, kSha256HexSize) + "\"]}";
}

std::string Encoder::subscribe_message(bool dcp) {
  // The categorised topics carry linear orders only (the all-in-one "order" also carries spot and options).
  std::string m = R"({"op":"subscribe","args":["order.linear","execution.linear","position.linear","wallet")";
  if (dcp) m += R"(,"dcp")";
  m += "]}";
  return m;
}

bool Encoder::resign(char* bytes, std::size_t size, std::int64_t timestamp_ms) const noexcept {
  constexpr std::size_t npos = std::string_view::npos;
  const std::string_view rq(bytes, size);
  // "METHOD endpoint" head_ "timestamp" "\r\nX-BAPI-SIGN: " sig ... "\r\n\r\n" body, as finish() writes it.
  const std::size_t method_end = rq.find(' ');
  const std::size_t line_end = rq.find(" HTTP/1.1\r\n");
  const std::size_t head_end = rq.find("\r\n\r\n");
  if (method_end == npos || line_end == npos || head_end == npos || method_end >= line_end || line_end > head_end)
    return false;
  // Our own head (host, key, recv window) right after the request line: a request of another key or window
  // would be signed with the wrong material.
  if (rq.compare(line_end, head_.size(), head_) != 0) return false;
  const std::size_t ts_begin = line_end + head_.size();
  const std::size_t ts_end = rq.find("\r\n", ts_begin);
  if (ts_end == npos || ts_end > head_end) return false;
  if (rq.compare(ts_end, kSignHeader.size(), kSignHeader) != 0) return false;
  const std::size_t sig = ts_end + kSignHeader.size();
  if (sig + kSha256HexSize > head_end) return false;
  if (!overwrite_decimal(bytes + ts_begin, ts_end - ts_begin, timestamp_ms)) return false;
  const std::string_view method = rq.substr(0, method_end);
  const std::string_view endpoint = rq.substr(method_end + 1, line_end - method_end - 1);
  sign(rq.substr(ts_begin, ts_end - ts_begin), payload_of(method, endpoint, rq.substr(head_end + 4)), bytes + sig);
  return true;
}

Result<std::size_t> Encoder::finish(std::string_view method, std::string_view endpoint, std::string_view body,
                                    std::int64_t timestamp_ms, char* out, std::size_t cap) noexcept {
  char ts_buf[24];
  BufWriter ts(ts_buf, sizeof ts_buf);
  ts.put_int(timestamp_ms);

  BufWriter w(out, cap);
  w.put(method);
  w.put(' ');
  w.put(endpoint);
  w.put(head_);
  w.put(ts.view());
  w.put(kSignHeader);
  if (w.overflow || static_cast<std::size_t>(w.end - w.cur) < kSha256HexSize)
    return Result<std::size_t>::failure(Errc::capacity);
  sign(ts.view(), payload_of(method, endpoint, body), w.cur);  // the signature lands where it is sent
  w.cur += kSha256HexSize;
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

Result<std::size_t> Encoder::encode_new(const OrderSpec& o, std::int64_t timestamp_ms, char* out,
                                        std::size_t cap) noexcept {
  const OrderRequest& r = o.req;
  // No native trailing stop on this path (Bybit's trailing stop is a position setting, /v5/position/trading-stop).
  if (r.instrument >= registry_.size() || r.qty.raw() <= 0 || r.type == OrderType::trailing_stop ||
      !is_valid_client_id(r.client_id.view(), kBybitMaxClientIdLen)) {
    return Result<std::size_t>::failure(Errc::out_of_range);
  }
  const InstrumentSpec& spec = registry_.get(r.instrument);
  // qtyStep: the venue refuses other sizes (10001); lot > 0 is the registry's invariant.
  if (spec.lot.raw() > 0 && r.qty.raw() % spec.lot.raw() != 0) return Result<std::size_t>::failure(Errc::out_of_range);
  const bool limit = r.type == OrderType::limit;
  const bool conditional = r.type == OrderType::stop_market || r.type == OrderType::take_profit_market;
  if ((limit && r.price.raw() <= 0) || (conditional && r.stop_price.raw() <= 0))
    return Result<std::size_t>::failure(Errc::out_of_range);
  BufWriter b(body_, sizeof body_);
  b.put("{\"category\":\"linear\",\"symbol\":\"");
  b.put(spec.symbol.view());
  b.put(r.side == Side::buy ? "\",\"side\":\"Buy\"" : "\",\"side\":\"Sell\"");
  b.put(limit ? ",\"orderType\":\"Limit\",\"qty\":\"" : ",\"orderType\":\"Market\",\"qty\":\"");
  b.put_fixed(r.qty);
  b.put('"');
  if (limit) {
    b.put(",\"price\":\"");
    b.put_fixed(r.price);
    b.put("\",\"timeInForce\":\"");
    b.put(tif_text(r.tif));
    b.put('"');
  }  // a market order (and a conditional one once triggered) goes without timeInForce: the venue fills it IOC
  if (conditional) {
    b.put(",\"triggerPrice\":\"");
    b.put_fixed(r.stop_price);
    b.put('"');
    b.put(trigger_direction(r.type, r.side));
    b.put(",\"triggerBy\":\"LastPrice\"");
  }
  b.put(",\"orderLinkId\":\"");
  b.put(r.client_id.view());
  b.put('"');
  if (r.reduce_only) b.put(",\"reduceOnly\":true");
  b.put('}');
  if (b.overflow) return Result<std::size_t>::failure(Errc::capacity);
  return post("/v5/order/create", b.view(), timestamp_ms, out, cap);
}

Result<std::size_t> Encoder::encode_cancel(InstrumentId instrument, const ClientOrderId& id, std::int64_t timestamp_ms,
                                           char* out, std::size_t cap) noexcept {
  if (instrument >= registry_.size() || !is_valid_client_id(id.view(), kBybitMaxClientIdLen)) {
    return Result<std::size_t>::failure(Errc::out_of_range);
  }
  BufWriter b(body_, sizeof body_);
  b.put("{\"category\":\"linear\",\"symbol\":\"");
  b.put(registry_.get(instrument).symbol.view());
  b.put("\",\"orderLinkId\":\"");
  b.put(id.view());
  b.put("\"}");
  if (b.overflow) return Result<std::size_t>::failure(Errc::capacity);
  return post("/v5/order/cancel", b.view(), timestamp_ms, out, cap);
}

Result<std::size_t> Encoder::encode_cancel_all(InstrumentId instrument, bool stop_orders, std::int64_t timestamp_ms,
                                               char* out, std::size_t cap) noexcept {
  if (instrument >= registry_.size()) return Result<std::size_t>::failure(Errc::out_of_range);
  BufWriter b(body_, sizeof body_);
  b.put("{\"category\":\"linear\",\"symbol\":\"");
  b.put(registry_.get(instrument).symbol.view());
  b.put(stop_orders ? "\",\"orderFilter\":\"StopOrder\"}" : "\"}");
  if (b.overflow) return Result<std::size_t>::failure(Errc::capacity);
  return post("/v5/order/cancel-all", b.view(), timestamp_ms, out, cap);
}

Result<std::size_t> Encoder::encode_query(const ClientOrderId& id, std::int64_t timestamp_ms, char* out,
                                          std::size_t cap, bool closed) noexcept {
  if (!is_valid_client_id(id.view(), kBybitMaxClientIdLen)) return Result<std::size_t>::failure(Errc::out_of_range);
  BufWriter e(endpoint_, sizeof endpoint_);
  e.put("/v5/order/realtime?category=linear&orderLinkId=");
  e.put(id.view());
  if (closed) e.put("&openOnly=1");
  if (e.overflow) return Result<std::size_t>::failure(Errc::capacity);
  return finish("GET", e.view(), {}, timestamp_ms, out, cap);
}

Result<std::size_t> Encoder::encode_dead_man(std::uint32_t seconds, std::int64_t timestamp_ms, char* out,
                                             std::size_t cap) noexcept {
  if (seconds < 3 || seconds > 300) return Result<std::size_t>::failure(Errc::out_of_range);  // the venue's range
  BufWriter b(body_, sizeof body_);
  b.put("{\"product\":\"DERIVATIVES\",\"timeWindow\":");
  b.put_uint(seconds);
  b.put('}');
  if (b.overflow) return Result<std::size_t>::failure(Errc::capacity);
  return post("/v5/order/disconnected-cancel-all", b.view(), timestamp_ms, out, cap);
}




Result<std::size_t> OrderEntry::encode_cancel(InstrumentId instrument, const ClientOrderId& id, risk::OrderType,
                                              std::int64_t timestamp_ms, char* out, std::size_t cap) noexcept {
  return enc_.encode_cancel(instrument, id, timestamp_ms, out, cap);
}

Result<std::size_t> OrderEntry::encode_query(InstrumentId, const ClientOrderId& id, risk::OrderType,
                                             std::int64_t timestamp_ms, char* out, std::size_t cap) noexcept {
  return enc_.encode_query(id, timestamp_ms, out, cap);
}

std::string OrderEntry::dead_man_refusal(std::int64_t countdown_ns) const {
  if (countdown_ns == 0) return {};
  return "Bybit has no dead-man countdown to refresh: its DCP window ([live] deadman_countdown_ms) is set once "
         "at start-up, so the core's countdown must be 0";
}

bool OrderEntry::credentials_refused(std::int32_t code) const noexcept { return bybit_linear::credentials_refused(code); }


}  // namespace enigma::oms::bybit_linear
