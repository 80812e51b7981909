// What a venue gateway asks and hears, named once for every venue (Binance USD-M, KuCoin Futures): the kind of
// REST request an answer belongs to, a decoded answer, and what a private-stream message turned out to be.
// Each venue's decoder (oms/venues/<venue>_user.hpp) fills these; engine/live_gateway.cpp routes them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

#include "oms/exec_report.hpp"

namespace enigma::oms {

enum class UserEvent : std::uint8_t {
  report,               // `out` holds an ExecReport
  ignored,              // a well-formed event we do not turn into a report (ACCOUNT_UPDATE, ...)
  listen_key_expired,   // the stream is dead: renew its key / token and reconnect
};

// Which request a REST answer belongs to. cancel_all (Binance DELETE /fapi/v1/allOpenOrders, KuCoin DELETE
// /api/v1/orders?symbol=) and countdown (Binance POST /fapi/v1/countdownCancelAll, the dead-man switch)
// concern an instrument, not one order: their answer carries no report, only success, a venue code or UNKNOWN.
// cancel_batch (Binance DELETE /fapi/v1/batchOrders) cancels up to 10 orders of one instrument: its answer is
// one result per order.
enum class RestRequest : std::uint8_t { new_order, cancel, query, cancel_all, countdown, cancel_batch };
[[nodiscard]] constexpr bool is_instrument_request(RestRequest k) noexcept {
  return k == RestRequest::cancel_all || k == RestRequest::countdown;
}

// A decoded REST answer. `unknown`: no usable answer (5xx, timeout, connection lost after the request
// left): the order's fate is UNKNOWN until a query by client order id resolves it (RELIABILITY.md).
struct RestAnswer {
  ExecReport report{};
  std::int32_t venue_code{0};  // the venue's error code of a refusal (Binance -2019, KuCoin 300003); 0 otherwise
  bool unknown{false};
  // A query's answer about a stop that fired (OKX: an algo order "effective"): the venue's id of the order it
  // placed, whose own query has the fills; empty otherwise.
  VenueOrderId placed_order{};
};

// The account's fee rates on one instrument, as the venue states them (a fraction of the fill's value;
// negative maker = rebate). For venues whose private stream carries no fee (KuCoin Futures): the decoder
// prices each fill with them (oms/venues/kucoin_futures_user.hpp).
struct FeeRates {
  Rate maker;
  Rate taker;
};

// The account's rates per instrument, for a decoder whose venue leaves fees out of what it sends (KuCoin's
// fills, Binance's and KuCoin's order answers): a value is priced at the rate of its side.
class FeeTable {
 public:
  // Before decoding starts (it allocates).
  void set(InstrumentId instrument, FeeRates rates) {
    if (instrument >= rates_.size()) {
      rates_.resize(static_cast<std::size_t>(instrument) + 1);
      known_.resize(static_cast<std::size_t>(instrument) + 1, false);
    }
    rates_[instrument] = rates;
    known_[instrument] = true;
  }
  // `value` at the maker or taker rate of `instrument`, to the nearest unit; zero where no rates were set.
  [[nodiscard]] Notional price(InstrumentId instrument, Notional value, bool maker) const noexcept {
    if (instrument >= known_.size() || !known_[instrument]) return {};
    const Rate rate = maker ? rates_[instrument].maker : rates_[instrument].taker;
    return Notional::from_raw(static_cast<std::int64_t>(div_round(static_cast<int128>(value.raw()) * rate.raw(), Rate::kScale, Rounding::nearest)));
  }

 private:
  std::vector<FeeRates> rates_;
  std::vector<bool> known_;
};

// What the live gateway hears from a venue, named once for every venue: each venue's private-stream and REST
// answer decoder (oms/venues/<venue>_user.hpp, class UserStreamDecoder) implements it, so the gateway holds
// this interface alone. Calls come from the gateway thread only; decode and decode_rest allocate nothing.
// One answer on a venue's WebSocket API order connection (Binance USD-M's ws-fapi): the request id (-1 when
// absent or not a number), the status (HTTP-like: 200, 4xx, 5xx) and the raw JSON of `result` or `error` (a
// view into the message), as decode_rest() takes it.
struct WsApiAnswer {
  std::int64_t id{-1};
  int status{0};
  std::string_view body;
};

class VenueUserDecoder {
 public:
  virtual ~VenueUserDecoder() = default;

  // Element `index` of a private-stream message into `out` (Bybit and OKX batch several orders in one
  // message; the others send one each, index 0). `msg` lies in a buffer of `padded_capacity` bytes.
  [[nodiscard]] virtual Result<UserEvent> decode(std::string_view msg, std::size_t padded_capacity, ExecReport& out,
                                                 std::size_t index = 0) noexcept = 0;
  // Elements of the message last decoded: call decode for index 1 .. last_count() - 1 too.
  [[nodiscard]] virtual std::size_t last_count() const noexcept { return 1; }
  // The answer to a request of `kind` about order `id` (or, for cancel_all and countdown, `instrument`).
  [[nodiscard]] virtual Errc decode_rest(RestRequest kind, int http_status, std::string_view body,
                                         const ClientOrderId& id, InstrumentId instrument, RestAnswer& out) noexcept = 0;
  // The answer to a batch cancel of `ids`: out[i] for ids[i]. Errc::unknown_message where the venue's core
  // never sends one.
  [[nodiscard]] virtual Errc decode_rest_batch(int, std::string_view, std::span<const ClientOrderId>, InstrumentId,
                                               std::span<RestAnswer>) noexcept {
    return Errc::unknown_message;
  }
  // The account's fee rates on `instrument`, before decoding starts, for a venue that leaves fees out of
  // what it sends (KuCoin's fills, Binance's and KuCoin's order answers); ignored by the others.
  virtual void set_fee_rates(InstrumentId, FeeRates) {}
  // After UserEvent::listen_key_expired: the venue's code for a refused login or auth op (Bybit's retCode,
  // OKX's code); 0 where the venue sent none (Binance's listenKeyExpired, KuCoin's refused token).
  [[nodiscard]] virtual std::int32_t last_refusal_code() const noexcept { return 0; }
  // Whether some private-stream events name our order by the venue's order id only (KuCoin's stop-order
  // events): the gateway then learns each order's venue id from its answers and maps the events back.
  [[nodiscard]] virtual bool names_orders_by_venue_id() const noexcept { return false; }
  // One message on the venue's WebSocket API order connection into `out` (`msg` in a buffer of
  // `padded_capacity` bytes; out.body valid until the next call). Errc::unknown_message where the venue has no
  // WebSocket API order entry.
  [[nodiscard]] virtual Errc decode_ws_api_answer(std::string_view /*msg*/, std::size_t /*padded_capacity*/,
                                                  WsApiAnswer& /*out*/) noexcept {
    return Errc::unknown_message;
  }
};

// How a venue's private stream is kept once a connection is up, named once for every venue: what each
// connect sends and what the venue's answers to it mean. Each venue implements it in oms/venues/<venue>_user.hpp
// (class PrivateStream); the gateway holds the interface (made by oms::private_stream, oms/venues/venue_kit.hpp).
class VenueStreamDialect {
 public:
  enum class Answer : std::uint8_t {
    other,           // not an answer to our control messages: for the decoder (which reports a refusal)
    login_accepted,  // the login op was taken: send after_login() now (OKX refuses a subscription before it)
    subscribed,      // the venue took the order channels' subscription: pushes flow from here on
  };
  // How a connection is let in.
  enum class Access : std::uint8_t {
    listen_key,  // the URL holds a key the gateway asks for over REST, keeps alive and renews when the venue
                 // says it expired (Binance's listenKey)
    token,       // a token (and the server to use) fetched by a signed REST POST before every connect
                 // (KuCoin's bullet-private)
    login,       // a signed login or auth op sent on the connection (Bybit, OKX: LiveGatewayOptions::stream_login)
  };
  // Who keeps the connection alive, and how.
  enum class KeepAlive : std::uint8_t {
    answer_venue_pings,  // the venue pings; the WebSocket layer answers (Binance)
    json_ping_interval,  // we send a JSON ping op at the interval the venue gave with the token (KuCoin)
    json_ping_op,        // we send {"op":"ping"} every 20 s (Bybit)
    text_ping_when_idle,  // we send the text "ping" after 25 s without a frame (OKX drops a connection silent for 30 s)
  };
  virtual ~VenueStreamDialect() = default;

  [[nodiscard]] virtual Access access() const noexcept = 0;
  [[nodiscard]] virtual KeepAlive keep_alive() const noexcept = 0;
  // Whether pushes flow only once the venue took a subscription (KuCoin, Bybit, OKX) rather than from the
  // connect (Binance's listenKey stream needs none).
  [[nodiscard]] virtual bool subscribes() const noexcept = 0;
  [[nodiscard]] bool listen_key() const noexcept { return access() == Access::listen_key; }
  // What a connect sends, in order, once it is up; `login` is the signed login or auth op made for this connect
  // (LiveGatewayOptions::stream_login; empty where the venue has none).
  [[nodiscard]] virtual std::vector<std::string> on_connect(const std::string& login) const = 0;
  // What the stream client sends itself once the venue's welcome came (KuCoin's subscriptions wait for it).
  [[nodiscard]] virtual std::vector<std::string> after_welcome() const { return {}; }
  // What follows an accepted login.
  [[nodiscard]] virtual std::string after_login() const { return {}; }
  [[nodiscard]] virtual Answer answer(std::string_view payload) const noexcept = 0;
};

}  // namespace enigma::oms
