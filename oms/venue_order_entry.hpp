// What the trading core asks of a venue's order entry, named once for every venue: the signed bytes of each
// request it sends (new order, cancel, query, batch cancel, dead-man refresh), how the venue's dead-man switch
// is kept, which answers mean the key itself is refused, and a signer the gateway thread uses to sign again a
// request that waited. Each venue implements it beside its encoder (oms/venues/<venue>.hpp, class
// OrderEntry); the engine holds only this interface, so it has no code of its own per venue.
//
// The encode_* calls are on the order path: they write into the caller's buffer, allocate nothing, and are
// called from the trading thread only (an entry is not thread-safe). resigner() is the exception: it is built
// with the entry, holds its own copy of the key schedule and is called from the gateway thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/instrument.hpp"
#include "oms/ids.hpp"
#include "oms/order_spec.hpp"

namespace enigma::oms {

// How the venue's dead-man switch (cancel every open order unless refreshed in time) is kept armed by the core.
enum class DeadMan : std::uint8_t {
  none,            // no countdown the core refreshes (KuCoin Futures has none; Bybit's DCP is a window set at start-up)
  per_instrument,  // one countdown per traded instrument (Binance countdownCancelAll)
  per_account,     // one countdown for the account (OKX cancel-all-after)
};

// Signs again, in place, a request this venue's entry wrote (same length); false when it is not one.
using Resigner = std::function<bool(char* bytes, std::size_t size, std::int64_t timestamp_ms)>;

class VenueOrderEntry {
 public:
  virtual ~VenueOrderEntry() = default;

  // Whether this entry signs the orders of `venue`'s instruments (Binance's: USD-M, COIN-M and spot alike).
  [[nodiscard]] virtual bool serves(Venue venue) const noexcept = 0;

  // The request that places `o`, its cancel, its query by client order id. `type` is the order's own type:
  // a venue may keep some types in a book of their own (OKX's algo orders: stops), cancelled and asked for at
  // other endpoints. Errors as the venue's encoder: Errc::out_of_range (id, instrument, an order the venue
  // does not take), Errc::capacity (`cap` too small).
  [[nodiscard]] virtual Result<std::size_t> encode_new(const OrderSpec& o, std::int64_t timestamp_ms, char* out,
                                                       std::size_t cap) noexcept = 0;
  [[nodiscard]] virtual Result<std::size_t> encode_cancel(InstrumentId instrument, const ClientOrderId& id,
                                                          risk::OrderType type, std::int64_t timestamp_ms,
                                                          char* out, std::size_t cap) noexcept = 0;
  [[nodiscard]] virtual Result<std::size_t> encode_query(InstrumentId instrument, const ClientOrderId& id,
                                                         risk::OrderType type, std::int64_t timestamp_ms, char* out,
                                                         std::size_t cap) noexcept = 0;

  // Batch cancel by client order id: up to max_batch_cancel() orders of one instrument in one request (0: the
  // venue's batch cancel is not used and each cancel leaves on its own), of the types batchable() admits.
  [[nodiscard]] virtual std::size_t max_batch_cancel() const noexcept { return 0; }
  [[nodiscard]] virtual bool batchable(risk::OrderType) const noexcept { return max_batch_cancel() > 0; }
  [[nodiscard]] virtual Result<std::size_t> encode_cancel_batch(InstrumentId, std::span<const ClientOrderId>,
                                                                std::int64_t, char*, std::size_t) noexcept {
    return Result<std::size_t>::failure(Errc::not_found);
  }

  // The dead-man switch: how it is kept, why a countdown of `countdown_ns` (0: off) cannot be kept (empty when
  // it can; checked before the first order), and the refresh (`countdown_ms` 0 disarms; per_account ignores
  // `instrument`).
  [[nodiscard]] virtual DeadMan dead_man() const noexcept { return DeadMan::none; }
  [[nodiscard]] virtual std::string dead_man_refusal(std::int64_t countdown_ns) const = 0;
  [[nodiscard]] virtual Result<std::size_t> encode_dead_man(InstrumentId, std::int64_t, std::int64_t, char*,
                                                            std::size_t) noexcept {
    return Result<std::size_t>::failure(Errc::not_found);
  }

  // A query's answer said one of our stops fired and placed an order the venue names `venue_order_id` (OKX):
  // the query of that order, whose answer has the fills. Errc::not_found where the venue has no such answer.
  [[nodiscard]] virtual Result<std::size_t> encode_query_placed(InstrumentId, std::string_view, std::int64_t, char*,
                                                                std::size_t) noexcept {
    return Result<std::size_t>::failure(Errc::not_found);
  }

  // The venue's code for a refusal of the key or its signature: no order can succeed until a person acts.
  [[nodiscard]] virtual bool credentials_refused(std::int32_t venue_code) const noexcept = 0;
  // Whether client order ids must be letters and digits only (OKX).
  [[nodiscard]] virtual bool alphanumeric_client_ids() const noexcept { return false; }

  // The gateway thread's signer (its own key schedule, made with this entry).
  [[nodiscard]] virtual Resigner resigner() const = 0;
};

// What every venue's entry shares: its encoder (the trading thread's) and a twin built from the same arguments
// (the gateway thread's resigner: an encoder is not thread-safe), new orders signed as the encoder signs them.
template <class Encoder>
class EncoderOrderEntry : public VenueOrderEntry {
 public:
  template <class... Args>
  explicit EncoderOrderEntry(const Args&... args) : enc_(args...), twin_(std::make_shared<const Encoder>(args...)) {}

  [[nodiscard]] Result<std::size_t> encode_new(const OrderSpec& o, std::int64_t timestamp_ms, char* out,
                                               std::size_t cap) noexcept override {
    return enc_.encode_new(o, timestamp_ms, out, cap);
  }
  [[nodiscard]] Resigner resigner() const override {
    return [twin = twin_](char* b, std::size_t n, std::int64_t ms) { return twin->resign(b, n, ms); };
  }

 protected:
  Encoder enc_;
  std::shared_ptr<const Encoder> twin_;
};

}  // namespace enigma::oms
