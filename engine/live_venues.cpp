#include "engine/live_venues.hpp"

#include <chrono>
#include <cstdlib>
#include <optional>
#include <utility>

#include "core/config.hpp"
#include "core/error.hpp"
#include "core/logger.hpp"
#include "engine/key_permissions.hpp"
#include "feed/https_client.hpp"
#include "oms/signing.hpp"
#include "oms/venues/binance_futures.hpp"
#include "oms/venues/binance_futures_ws_api.hpp"
#include "oms/venues/bybit_linear.hpp"
#include "oms/venues/bybit_linear_user.hpp"
#include "oms/venues/okx_swap_user.hpp"
#include "oms/venues/kucoin_futures_user.hpp"
#include "oms/venues/binance_futures_user.hpp"
#include "oms/venues/kucoin_futures.hpp"
#include "oms/venues/okx_swap.hpp"

namespace enigma::engine {

std::string LiveVenue::orders_to() const { return live_.rest_url; }

std::string LiveVenue::rest_host() const {
  const feed::ParsedUrl u = feed::parse_url(live_.rest_url);
  return u.port == "443" ? u.host : u.host + ":" + u.port;
}

namespace {

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}
std::uint32_t limit(std::int64_t v) { return static_cast<std::uint32_t>(v); }

// Binance USD-M: HMAC-signed REST (or WebSocket-API) order entry, the listenKey user-data stream; with ws_api
// and an Ed25519 key, one session.logon per WebSocket-API connection (README "Order entry").
class BinanceUsdmLive final : public LiveVenue {
 public:
  BinanceUsdmLive(const LiveSettings& live, config::Secret key, const config::Secret& secret)
      : LiveVenue(live, std::string(key.reveal()), key.origin()), secret_(secret.reveal()) {
    // WebSocket-API order entry with an Ed25519 key: session.logon once per connection.
    const char* ed_env = std::getenv(live.ed25519_key_env.c_str());
    if (live.ws_api && ((ed_env != nullptr && *ed_env != '\0') || !live.ed25519_key_file.empty())) {
      const config::Secret pem = config::load_secret(live.ed25519_key_env, live.ed25519_key_file);
      ed_key_ = std::make_shared<const oms::Ed25519Signer>(oms::Secret(pem.reveal()));
      const config::Secret ed_key_id = config::load_secret(live.ed25519_api_key_env, live.ed25519_api_key_file);
      ed_api_key_ = std::string(ed_key_id.reveal());
      key_origin_ = ed_key_id.origin() + " (Ed25519 session.logon)";
    }
    config_.host = rest_host();
  }
  [[nodiscard]] std::string_view name() const noexcept override { return "Binance USD-M"; }
  [[nodiscard]] std::string orders_to() const override { return live_.ws_api ? live_.ws_api_url : live_.rest_url; }
  [[nodiscard]] std::string_view order_entry_kind() const noexcept override { return live_.ws_api ? "ws-api" : "rest"; }
  [[nodiscard]] std::string auth() const override { return ed_key_ ? "ed25519-session" : "hmac"; }

  void configure(LiveGatewayOptions& go, const InstrumentRegistry& registry) override {
    go.venue = Venue::binance_usdm;
    go.budget = oms::binance_usdm_budget();
    go.budget.weight.limit = limit(live_.request_weight_per_minute);
    go.budget.orders_short.limit = limit(live_.orders_per_10s);
    go.budget.orders_long.limit = limit(live_.orders_per_minute);
    if (live_.ws_api) {
      go.ws_api_url = live_.ws_api_url;
      if (ed_key_) {
        go.ws_api_logon = [key = ed_key_, id = ed_api_key_] { return oms::binance_futures::logon_request(id, *key, wall_ms()); };
      }
    }
    signer_ = std::make_unique<oms::binance_futures::Encoder>(registry, api_key_, secret_, config_);
  }
  void check_key(const LiveGatewayOptions& go) override {
    (void)check_key_permissions(live_.account_api_url,
                                oms::binance_futures::key_permissions_request(*signer_, api_key_, config_.recv_window_ms, wall_ms()),
                                go.tls, go.request_timeout_ns);
  }
  std::unique_ptr<oms::VenueOrderEntry> order_entry(const InstrumentRegistry& registry) override {
    std::optional<oms::binance_futures::WsApiEntry> ws_api;
    if (live_.ws_api) {
      ws_api = oms::binance_futures::WsApiEntry{ed_key_ ? oms::binance_futures::WsApiAuth::session : oms::binance_futures::WsApiAuth::hmac,
                                                ed_key_ ? ed_api_key_ : api_key_};
    }
    return std::make_unique<oms::binance_futures::OrderEntry>(registry, api_key_, secret_, config_, ws_api);
  }
  std::unique_ptr<VenueQueries> queries(LiveGateway& gateway, const InstrumentRegistry& registry) override {
    return oms::binance_futures::account_queries(gateway, *signer_, registry);
  }

 private:
  oms::Secret secret_;
  oms::binance_futures::Config config_;
  std::shared_ptr<const oms::Ed25519Signer> ed_key_;
  std::string ed_api_key_;
  std::unique_ptr<oms::binance_futures::Encoder> signer_;  // key check and start-up queries
};

// KuCoin Futures: REST order entry signed with key, secret and passphrase (API key version 2); the private
// stream through the bullet-private token flow (/contractMarket/tradeOrders).
class KucoinFuturesLive final : public LiveVenue {
 public:
  KucoinFuturesLive(const LiveSettings& live, config::Secret key, const config::Secret& secret, const config::Secret& passphrase)
      : LiveVenue(live, std::string(key.reveal()), key.origin()),
        secret_(secret.reveal()),
        passphrase_(passphrase.reveal()) {
    config_.host = rest_host();
  }
  [[nodiscard]] std::string_view name() const noexcept override { return "KuCoin Futures"; }
  [[nodiscard]] std::string auth() const override { return "kucoin-v2"; }

  void configure(LiveGatewayOptions& go, const InstrumentRegistry& registry) override {
    // The gateway's own signer: start-up queries here, then its bullet-private requests on its thread.
    signer_ = std::make_shared<oms::kucoin_futures::Encoder>(registry, api_key_, secret_, passphrase_, config_);
    go.venue = Venue::kucoin_futures;
    std::string base = live_.rest_url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    go.kucoin_bullet_url = base + "/api/v1/bullet-private";
    go.kucoin_bullet_headers = [signer = signer_] { return signer->signed_headers("POST", "/api/v1/bullet-private", "", wall_ms()); };
    go.budget = oms::kucoin_futures_private_budget();
    go.budget.weight.limit = limit(live_.request_weight_per_30s);
    go.budget.orders_short.limit = limit(live_.requests_per_3s);
  }
  void check_key(const LiveGatewayOptions& go) override {
    (void)check_key_permissions(live_.account_api_url, oms::kucoin_futures::key_permissions_request(*signer_, wall_ms()), go.tls,
                                go.request_timeout_ns);
  }
  std::unique_ptr<oms::VenueOrderEntry> order_entry(const InstrumentRegistry& registry) override {
    return std::make_unique<oms::kucoin_futures::OrderEntry>(registry, api_key_, secret_, passphrase_, config_);
  }
  std::unique_ptr<VenueQueries> queries(LiveGateway& gateway, const InstrumentRegistry& registry) override {
    return oms::kucoin_futures::account_queries(gateway, *signer_, registry);
  }

 private:
  oms::Secret secret_, passphrase_;
  oms::kucoin_futures::Config config_;
  std::shared_ptr<oms::kucoin_futures::Encoder> signer_;
};

// Bybit V5 linear perpetuals: REST order entry signed with key and secret (X-BAPI-SIGN); the private stream
// after its auth op; the dead-man switch is DCP, a window set once at start-up.
class BybitLinearLive final : public LiveVenue {
 public:
  BybitLinearLive(const LiveSettings& live, config::Secret key, const config::Secret& secret)
      : LiveVenue(live, std::string(key.reveal()), key.origin()), secret_(secret.reveal()) {
    config_.host = rest_host();
  }
  [[nodiscard]] std::string_view name() const noexcept override { return "Bybit linear"; }
  [[nodiscard]] std::string auth() const override { return "bybit-hmac"; }

  void configure(LiveGatewayOptions& go, const InstrumentRegistry& registry) override {
    // The gateway's own signer: start-up queries here, then the private stream's auth op on its thread.
    signer_ = std::make_shared<oms::bybit_linear::Encoder>(registry, api_key_, secret_, config_);
    go.venue = Venue::bybit;
    go.stream_login = [signer = signer_] { return signer->auth_message(wall_ms() + 10'000); };
    go.budget = oms::bybit_linear_budget();
    go.budget.orders_short.limit = limit(live_.requests_per_s);
    go.bybit_dcp = live_.bybit_dcp_window_s > 0;
  }
  void check_key(const LiveGatewayOptions& go) override {
    (void)check_key_permissions(live_.account_api_url, oms::bybit_linear::key_permissions_request(*signer_, wall_ms()), go.tls,
                                go.request_timeout_ns);
  }
  // Sets the DCP window for derivatives once, before any order (README "Bybit"). A refusal (DCP not enabled
  // for the account, a window Bybit does not take) stops the start: the user asked for a dead-man switch and
  // would trade without one.
  void arm(LiveGateway& gateway, const InstrumentRegistry& registry) override {
    const std::int64_t window_s = live_.bybit_dcp_window_s;
    if (window_s <= 0) return;
    std::string request(2048, '\0');
    const auto n = signer_->encode_dead_man(static_cast<std::uint32_t>(window_s), wall_ms(), request.data(), request.size());
    if (!n.ok()) throw Error("[live] deadman_countdown_ms: Bybit's DCP window must be 3..300 s, not " + std::to_string(window_s));
    request.resize(n.value);
    std::string body;
    const int status = gateway.call(request, body);
    oms::bybit_linear::UserStreamDecoder decoder(registry);
    oms::RestAnswer answer;
    const Errc e = decoder.decode_rest(oms::RestRequest::countdown, status, body, oms::ClientOrderId{}, kInvalidInstrument, answer);
    if (e != Errc::ok || answer.unknown || answer.venue_code != 0) {
      throw Error("Bybit refused the dead-man switch (POST /v5/order/disconnected-cancel-all timeWindow " +
                  std::to_string(window_s) + " s, HTTP " + std::to_string(status) + "): " + body.substr(0, 200) +
                  ". DCP must be enabled for the account by Bybit; set [live] deadman_countdown_ms = 0 to trade without it");
    }
    ENIGMA_LOG_INFO("venue", "dead-man switch armed: Bybit DCP window {} s for derivatives (orders cancelled once the private stream is gone that long)",
                    window_s);
  }
  std::unique_ptr<oms::VenueOrderEntry> order_entry(const InstrumentRegistry& registry) override {
    return std::make_unique<oms::bybit_linear::OrderEntry>(registry, api_key_, secret_, config_);
  }
  std::unique_ptr<VenueQueries> queries(LiveGateway& gateway, const InstrumentRegistry& registry) override {
    return oms::bybit_linear::account_queries(gateway, *signer_, registry);
  }

 private:
  oms::Secret secret_;
  oms::bybit_linear::Config config_;
  std::shared_ptr<oms::bybit_linear::Encoder> signer_;
};

// OKX V5 USDT swaps: REST order entry signed with key, secret and passphrase (OK-ACCESS-SIGN); order changes
// and fills from the private stream after its login op, untriggered stops from the business stream beside it.
class OkxSwapLive final : public LiveVenue {
 public:
  OkxSwapLive(const LiveSettings& live, config::Secret key, const config::Secret& secret, const config::Secret& passphrase)
      : LiveVenue(live, std::string(key.reveal()), key.origin()),
        secret_(secret.reveal()),
        passphrase_(passphrase.reveal()) {
    config_.host = rest_host();
    config_.simulated = live.okx_simulated;
    config_.td_mode = live.okx_td_mode == "isolated" ? oms::okx_swap::TdMode::isolated : oms::okx_swap::TdMode::cross;
  }
  [[nodiscard]] std::string_view name() const noexcept override { return "OKX swaps"; }
  [[nodiscard]] std::string auth() const override { return live_.okx_simulated ? "okx-hmac simulated=1" : "okx-hmac"; }

  void configure(LiveGatewayOptions& go, const InstrumentRegistry& registry) override {
    // The business endpoint (algo orders) sits beside the private one: .../ws/v5/private -> .../ws/v5/business.
    go.second_stream_url = live_.user_ws_url;
    const std::size_t at = go.second_stream_url.rfind("/private");
    if (at == std::string::npos) {
      throw Error("[live] user_ws_url '" + live_.user_ws_url +
                  "' must end in /ws/v5/private (OKX's private stream; algo orders come from /ws/v5/business beside it)");
    }
    go.second_stream_url.replace(at, 8, "/business");
    // The gateway's own signer: start-up queries here, then the private streams' login on its thread.
    signer_ = std::make_shared<oms::okx_swap::Encoder>(registry, api_key_, secret_, passphrase_, config_);
    go.venue = Venue::okx;
    go.stream_login = [signer = signer_] { return signer->login_message(wall_ms() / 1000); };
    go.budget = oms::okx_swap_budget();
    go.budget.orders_short.limit = limit(live_.requests_per_2s);
  }
  // Also refuses an account in long/short position mode: our orders go without posSide, which only net mode takes.
  void check_key(const LiveGatewayOptions& go) override {
    (void)check_key_permissions(live_.account_api_url, oms::okx_swap::key_permissions_request(*signer_, wall_ms()), go.tls,
                                go.request_timeout_ns);
  }
  std::unique_ptr<oms::VenueOrderEntry> order_entry(const InstrumentRegistry& registry) override {
    return std::make_unique<oms::okx_swap::OrderEntry>(registry, api_key_, secret_, passphrase_, config_);
  }
  std::unique_ptr<VenueQueries> queries(LiveGateway& gateway, const InstrumentRegistry& registry) override {
    return oms::okx_swap::account_queries(gateway, *signer_, registry);
  }

 private:
  oms::Secret secret_, passphrase_;
  oms::okx_swap::Config config_;
  std::shared_ptr<oms::okx_swap::Encoder> signer_;
};

}  // namespace

std::unique_ptr<LiveVenue> live_venue(const RunConfig& rc) {
  const LiveSettings& live = rc.live;
  // Credentials: environment or an owner-only file, never the TOML; errors name the variable, not the value.
  const auto key = [&] { return config::load_secret(live.api_key_env, live.api_key_file); };
  const auto secret = [&] { return config::load_secret(live.api_secret_env, live.api_secret_file); };
  const auto passphrase = [&] { return config::load_secret(live.api_passphrase_env, live.api_passphrase_file); };
  switch (rc.venue) {
    case Venue::binance_usdm: {
      config::Secret k = key();
      return std::make_unique<BinanceUsdmLive>(live, std::move(k), secret());
    }
    case Venue::kucoin_futures: {
      config::Secret k = key();
      const config::Secret s = secret();
      return std::make_unique<KucoinFuturesLive>(live, std::move(k), s, passphrase());
    }
    case Venue::bybit: {
      config::Secret k = key();
      return std::make_unique<BybitLinearLive>(live, std::move(k), secret());
    }
    case Venue::okx: {
      config::Secret k = key();
      const config::Secret s = secret();
      return std::make_unique<OkxSwapLive>(live, std::move(k), s, passphrase());
    }
    default: refuse_live_order_entry(rc.venue, "[replay] venue");
  }
}

}  // namespace enigma::engine
