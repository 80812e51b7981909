// Venues, instrument ids and the instrument registry.
//
// Instruments are referred to on the hot path by a small integer id (index into the registry); the
// registry is filled at start-up and read-only afterwards.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/fixed_point.hpp"

namespace enigma {

enum class Venue : std::uint8_t {
  unknown = 0,
  kucoin_futures,
  kucoin_spot,
  binance_usdm,
  binance_coinm,
  binance_spot,
  okx,
  bybit,
  coinbase,
  kraken_spot,     // Kraken spot WebSocket v2
  kraken_futures,  // Kraken Futures WebSocket v1
};
inline constexpr int kVenueCount = 11;

[[nodiscard]] std::string_view to_string(Venue v) noexcept;
// Accepts the names printed by to_string ("kucoin-futures", "binance-usdm", ...).
[[nodiscard]] std::optional<Venue> venue_from_string(std::string_view s) noexcept;

using InstrumentId = std::uint16_t;
inline constexpr InstrumentId kInvalidInstrument = 0xFFFF;

// Fixed-size, trivially copyable symbol text (venue symbols are short: "XBTUSDTM", "BTC-USDT-SWAP").
struct Symbol {
  static constexpr std::size_t kCapacity = 23;
  char text[kCapacity + 1]{};

  Symbol() = default;
  // Truncation would silently alias two instruments, so callers validate with fits() first.
  static constexpr bool fits(std::string_view s) noexcept { return s.size() <= kCapacity; }
  explicit Symbol(std::string_view s) noexcept {
    const std::size_t n = s.size() < kCapacity ? s.size() : kCapacity;
    std::memcpy(text, s.data(), n);
  }
  [[nodiscard]] std::string_view view() const noexcept { return std::string_view(text); }
  friend bool operator==(const Symbol& a, const Symbol& b) noexcept { return a.view() == b.view(); }
};

enum class InstrumentKind : std::uint8_t { spot, linear_perpetual, inverse_perpetual, future };

// Where a spec's tick and lot came from: `[[instrument]]` in the config, the venue's exchange-info file
// (feed/exchange_info.hpp), or neither (a symbol first seen in the data: tick and lot one raw unit, unset).
enum class SpecSource : std::uint8_t { seen, config, exchange_info };
[[nodiscard]] std::string_view to_string(SpecSource s) noexcept;

struct InstrumentSpec {
  Venue venue{Venue::unknown};
  Symbol symbol{};
  InstrumentKind kind{InstrumentKind::spot};
  Price tick{Price::from_raw(1)};        // minimum price increment
  Qty lot{Qty::from_raw(1)};             // minimum size increment (in the venue's size unit)
  Qty min_qty{Qty::from_raw(0)};
  Qty max_qty{Qty::max()};
  // Base-currency amount per unit of size: 1 for spot and Binance linear, 0.001 for KuCoin XBTUSDTM.
  Qty multiplier{Qty::from_units(1)};
  SpecSource source{SpecSource::seen};
};

// Fixed capacity, allocated once; ids are dense and stable for the life of the process.
class InstrumentRegistry {
 public:
  explicit InstrumentRegistry(std::size_t capacity = 1024);

  // Validates the spec (positive tick and lot, min <= max, symbol fits, no duplicate venue+symbol).
  [[nodiscard]] Result<InstrumentId> add(const InstrumentSpec& spec) noexcept;
  [[nodiscard]] std::optional<InstrumentId> find(Venue venue, std::string_view symbol) const noexcept;
  [[nodiscard]] const InstrumentSpec& get(InstrumentId id) const noexcept { return specs_[id]; }
  [[nodiscard]] std::size_t size() const noexcept { return specs_.size(); }

  // The venues' instrument lists (exchange-info files), set at start-up before any decoder runs. A symbol
  // first seen in the data is added with its listed spec (add_seen) instead of an unset tick and lot.
  // Throws enigma::Error when one venue lists a symbol twice.
  void set_catalogue(std::vector<InstrumentSpec> specs);
  [[nodiscard]] const InstrumentSpec* catalogued(Venue venue, std::string_view symbol) const noexcept;
  // add() of the catalogue's spec for `seen`'s venue and symbol when listed, else of `seen` itself.
  [[nodiscard]] Result<InstrumentId> add_seen(const InstrumentSpec& seen) noexcept;

 private:
  std::vector<InstrumentSpec> specs_;
  std::vector<InstrumentSpec> catalogue_;  // sorted by venue, then symbol
  std::size_t capacity_;
};

}  // namespace enigma
