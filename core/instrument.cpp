#include "core/instrument.hpp"

namespace enigma {

namespace {
constexpr std::array<std::string_view, kVenueCount> kVenueNames = {
    "unknown", "kucoin-futures", "kucoin-spot", "binance-usdm", "binance-coinm",
    "binance-spot", "okx", "bybit", "coinbase", "kraken-spot", "kraken-futures"};
}

std::string_view to_string(Venue v) noexcept {
  const auto i = static_cast<std::size_t>(v);
  return i < kVenueNames.size() ? kVenueNames[i] : "invalid";
}

std::optional<Venue> venue_from_string(std::string_view s) noexcept {
  for (std::size_t i = 1; i < kVenueNames.size(); ++i)
    if (kVenueNames[i] == s) return static_cast<Venue>(i);
  return std::nullopt;
}

InstrumentRegistry::InstrumentRegistry(std::size_t capacity) : capacity_(capacity) {
  specs_.reserve(capacity);
}

Result<InstrumentId> InstrumentRegistry::add(const InstrumentSpec& spec) noexcept {
  if (spec.tick.raw() <= 0 || spec.lot.raw() <= 0 || spec.min_qty > spec.max_qty ||
      spec.multiplier.raw() <= 0 || spec.symbol.view().empty())
    return Result<InstrumentId>::failure(Errc::out_of_range);
  if (find(spec.venue, spec.symbol.view())) return Result<InstrumentId>::failure(Errc::out_of_range);
  if (specs_.size() >= capacity_ || specs_.size() >= kInvalidInstrument)
    return Result<InstrumentId>::failure(Errc::capacity);
  specs_.push_back(spec);
  return Result<InstrumentId>::success(static_cast<InstrumentId>(specs_.size() - 1));
}

std::optional<InstrumentId> InstrumentRegistry::find(Venue venue, std::string_view symbol) const noexcept {
  for (std::size_t i = 0; i < specs_.size(); ++i)
    if (specs_[i].venue == venue && specs_[i].symbol.view() == symbol) return static_cast<InstrumentId>(i);
  return std::nullopt;
}

}  // namespace enigma
