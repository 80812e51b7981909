// Venue symbol -> InstrumentId for a decoder's hot path, shared by the venue decoders.
//
// A frame names its instrument by the venue's symbol text; the registry's own search is a scan (cold).
// The cache answers a repeat of the last symbol with one compare, any other known symbol with an open-
// addressing probe into a fixed table (a capture interleaving ten symbols used to reach the registry on
// every frame), and only a first sight goes to the registry, which registers the symbol when the decoder
// was asked to (`auto_register`, with the InstrumentKind its venue's `kind_of` gives). No allocation after
// construction.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string_view>

#include "core/instrument.hpp"

namespace enigma::feed {

class SymbolCache {
 public:
  // What a first-seen symbol is registered as (auto_register only).
  using KindOf = InstrumentKind (*)(Venue venue, std::string_view symbol) noexcept;

  SymbolCache(InstrumentRegistry& registry, Venue venue, bool auto_register, KindOf kind_of)
      : registry_(&registry), venue_(venue), auto_register_(auto_register), kind_of_(kind_of), table_(new Entry[kSize]) {}

  // kInvalidInstrument for an empty symbol, one too long for Symbol, or one the registry does not hold (and
  // may not register).
  [[nodiscard]] InstrumentId find(std::string_view symbol) noexcept {
    const Entry& last = table_[last_];
    if (last.id != kInvalidInstrument && last.holds(symbol)) [[likely]] return last.id;
    if (symbol.empty() || !Symbol::fits(symbol)) return kInvalidInstrument;
    std::size_t slot = hash(symbol) & (kSize - 1);
    for (std::size_t probe = 0; probe < kSize; ++probe, slot = (slot + 1) & (kSize - 1)) {
      Entry& e = table_[slot];
      if (e.id == kInvalidInstrument) {
        // First sight: the registry (registering when allowed); only a found symbol is remembered.
        const InstrumentId id = from_registry(symbol);
        if (id == kInvalidInstrument) return id;
        e = Entry{Symbol(symbol), id, static_cast<std::uint8_t>(symbol.size())};
        last_ = slot;
        return id;
      }
      if (e.holds(symbol)) {
        last_ = slot;
        return e.id;
      }
    }
    return from_registry(symbol);  // the table is full (kSize symbols on one connection)
  }

 private:
  struct Entry {
    Symbol symbol;
    InstrumentId id{kInvalidInstrument};
    std::uint8_t size{0};  // the symbol's length, kept so that a lookup need not measure the stored text
    [[nodiscard]] bool holds(std::string_view s) const noexcept {
      return s.size() == size && std::memcmp(symbol.text, s.data(), size) == 0;
    }
  };
  static constexpr std::size_t kSize = 512;  // power of two; far above any subscription count

  // First and last (up to) 8 bytes and the length, mixed by two multiplies: a byte-at-a-time hash is a
  // dependent chain as long as the symbol.
  static std::uint64_t hash(std::string_view s) noexcept {
    std::uint64_t head = 0, tail = 0;
    const std::size_t n = std::min<std::size_t>(8, s.size());
    std::memcpy(&head, s.data(), n);
    std::memcpy(&tail, s.data() + s.size() - n, n);
    return ((head * 0x9E3779B97F4A7C15ULL) ^ (tail * 0xC2B2AE3D27D4EB4FULL) ^ s.size()) >> 32;
  }

  InstrumentId from_registry(std::string_view symbol) noexcept {
    std::optional<InstrumentId> id = registry_->find(venue_, symbol);
    if (!id && auto_register_) [[unlikely]] {
      InstrumentSpec spec;
      spec.venue = venue_;
      spec.symbol = Symbol(symbol);
      spec.kind = kind_of_(venue_, symbol);
      const Result<InstrumentId> added = registry_->add_seen(spec);
      if (added.ok()) id = added.value;
    }
    return id.value_or(kInvalidInstrument);
  }

  InstrumentRegistry* registry_;
  Venue venue_;
  bool auto_register_;
  KindOf kind_of_;
  std::unique_ptr<Entry[]> table_;
  std::size_t last_{0};  // slot of the last answer
};

}  // namespace enigma::feed
