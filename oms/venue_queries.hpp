// What live start-up reconciliation asks a venue (cold path; one signed request each on the gateway's control
// connection before it starts), behind one interface each venue implements beside its decoder
// (oms::<venue>::account_queries in oms/venues/<venue>_user.hpp). The engine's reconcile_live reads it.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/fixed_point.hpp"
#include "core/instrument.hpp"
#include "oms/order_state.hpp"
#include "oms/venue_answer.hpp"

namespace enigma::oms {

// One open order as the venue lists it, in the venue-neutral words reconciliation uses (side BUY / SELL, type
// LIMIT / STOP_MARKET / TAKE_PROFIT_MARKET / other, time in force GTC / IOC, decimal texts as sent).
struct VenueOrder {
  std::string client_id, symbol, side, qty, status, type, price, stop_price, executed, tif;
  bool reduce_only{false};
  std::string order_id;  // the venue's id (Binance: digits, KuCoin: 24 hex)
};

// How the queries reach the venue, and what they hand to the live gateway (implemented by engine::LiveGateway).
class VenueCalls {
 public:
  virtual ~VenueCalls() = default;
  // Writes one complete signed request and reads its answer into `body`; the HTTP status. Throws
  // enigma::Error naming the URL and cause when no answer came.
  virtual int call(std::string_view request, std::string& body) = 0;
  // The venue's id of an order of ours found here (KuCoin names a stop's lifecycle events by it only).
  virtual void learn_venue_order_id(const VenueOrderId& venue_id, const ClientOrderId& client_id) noexcept = 0;
  // The account's fee rates on `instrument`, for the gateway's decoder (fills found by a later query).
  virtual void set_fee_rates(InstrumentId instrument, const FeeRates& rates) = 0;
};

// Every method throws enigma::Error naming the endpoint and the venue's answer when the query fails, except
// query() and cancel(), whose failure is reported and logged.
class VenueQueries {
 public:
  virtual ~VenueQueries() = default;
  [[nodiscard]] virtual Venue venue() const noexcept = 0;
  // Every open order of the account (every symbol; untriggered stops included).
  virtual std::vector<VenueOrder> open_orders() = 0;
  // Our order's state by client id: true with `out` (ExecKind::status) when the venue answered it; else false
  // with the HTTP status and body in `why`.
  virtual bool query(const OrderState& o, RestAnswer& out, std::string& why) = 0;
  // Cancels an order we never sent, by the venue's id. False with the reason in `why`.
  virtual bool cancel(const VenueOrder& v, std::string& why) = 0;
  // The signed position (base units as our Qty) and entry price of `symbol`; zero when flat.
  virtual std::pair<Qty, Price> position(std::string_view symbol) = 0;
  // The wallet balance of the settlement asset (USDT).
  virtual Notional balance() = 0;
  // The account's fee rates on `instrument` where the venue's fills or order answers carry no fee (KuCoin
  // Futures: GET /api/v1/trade-fees; Binance's order answers: GET /fapi/v1/commissionRate), handed to the
  // gateway's decoder and the queries' own (fills found by a query are priced at them); nullopt where every
  // fill and answer carries its own (Bybit, OKX).
  virtual std::optional<FeeRates> fee_rates(InstrumentId instrument) = 0;
  // The endpoint names for the log and errors, e.g. "GET /fapi/v1/openOrders".
  [[nodiscard]] virtual std::string_view open_orders_endpoint() const noexcept = 0;
};

// The API key's own permissions, read at start-up of `live` before anything else reaches the venue (the plan's
// hard limit "no withdrawal API permissions"), in words every venue's answer comes to.
struct KeyPermissions {
  std::string log_fields;       // what the venue said, "name=value ..." for the api_key_permissions log line
  bool ip_restricted{false};    // the key works from listed addresses only
  std::string moves_funds_out;  // the permissions that can move funds out, in the venue's words; empty: none
  std::string cannot_trade;     // why our orders would be refused (a read-only key, an account mode); empty: none
};

// The signed GET of the key's permissions on the venue's account host ([live] account_api_url), and how its
// answer reads. Made by oms::<venue>::key_permissions_request.
struct KeyPermissionsRequest {
  std::string path;   // "/sapi/v1/account/apiRestrictions"
  std::string query;  // without '?'; empty: none
  std::vector<std::pair<std::string, std::string>> headers;
  std::string_view hint;     // what the venue needs when it refuses the request, for the error
  std::string_view console;  // where a person changes the key, for the refusal ("Binance API Management")
  // Reads the 200 answer's body; throws enigma::Error naming what is missing or malformed.
  std::function<KeyPermissions(std::string_view body)> read;
};

}  // namespace enigma::oms
