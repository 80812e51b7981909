// What starting `enigma live` takes from a venue, behind one interface, so the engine's start-up is one
// sequence with no code of its own per venue (issue 17 item 5): the venue's [live] settings (LiveAccount), its
// credentials, its part of the live gateway's options (LiveAccess: request budget, how the private stream is
// reached, the WebSocket API), the key-permission request, what must be armed before the first order (Bybit's
// DCP), the order entry the trading core signs with, and the start-up reconciliation's queries. Each venue
// implements it beside its private-stream decoder (oms::<venue>::live_venue in oms/venues/<venue>_user.hpp);
// oms::live_venue (oms/venues/venue_kit.hpp) picks one by venue. Cold path: allocates and throws.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/instrument.hpp"
#include "oms/request_budget.hpp"
#include "oms/signing.hpp"
#include "oms/venue_order_entry.hpp"
#include "oms/venue_queries.hpp"

namespace enigma::oms {

// The [live] settings a venue reads (engine::LiveSettings adds the engine's own: timeouts, transport, cores).
// Each venue takes the common ones and its own, named in the comments; the config refuses another venue's.
struct LiveAccount {
  std::string rest_url{"https://fapi.binance.com"};        // the REST host of orders, cancels and queries
  std::string user_ws_url{"wss://fstream.binance.com/ws"};  // the private stream (Binance: /<listenKey> appended)
  // The host of the key-permission check at start-up (Binance: its SAPI host, GET /sapi/v1/account/apiRestrictions).
  std::string account_api_url{"https://api.binance.com"};
  // Credentials: environment variable, or an owner-only (0600/0400) file used when the variable is unset.
  std::string api_key_env{"ENIGMA_API_KEY"};
  std::string api_secret_env{"ENIGMA_API_SECRET"};
  std::string api_key_file;
  std::string api_secret_file;
  // KuCoin Futures and OKX: the key's passphrase.
  std::string api_passphrase_env{"ENIGMA_API_PASSPHRASE"};
  std::string api_passphrase_file;
  // Binance USD-M: the venue's request budget (exchangeInfo defaults).
  std::int64_t request_weight_per_minute{2400};
  std::int64_t orders_per_10s{300};
  std::int64_t orders_per_minute{1200};
  // KuCoin Futures: the plan's cap on private requests per 3 s, and the venue's resource pool (weight per 30 s,
  // VIP0; refreshed from the gw-ratelimit-* answer headers).
  std::int64_t requests_per_3s{75};
  std::int64_t request_weight_per_30s{2000};
  // Bybit: the account's trade requests per second (create / cancel / cancel-all, per UID; 10 at the default
  // tier).
  std::int64_t requests_per_s{10};
  // A venue whose dead-man switch is a window set once at start-up and kept by the private stream
  // (DeadManRule::Kind::stream_window; Bybit's DCP, POST /v5/order/disconnected-cancel-all, product
  // DERIVATIVES, which Bybit must have enabled for the account): the window from [live] deadman_countdown_ms,
  // in seconds; 0 = not used.
  std::int64_t dead_man_window_s{0};
  // OKX: the account's trade requests per 2 s (place / cancel / order details, 60 each per the docs), the
  // margin mode of every order ("cross" or "isolated") and demo trading (the x-simulated-trading header).
  std::int64_t requests_per_2s{60};
  std::string okx_td_mode{"cross"};
  bool okx_simulated{false};
  // Binance USD-M order entry: "rest" (POST/DELETE/GET /fapi/v1/order) or "ws-api" (order.place/cancel/status
  // over the WebSocket API at ws_api_url; cancel-all, the dead-man timer and the listenKey stay REST). With an
  // Ed25519 key (base64 PKCS#8, from ed25519_key_env or the owner-only ed25519_key_file) and its API key the
  // connection authenticates once with session.logon; without one every request is HMAC-signed with the REST
  // key and secret.
  bool ws_api{false};
  std::string ws_api_url{"wss://ws-fapi.binance.com/ws-fapi/v1"};
  std::string ed25519_key_env{"ENIGMA_ED25519_KEY"};
  std::string ed25519_key_file;
  std::string ed25519_api_key_env{"ENIGMA_ED25519_API_KEY"};
  std::string ed25519_api_key_file;
};

// The venue's part of the live gateway's options (engine::LiveGatewayOptions derives from it): the request
// budget every request passes, and how the private stream and the WebSocket API are reached.
struct LiveAccess {
  using Headers = std::vector<std::pair<std::string, std::string>>;
  // The venue's request budget (oms/request_budget.hpp): every request passes it before it is written.
  RequestBudgetConfig budget{binance_usdm_budget()};
  // A private stream whose endpoint comes from a signed token request (KuCoin Futures: POST
  // https://api-futures.kucoin.com/api/v1/bullet-private): before each connect the gateway POSTs this URL
  // with the headers stream_token_headers() makes, then connects to the returned endpoint with the token;
  // user_ws_url is not used then. Empty: the stream is reached at user_ws_url. Each token request is charged
  // to the budget at stream_token_cost (never held back: without the stream no fill reaches us).
  std::string stream_token_url;
  std::function<Headers()> stream_token_headers;
  RequestCost stream_token_cost{};
  // Bybit and OKX: each connect of the private stream first sends stream_login(), the signed auth or login op
  // made with the current time; what follows is the venue's (oms::private_stream). Empty: none.
  std::function<std::string()> stream_login;
  // The private stream itself keeps the venue's disconnect protection armed (Bybit's "dcp" topic: once the
  // stream is gone for the window set at start-up, Bybit cancels every derivatives order).
  bool dead_man_stream{false};
  // A second private connection, logged in the same way, for a venue that pushes some of our orders elsewhere
  // (oms::second_private_stream): OKX's untriggered algo orders (the engine's stops) come on .../ws/v5/business
  // only (channel orders-algo). Empty: none.
  std::string second_stream_url;
  // Binance USD-M "ws-api" order entry: requests whose bytes are WebSocket API JSON (they start with '{') go
  // over one WebSocket connection to ws_api_url, answers matched by request id; HTTP requests (cancel-all, the
  // dead-man timer, the listenKey) stay on REST. With an Ed25519 key, ws_api_logon() makes the signed
  // session.logon each (re)connect sends first; orders go out once the venue took it. Empty URL: REST only.
  std::string ws_api_url;
  std::function<std::string()> ws_api_logon;
};

// How [live] deadman_countdown_ms arms a venue's dead-man switch.
struct DeadManRule {
  enum class Kind : std::uint8_t {
    countdown,      // a countdown the trading core refreshes (Binance countdownCancelAll, OKX cancel-all-after)
    stream_window,  // a window set once at start-up that the private stream keeps (Bybit's DCP)
    none,           // the venue has none: only 0 is taken
  };
  Kind kind{Kind::countdown};
  std::string_view what;  // for the refusal: "OKX's cancel-all-after"; with none, why ("no cancel-all-after endpoint")
  std::int64_t min_ms{1}, max_ms{600'000};  // the values taken besides 0
  bool whole_seconds{false};
};

// What a live venue's [live] table takes beyond the keys every live venue takes, for the config reader: the
// keys only this venue takes (another venue's is refused, naming what this one takes), its hosts, its
// dead-man switch and its client order ids.
struct LiveVenueRules {
  Venue venue{Venue::unknown};
  std::string_view name;                   // "KuCoin Futures"
  std::vector<std::string_view> keys;      // the [live] keys of this venue only
  std::string_view takes;                  // what it takes instead of another venue's keys, for the refusal
  std::string_view rest_url, account_api_url, user_ws_url;  // default hosts; empty: LiveAccount's (Binance USD-M)
  bool stream_url_setting{true};           // false: the private stream's URL comes from the venue (a token)
  DeadManRule dead_man;
  bool client_id_alphanumeric{false};      // client order ids of letters and digits only (OKX's clOrdId)
};

class LiveVenue {
 public:
  virtual ~LiveVenue() = default;
  LiveVenue(const LiveVenue&) = delete;
  LiveVenue& operator=(const LiveVenue&) = delete;

  // For the messages: the venue ("KuCoin Futures"), where orders go, where the key came from, and the order
  // entry and signature scheme of the start-up line ("rest", "kucoin-v2").
  [[nodiscard]] virtual std::string_view name() const noexcept = 0;
  [[nodiscard]] virtual std::string orders_to() const { return account_.rest_url; }
  [[nodiscard]] const std::string& key_origin() const noexcept { return key_origin_; }
  [[nodiscard]] virtual std::string_view order_entry_kind() const noexcept { return "rest"; }
  [[nodiscard]] virtual std::string auth() const = 0;
  [[nodiscard]] const std::string& api_key() const noexcept { return api_key_; }

  // The venue's part of the gateway's options. Makes the venue's signer for what follows; throws enigma::Error
  // naming a setting the venue cannot take.
  [[nodiscard]] virtual LiveAccess access(const InstrumentRegistry& registry) = 0;
  // The signed request of the key's permissions on account_api_url (after access()): before anything else
  // reaches the venue, a key that can withdraw or transfer out is refused.
  [[nodiscard]] virtual KeyPermissionsRequest key_permissions_request() = 0;
  // After the key check, before the first order: what the venue must have armed (Bybit's DCP window). Throws
  // enigma::Error when the venue refuses it.
  virtual void arm(VenueCalls& /*calls*/, const InstrumentRegistry& /*registry*/) {}
  // The signed bytes of our orders, cancels and queries (the trading core's).
  [[nodiscard]] virtual std::unique_ptr<VenueOrderEntry> order_entry(const InstrumentRegistry& registry) = 0;
  // The start-up reconciliation's queries, sent with calls.call().
  [[nodiscard]] virtual std::unique_ptr<VenueQueries> queries(VenueCalls& calls, const InstrumentRegistry& registry) = 0;

 protected:
  // Loads the credentials `account` names: the key and its secret, and with `passphrase` the key's passphrase
  // (KuCoin, OKX), each from its environment variable or owner-only file; throws enigma::Error naming the
  // variable or file that is missing, never a value. `rest_host`: "host" or "host:port" of rest_url, what the
  // venues' signatures cover.
  LiveVenue(const LiveAccount& account, std::string rest_host, bool passphrase);

  const LiveAccount& account_;
  std::string rest_host_;
  std::string api_key_;
  std::string key_origin_;
  Secret secret_;
  Secret passphrase_;  // empty where the venue takes none
};

}  // namespace enigma::oms
