#include "oms/venues/binance_futures.hpp"
#include "oms/venues/binance_futures_names.hpp"

namespace enigma::oms::binance_futures {
namespace {

bool has_crlf(std::string_view s) noexcept { return s.find_first_of("\r\n") != std::string_view::npos; }

}  // namespace

// Binance's names for our order types and times in force (REST and the WebSocket API).
std::string_view type_name(OrderType t) noexcept {
  switch (t) {
    case OrderType::limit: return "LIMIT";
    case OrderType::market: return "MARKET";
    case OrderType::stop_market: return "STOP_MARKET";
    case OrderType::take_profit_market: return "TAKE_PROFIT_MARKET";
    case OrderType::trailing_stop: return "TRAILING_STOP_MARKET";
  }
  return "LIMIT";
}

// Spot's names (post-only, LIMIT_MAKER, is decided by the caller; trailing stops are refused before this).
std::string_view spot_type_name(OrderType t) noexcept {
  switch (t) {
    case OrderType::limit: return "LIMIT";
    case OrderType::market: return "MARKET";
    case OrderType::stop_market: return "STOP_LOSS";
    case OrderType::take_profit_market: return "TAKE_PROFIT";
    case OrderType::trailing_stop: break;
  }
  return "LIMIT";
}

// Binance has no separate post-only flag on futures: timeInForce GTX ("good till crossing") is post-only.
std::string_view tif_name(TimeInForce t) noexcept {
  switch (t) {
    case TimeInForce::gtc: return "GTC";
    case TimeInForce::ioc: return "IOC";
    case TimeInForce::fok: return "FOK";
    case TimeInForce::post_only: return "GTX";
  }
  return "GTC";
}

Encoder::Encoder(const InstrumentRegistry& registry, std::string api_key, const Secret& secret, Config cfg)
    : registry_(registry), api_key_(std::move(api_key)), hmac_(secret.reveal()), cfg_(std::move(cfg)) {
  if (api_key_.empty() || has_crlf(api_key_)) throw Error("binance encoder: api key is empty or has CR/LF");
  if (has_crlf(cfg_.host)) throw Error("binance encoder: host has CR/LF");
  if (secret.empty()) throw Error("binance encoder: api secret is empty");
  recv_window_param_ = "&recvWindow=" + std::to_string(cfg_.recv_window_ms) + "&timestamp=";
  static constexpr std::string_view kHosts[kProducts] = {"fapi.binance.com", "dapi.binance.com", "api.binance.com"};
  for (int p = 0; p < kProducts; ++p) {
    hosts_[p] = cfg_.host.empty() ? std::string(kHosts[p]) : cfg_.host;
    request_tails_[p] = " HTTP/1.1\r\nHost: " + hosts_[p] + "\r\nX-MBX-APIKEY: " + api_key_ + "\r\n\r\n";
  }
}

Result<std::size_t> Encoder::by_client_id(Method m, std::string_view path, InstrumentId instrument,
                                          const ClientOrderId& id, std::int64_t timestamp_ms, char* out,
                                          std::size_t cap) noexcept {
  BufWriter w(out, cap);
  w.put(m == Method::del ? "DELETE " : "GET ");
  w.put(path);
  w.put('?');
  char* const params = w.cur;
  w.put("symbol=");
  w.put(registry_.get(instrument).symbol.view());
  w.put("&origClientOrderId=");
  w.put(id.view());
  w.put(recv_window_param_);
  w.put_int(timestamp_ms);
  if (w.overflow) return Result<std::size_t>::failure(Errc::capacity);
  const std::string_view signed_part(params, static_cast<std::size_t>(w.cur - params));
  w.put("&signature=");
  if (static_cast<std::size_t>(w.end - w.cur) < kSha256HexSize) return Result<std::size_t>::failure(Errc::capacity);
  sign(signed_part, w.cur);  // the hex lands where it is sent
  w.cur += kSha256HexSize;
  w.put(request_tails_[product(instrument)]);
  if (w.overflow) return Result<std::size_t>::failure(Errc::capacity);
  return Result<std::size_t>::success(w.size());
}

bool Encoder::resign(char* bytes, std::size_t size, std::int64_t timestamp_ms) const noexcept {
  constexpr std::size_t npos = std::string_view::npos;
  const std::string_view rq(bytes, size);
  // The signed parameters: the body of a POST, the query of anything else (finish() and by_client_id()).
  std::size_t begin = 0, end = size;
  if (rq.starts_with("POST ")) {
    begin = rq.find("\r\n\r\n");
    if (begin == npos) return false;
    begin += 4;
  } else {
    begin = rq.find('?');
    end = rq.find(" HTTP/1.1\r\n");
    if (begin == npos || end == npos || begin > end) return false;
    ++begin;
  }
  const std::string_view params = rq.substr(begin, end - begin);
  constexpr std::string_view kSig = "&signature=";
  const std::size_t sig = params.rfind(kSig);
  if (sig == npos || params.size() - sig - kSig.size() != kSha256HexSize) return false;
  // "timestamp=" opens the parameters (encode_signed with none) or follows recvWindow.
  std::size_t ts = params.starts_with("timestamp=") ? 0 : params.find("&timestamp=");
  if (ts == npos) return false;
  ts += params[ts] == '&' ? 11 : 10;
  const std::size_t ts_end = params.find('&', ts);
  if (ts_end != sig || !overwrite_decimal(bytes + begin + ts, ts_end - ts, timestamp_ms)) return false;
  sign(params.substr(0, sig), bytes + begin + sig + kSig.size());
  return true;
}

void Encoder::sign(std::string_view params, char out[kSha256HexSize]) const noexcept {
  unsigned char mac[kSha256Size];
  hmac_.sign(params, mac);
  hex_encode(mac, sizeof mac, out);
}

Result<std::size_t> Encoder::finish(Method m, std::string_view path, BufWriter& params, char* out,
                                    std::size_t cap, Product prod) noexcept {
  // The signature covers exactly the parameter bytes that go on the wire, then is appended to them.
  char sig[kSha256HexSize];
  sign(params.view(), sig);
  params.put("&signature=");
  params.put(std::string_view(sig, sizeof sig));
  if (params.overflow) return Result<std::size_t>::failure(Errc::capacity);

  BufWriter w(out, cap);
  w.put(m == Method::post ? "POST " : m == Method::del ? "DELETE " : "GET ");
  w.put(path);
  if (m != Method::post) {
    w.put('?');
    w.put(params.view());
  }
  w.put(" HTTP/1.1\r\nHost: ");
  w.put(hosts_[prod]);
  w.put("\r\nX-MBX-APIKEY: ");
  w.put(api_key_);
  if (m == Method::post) {
    w.put("\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ");
    w.put_uint(params.size());
    w.put("\r\n\r\n");
    w.put(params.view());
  } else {
    w.put("\r\n\r\n");
  }
  if (w.overflow) return Result<std::size_t>::failure(Errc::capacity);
  return Result<std::size_t>::success(w.size());
}

Result<std::size_t> Encoder::encode_new(const OrderSpec& o, std::int64_t timestamp_ms, char* out,
                                        std::size_t cap) noexcept {
  const OrderRequest& r = o.req;
  if (r.instrument >= registry_.size()) return Result<std::size_t>::failure(Errc::out_of_range);
  const Product prod = product(r.instrument);
  // Futures have no iceberg: an order that should show only part of itself is never sent whole. Spot's
  // icebergQty needs a GTC limit; its trailing stop (trailingDelta in basis points) is not modelled.
  if (o.display_qty.raw() > 0 && (prod != spot || r.type != OrderType::limit || r.tif != TimeInForce::gtc))
    return Result<std::size_t>::failure(Errc::out_of_range);
  if (prod == spot && r.type == OrderType::trailing_stop) return Result<std::size_t>::failure(Errc::out_of_range);
  if (ws_api_ && prod == usdm) return ws_api_->encode_new(o, timestamp_ms, out, cap);
  if (r.qty.raw() <= 0 || !is_valid_client_id(r.client_id.view(), kBinanceMaxClientIdLen)) {
    return Result<std::size_t>::failure(Errc::out_of_range);
  }
  BufWriter p(params_, sizeof params_);
  p.put("symbol=");
  p.put(registry_.get(r.instrument).symbol.view());
  p.put(r.side == Side::buy ? "&side=BUY&type=" : "&side=SELL&type=");
  if (prod == spot) {
    // Spot's names: post-only is its own type (no timeInForce), stops trigger a market order.
    const bool maker = r.type == OrderType::limit && r.tif == TimeInForce::post_only;
    p.put(maker ? std::string_view("LIMIT_MAKER") : spot_type_name(r.type));
    if (r.type == OrderType::limit && !maker) {
      p.put("&timeInForce=");
      p.put(tif_name(r.tif));
    }
  } else {
    p.put(type_name(r.type));
    if (r.type == OrderType::limit) {
      p.put("&timeInForce=");
      p.put(tif_name(r.tif));
    }
  }
  p.put("&quantity=");
  p.put_fixed(r.qty);
  if (r.type == OrderType::limit) {
    p.put("&price=");
    p.put_fixed(r.price);
  }
  if (o.display_qty.raw() > 0) {  // spot only (checked above)
    p.put("&icebergQty=");
    p.put_fixed(o.display_qty);
  }
  if (r.type == OrderType::stop_market || r.type == OrderType::take_profit_market) {
    p.put("&stopPrice=");
    p.put_fixed(r.stop_price);
  }
  if (r.type == OrderType::trailing_stop) {
    // Binance takes the callback in percent (1 = 1 %); ours is a fraction.
    p.put("&callbackRate=");
    p.put_fixed(o.callback_rate * 100);
    if (r.stop_price.raw() > 0) {
      p.put("&activationPrice=");
      p.put_fixed(r.stop_price);
    }
  }
  // Spot has no reduce-only flag: a spot sell can only sell what the account holds.
  if (r.reduce_only && prod != spot) p.put("&reduceOnly=true");
  p.put("&newClientOrderId=");
  p.put(r.client_id.view());
  p.put(recv_window_param_);
  p.put_int(timestamp_ms);
  return finish(Method::post, kEndpoints[prod].order, p, out, cap, prod);
}

Result<std::size_t> Encoder::encode_cancel(InstrumentId instrument, const ClientOrderId& id, std::int64_t timestamp_ms,
                                           char* out, std::size_t cap) noexcept {
  if (instrument >= registry_.size() || !is_valid_client_id(id.view(), kBinanceMaxClientIdLen)) {
    return Result<std::size_t>::failure(Errc::out_of_range);
  }
  if (ws_api_ && product(instrument) == usdm) return ws_api_->encode_cancel(instrument, id, timestamp_ms, out, cap);
  return by_client_id(Method::del, kEndpoints[product(instrument)].order, instrument, id, timestamp_ms, out, cap);
}

Result<std::size_t> Encoder::encode_cancel_batch(InstrumentId instrument, std::span<const ClientOrderId> ids,
                                                 std::int64_t timestamp_ms, char* out, std::size_t cap) noexcept {
  if (instrument >= registry_.size() || ids.empty() || ids.size() > kMaxBatchCancel ||
      kEndpoints[product(instrument)].batch.empty()) {
    return Result<std::size_t>::failure(Errc::out_of_range);
  }
  BufWriter p(params_, sizeof params_);
  p.put("symbol=");
  p.put(registry_.get(instrument).symbol.view());
  // The JSON list travels URL-encoded ([ " , ] -> %5B %22 %2C %5D); ids are [A-Za-z0-9_-], safe as is.
  p.put("&origClientOrderIdList=%5B");
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (!is_valid_client_id(ids[i].view(), kBinanceMaxClientIdLen)) return Result<std::size_t>::failure(Errc::out_of_range);
    p.put(i == 0 ? "%22" : "%2C%22");
    p.put(ids[i].view());
    p.put("%22");
  }
  p.put("%5D");
  p.put(recv_window_param_);
  p.put_int(timestamp_ms);
  return finish(Method::del, kEndpoints[product(instrument)].batch, p, out, cap, product(instrument));
}

Result<std::size_t> Encoder::encode_query(InstrumentId instrument, const ClientOrderId& id, std::int64_t timestamp_ms,
                                          char* out, std::size_t cap) noexcept {
  if (instrument >= registry_.size() || !is_valid_client_id(id.view(), kBinanceMaxClientIdLen)) {
    return Result<std::size_t>::failure(Errc::out_of_range);
  }
  if (ws_api_ && product(instrument) == usdm) return ws_api_->encode_query(instrument, id, timestamp_ms, out, cap);
  return by_client_id(Method::get, kEndpoints[product(instrument)].order, instrument, id, timestamp_ms, out, cap);
}

Result<std::size_t> Encoder::encode_signed(bool del, std::string_view path, std::string_view params,
                                           std::int64_t timestamp_ms, char* out, std::size_t cap) noexcept {
  BufWriter p(params_, sizeof params_);
  p.put(params);
  // "&recvWindow=..&timestamp=", without its '&' when it opens the query
  p.put(params.empty() ? std::string_view(recv_window_param_).substr(1) : std::string_view(recv_window_param_));
  p.put_int(timestamp_ms);
  // The host follows the path: /dapi is COIN-M's, /api and /sapi are api.binance.com's.
  const Product prod = path.starts_with("/dapi/") ? coinm : path.starts_with("/api/") || path.starts_with("/sapi/") ? spot : usdm;
  return finish(del ? Method::del : Method::get, path, p, out, cap, prod);
}

Result<std::size_t> Encoder::encode_cancel_all(InstrumentId instrument, std::int64_t timestamp_ms, char* out,
                                               std::size_t cap) noexcept {
  if (instrument >= registry_.size()) return Result<std::size_t>::failure(Errc::out_of_range);
  BufWriter p(params_, sizeof params_);
  p.put("symbol=");
  p.put(registry_.get(instrument).symbol.view());
  p.put(recv_window_param_);
  p.put_int(timestamp_ms);
  return finish(Method::del, kEndpoints[product(instrument)].cancel_all, p, out, cap, product(instrument));
}

Result<std::size_t> Encoder::encode_countdown_cancel_all(InstrumentId instrument, std::int64_t countdown_ms,
                                                         std::int64_t timestamp_ms, char* out,
                                                         std::size_t cap) noexcept {
  if (instrument >= registry_.size() || countdown_ms < 0 || kEndpoints[product(instrument)].countdown.empty())
    return Result<std::size_t>::failure(Errc::out_of_range);
  BufWriter p(params_, sizeof params_);
  p.put("symbol=");
  p.put(registry_.get(instrument).symbol.view());
  p.put("&countdownTime=");
  p.put_int(countdown_ms);
  p.put(recv_window_param_);
  p.put_int(timestamp_ms);
  return finish(Method::post, kEndpoints[product(instrument)].countdown, p, out, cap, product(instrument));
}


namespace {
std::unique_ptr<WsApiEncoder> ws_api_encoder(const InstrumentRegistry& registry, const std::string& api_key,
                                             const Secret& secret, const WsApiEntry& ws) {
  if (ws.auth == WsApiAuth::session) return std::make_unique<WsApiEncoder>(registry, ws.api_key, Secret(), WsApiAuth::session);
  return std::make_unique<WsApiEncoder>(registry, api_key, secret, WsApiAuth::hmac);
}
}  // namespace

OrderEntry::OrderEntry(const InstrumentRegistry& registry, const std::string& api_key, const Secret& secret,
                       const Config& cfg, const std::optional<WsApiEntry>& ws_api)
    : EncoderOrderEntry(registry, api_key, secret, cfg) {
  if (ws_api) {
    enc_.use_ws_api(ws_api_encoder(registry, api_key, secret, *ws_api));
    ws_twin_ = ws_api_encoder(registry, api_key, secret, *ws_api);
  }
}

bool OrderEntry::serves(Venue venue) const noexcept {
  return venue == Venue::binance_usdm || venue == Venue::binance_coinm || venue == Venue::binance_spot;
}


Result<std::size_t> OrderEntry::encode_cancel(InstrumentId instrument, const ClientOrderId& id, risk::OrderType,
                                              std::int64_t timestamp_ms, char* out, std::size_t cap) noexcept {
  return enc_.encode_cancel(instrument, id, timestamp_ms, out, cap);
}

Result<std::size_t> OrderEntry::encode_query(InstrumentId instrument, const ClientOrderId& id, risk::OrderType,
                                             std::int64_t timestamp_ms, char* out, std::size_t cap) noexcept {
  return enc_.encode_query(instrument, id, timestamp_ms, out, cap);
}

Result<std::size_t> OrderEntry::encode_cancel_batch(InstrumentId instrument, std::span<const ClientOrderId> ids,
                                                    std::int64_t timestamp_ms, char* out, std::size_t cap) noexcept {
  return enc_.encode_cancel_batch(instrument, ids, timestamp_ms, out, cap);
}

std::string OrderEntry::dead_man_refusal(std::int64_t) const { return {}; }

Result<std::size_t> OrderEntry::encode_dead_man(InstrumentId instrument, std::int64_t countdown_ms,
                                                std::int64_t timestamp_ms, char* out, std::size_t cap) noexcept {
  return enc_.encode_countdown_cancel_all(instrument, countdown_ms, timestamp_ms, out, cap);
}

// -2014 / -2015: the API key is invalid, or lacks the permission or the IP; -1022: the signature is not valid.
bool OrderEntry::credentials_refused(std::int32_t code) const noexcept { return code == -2014 || code == -2015 || code == -1022; }

Resigner OrderEntry::resigner() const {
  // A WebSocket API request is JSON ('{' first); a REST request is HTTP.
  return [rest = twin_, ws = ws_twin_](char* b, std::size_t n, std::int64_t ms) {
    if (n > 0 && b[0] == '{') return ws != nullptr && ws->resign(b, n, ms);
    return rest->resign(b, n, ms);
  };
}

}  // namespace enigma::oms::binance_futures
