#include "core/instrument.hpp"

#include <algorithm>
#include <string>

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

std::string_view to_string(SpecSource s) noexcept {
  switch (s) {
    case SpecSource::config: return "config";
    case SpecSource::exchange_info: return "exchange-info";
    case SpecSource::seen: break;
  }
  return "data";
}

namespace {
bool catalogue_less(const InstrumentSpec& a, Venue v, std::string_view sym) noexcept {
  return a.venue != v ? a.venue < v : a.symbol.view() < sym;
}
}  // namespace

void InstrumentRegistry::set_catalogue(std::vector<InstrumentSpec> specs) {
  std::stable_sort(specs.begin(), specs.end(), [](const InstrumentSpec& a, const InstrumentSpec& b) {
    return catalogue_less(a, b.venue, b.symbol.view());
  });
  for (std::size_t i = 1; i < specs.size(); ++i)
    if (specs[i].venue == specs[i - 1].venue && specs[i].symbol == specs[i - 1].symbol)
      throw Error(std::string(to_string(specs[i].venue)) + " lists '" + std::string(specs[i].symbol.view()) +
                  "' twice in its exchange info (two files of one venue that share a symbol: Bybit spot and linear "
                  "both name BTCUSDT; give the category you trade)");
  catalogue_ = std::move(specs);
}

const InstrumentSpec* InstrumentRegistry::catalogued(Venue venue, std::string_view symbol) const noexcept {
  const auto it = std::lower_bound(catalogue_.begin(), catalogue_.end(), 0, [&](const InstrumentSpec& a, int) {
    return catalogue_less(a, venue, symbol);
  });
  if (it == catalogue_.end() || it->venue != venue || it->symbol.view() != symbol) return nullptr;
  return &*it;
}

Result<InstrumentId> InstrumentRegistry::add_seen(const InstrumentSpec& seen) noexcept {
  const InstrumentSpec* listed = catalogued(seen.venue, seen.symbol.view());
  return add(listed != nullptr ? *listed : seen);
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
