// What starting `enigma live` takes from each venue, behind one interface, so cmd_live is one sequence for
// every live venue (issue 17 item 5): its credentials, its part of the gateway's options (budget, private-stream
// login), the key-permission check, what must be armed before the first order (Bybit's DCP), the order entry
// the trading core signs with, and the start-up reconciliation's queries. One implementation per venue in
// live_venues.cpp, chosen by live_venue() from [venue].
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "engine/live_gateway.hpp"
#include "engine/run_config.hpp"
#include "engine/state.hpp"
#include "oms/venue_order_entry.hpp"

namespace enigma::engine {

class LiveVenue {
 public:
  virtual ~LiveVenue() = default;

  // For the messages: the venue ("KuCoin Futures"), where orders go, where the key came from, and the order
  // entry and signature scheme for the start-up line ("rest", "kucoin-v2").
  [[nodiscard]] virtual std::string_view name() const noexcept = 0;
  [[nodiscard]] virtual std::string orders_to() const;
  [[nodiscard]] virtual std::string key_origin() const { return key_origin_; }
  [[nodiscard]] virtual std::string_view order_entry_kind() const noexcept { return "rest"; }
  [[nodiscard]] virtual std::string auth() const = 0;
  [[nodiscard]] const std::string& api_key() const noexcept { return api_key_; }

  // The venue's part of the gateway's options (the common ones are set): budget, stream login, URLs. Makes the
  // venue's signer for what follows; throws enigma::Error naming a setting the venue cannot take.
  virtual void configure(LiveGatewayOptions& go, const InstrumentRegistry& registry) = 0;
  // Before anything else reaches the venue: a key that can withdraw or transfer out is refused (enigma::Error,
  // exit 3), and whatever else the venue's account must be for our orders (OKX: net position mode).
  virtual void check_key(const LiveGatewayOptions& go) = 0;
  // After the check, before the first order: what the venue must have armed (Bybit's DCP window).
  virtual void arm(LiveGateway& /*gateway*/, const InstrumentRegistry& /*registry*/) {}
  // The signed bytes of our orders, cancels and queries (TradingCore::go_live).
  [[nodiscard]] virtual std::unique_ptr<oms::VenueOrderEntry> order_entry(const InstrumentRegistry& registry) = 0;
  // The start-up reconciliation's queries, sent with gateway.call().
  [[nodiscard]] virtual std::unique_ptr<VenueQueries> queries(LiveGateway& gateway, const InstrumentRegistry& registry) = 0;

 protected:
  LiveVenue(const LiveSettings& live, std::string api_key, std::string key_origin)
      : live_(live), api_key_(std::move(api_key)), key_origin_(std::move(key_origin)) {}
  // "host" or "host:port" of [live] rest_url: what the venue's signature covers.
  [[nodiscard]] std::string rest_host() const;

  const LiveSettings& live_;
  std::string api_key_;
  std::string key_origin_;
};

// Loads the credentials `rc`'s venue needs (environment or owner-only files: key, secret, and the passphrase
// for KuCoin and OKX; Binance's Ed25519 session key with ws_api) and returns that venue's start-up. Throws
// enigma::Error naming the variable or file that is missing, or the venue when it has no live order entry.
[[nodiscard]] std::unique_ptr<LiveVenue> live_venue(const RunConfig& rc);

}  // namespace enigma::engine
