#include "oms/venues/kucoin_futures.hpp"

namespace enigma::oms::kucoin_futures {
namespace {

bool has_crlf(std::string_view s) noexcept { return s.find_first_of("\r\n") != std::string_view::npos; }

// Stop direction: "down" triggers when the price falls to stopPrice, "up" when it rises. A sell stop-loss
// (closing a long) and a buy take-profit (closing a short) trigger on the way down.
std::string_view stop_direction(OrderType t, Side s) noexcept {
  const bool down = (t == OrderType::stop_market) == (s == Side::sell);
  return down ? "down" : "up";
}

}  // namespace

Encoder::Encoder(const InstrumentRegistry& registry, std::string api_key, const Secret& secret,
                 const Secret& passphrase, Config cfg)
    : registry_(registry), api_key_(std::move(api_key)), hmac_(secret.reveal()), cfg_(std::move(cfg)) {
  if (api_key_.empty() || has_crlf(api_key_)) throw Error("kucoin futures encoder: api key is empty or has CR/LF");
  if (cfg_.host.empty() || has_crlf(cfg_.host)) throw Error("kucoin futures encoder: host is empty or has CR/LF");
  if (secret.empty() || passphrase.empty()) throw Error("kucoin futures encoder: api secret or passphrase is empty");
  unsigned char mac[kSha256Size];
  hmac_.sign(passphrase.reveal(), mac);
  base64_encode(mac, sizeof mac, passphrase_sig_);
  head_ = " HTTP/1.1\r\nHost: " + cfg_.host + "\r\nKC-API-KEY: " + api_key_ + "\r\nKC-API-SIGN: ";
  tail_ = "\r\nKC-API-PASSPHRASE: " + std::string(signed_passphrase()) + "\r\nKC-API-KEY-VERSION: 2\r\n";
}

void Encoder::sign(std::string_view timestamp, std::string_view method, std::string_view endpoint,
                   std::string_view body, char out[kSha256Base64Size]) const noexcept {
  unsigned char mac[kSha256Size];
  hmac_.sign({timestamp, method, endpoint, body}, mac);
  base64_encode(mac, sizeof mac, out);
}

std::vector<std::pair<std::string, std::string>> Encoder::signed_headers(std::string_view method,
                                                                        std::string_view endpoint,
                                                                        std::string_view body,
                                                                        std::int64_t timestamp_ms) const {
  const std::string ts = std::to_string(timestamp_ms);
  char sig[kSha256Base64Size];
  sign(ts, method, endpoint, body, sig);
  return {{"KC-API-KEY", api_key_},
          {"KC-API-SIGN", std::string(sig, kSha256Base64Size)},
          {"KC-API-TIMESTAMP", ts},
          {"KC-API-PASSPHRASE", std::string(signed_passphrase())},
          {"KC-API-KEY-VERSION", "2"}};
}

bool Encoder::resign(char* bytes, std::size_t size, std::int64_t timestamp_ms) const noexcept {
  constexpr std::size_t npos = std::string_view::npos;
  const std::string_view rq(bytes, size);
  // "METHOD endpoint HTTP/1.1\r\n" headers "\r\n\r\n" body, as finish() writes it.
  const std::size_t method_end = rq.find(' ');
  const std::size_t line_end = rq.find(" HTTP/1.1\r\n");
  const std::size_t head_end = rq.find("\r\n\r\n");
  if (method_end == npos || line_end == npos || head_end == npos || method_end >= line_end || line_end > head_end)
    return false;
  constexpr std::string_view kSign = "\r\nKC-API-SIGN: ", kTimestamp = "\r\nKC-API-TIMESTAMP: ";
  const std::size_t sig = rq.find(kSign);
  const std::size_t ts = rq.find(kTimestamp);
  if (sig == npos || ts == npos || sig + kSign.size() + kSha256Base64Size > head_end || ts > head_end) return false;
  const std::size_t ts_begin = ts + kTimestamp.size();
  const std::size_t ts_end = rq.find("\r\n", ts_begin);
  if (!overwrite_decimal(bytes + ts_begin, ts_end - ts_begin, timestamp_ms)) return false;
  sign(rq.substr(ts_begin, ts_end - ts_begin), rq.substr(0, method_end), rq.substr(method_end + 1, line_end - method_end - 1),
       rq.substr(head_end + 4), bytes + sig + kSign.size());
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
  if (static_cast<std::size_t>(w.end - w.cur) < kSha256Base64Size) return Result<std::size_t>::failure(Errc::capacity);
  sign(ts.view(), method, endpoint, body, w.cur);  // the signature lands where it is sent
  w.cur += kSha256Base64Size;
  w.put("\r\nKC-API-TIMESTAMP: ");
  w.put(ts.view());
  w.put(tail_);
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
  // KuCoin Futures sizes are integer contract counts; it has no FOK and no native trailing stop.
  const bool whole_lots = r.qty.raw() > 0 && r.qty.raw() % Qty::kScale == 0;
  if (r.instrument >= registry_.size() || !whole_lots || r.tif == TimeInForce::fok ||
      r.type == OrderType::trailing_stop || !is_valid_client_id(r.client_id.view(), kKucoinMaxClientIdLen)) {
    return Result<std::size_t>::failure(Errc::out_of_range);
  }
  // An iceberg: a GTC limit (the venue refuses it with postOnly) in whole contracts, visible size below the
  // order size and at least 1/20 of it (native_iceberg_fits).
  const bool iceberg = o.display_qty.raw() > 0;
  if (iceberg && (o.display_qty.raw() % Qty::kScale != 0 || !native_iceberg_fits(o, o.display_qty)))
    return Result<std::size_t>::failure(Errc::out_of_range);
  BufWriter b(body_, sizeof body_);
  b.put("{\"clientOid\":\"");
  b.put(r.client_id.view());
  b.put(r.side == Side::buy ? "\",\"side\":\"buy\",\"symbol\":\"" : "\",\"side\":\"sell\",\"symbol\":\"");
  b.put(registry_.get(r.instrument).symbol.view());
  b.put(r.type == OrderType::limit ? "\",\"type\":\"limit\"" : "\",\"type\":\"market\"");
  b.put(",\"leverage\":");
  b.put_uint(r.leverage);
  if (r.type == OrderType::limit) {
    b.put(",\"price\":\"");
    b.put_fixed(r.price);
    b.put('"');
  }
  b.put(",\"size\":");
  b.put_int(r.qty.raw() / Qty::kScale);
  if (r.type == OrderType::limit) {
    b.put(r.tif == TimeInForce::ioc ? ",\"timeInForce\":\"IOC\"" : ",\"timeInForce\":\"GTC\"");
    if (r.tif == TimeInForce::post_only) b.put(",\"postOnly\":true");
    if (iceberg) {
      b.put(",\"iceberg\":true,\"visibleSize\":");
      b.put_int(o.display_qty.raw() / Qty::kScale);
    }
  }
  if (r.type == OrderType::stop_market || r.type == OrderType::take_profit_market) {
    b.put(",\"stop\":\"");
    b.put(stop_direction(r.type, r.side));
    b.put("\",\"stopPriceType\":\"TP\",\"stopPrice\":\"");
    b.put_fixed(r.stop_price);
    b.put('"');
  }
  if (r.reduce_only) b.put(",\"reduceOnly\":true");
  b.put('}');
  if (b.overflow) return Result<std::size_t>::failure(Errc::capacity);
  return finish("POST", "/api/v1/orders", b.view(), timestamp_ms, out, cap);
}

Result<std::size_t> Encoder::encode_cancel(InstrumentId instrument, const ClientOrderId& id, std::int64_t timestamp_ms,
                                           char* out, std::size_t cap) noexcept {
  if (instrument >= registry_.size() || !is_valid_client_id(id.view(), kKucoinMaxClientIdLen)) {
    return Result<std::size_t>::failure(Errc::out_of_range);
  }
  BufWriter e(endpoint_, sizeof endpoint_);
  e.put("/api/v1/orders/client-order/");
  e.put(id.view());
  e.put("?symbol=");
  e.put(registry_.get(instrument).symbol.view());
  if (e.overflow) return Result<std::size_t>::failure(Errc::capacity);
  return finish("DELETE", e.view(), {}, timestamp_ms, out, cap);
}

Result<std::size_t> Encoder::encode_cancel_all(InstrumentId instrument, bool stop_orders, std::int64_t timestamp_ms,
                                               char* out, std::size_t cap) noexcept {
  if (instrument >= registry_.size()) return Result<std::size_t>::failure(Errc::out_of_range);
  BufWriter e(endpoint_, sizeof endpoint_);
  e.put(stop_orders ? "/api/v1/stopOrders?symbol=" : "/api/v1/orders?symbol=");
  e.put(registry_.get(instrument).symbol.view());
  if (e.overflow) return Result<std::size_t>::failure(Errc::capacity);
  return finish("DELETE", e.view(), {}, timestamp_ms, out, cap);
}

Result<std::size_t> Encoder::encode_query(const ClientOrderId& id, std::int64_t timestamp_ms, char* out,
                                          std::size_t cap) noexcept {
  if (!is_valid_client_id(id.view(), kKucoinMaxClientIdLen)) return Result<std::size_t>::failure(Errc::out_of_range);
  BufWriter e(endpoint_, sizeof endpoint_);
  e.put("/api/v1/orders/byClientOid?clientOid=");
  e.put(id.view());
  if (e.overflow) return Result<std::size_t>::failure(Errc::capacity);
  return finish("GET", e.view(), {}, timestamp_ms, out, cap);
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
  return "KuCoin Futures has no dead-man switch (no cancel-all-after endpoint): set [live] deadman_countdown_ms = 0";
}

// 400003 key not found, 400004 passphrase, 400005 signature, 400006 IP not whitelisted, 400007 no permission.
bool OrderEntry::credentials_refused(std::int32_t code) const noexcept { return code >= 400003 && code <= 400007; }


}  // namespace enigma::oms::kucoin_futures
