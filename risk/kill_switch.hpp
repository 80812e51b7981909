// Kill switch and the registry of working orders it cancels.
//
// The risk gate feeds the registry: an order enters when check_and_reserve accepts it (it counts as soon
// as it is sent) and leaves on cancel, reject, expiry or full fill. trigger(scope) latches the scope
// (every new order in it is refused until a person calls reset(); cancels and keep-alives still pass)
// and lists the client ids of the working orders in scope so the OMS can encode the cancels at once.
// Fixed capacity, no allocation after construction, single-threaded (OMS thread).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "risk/flat_map.hpp"
#include "risk/order_request.hpp"

namespace enigma::risk {

struct WorkingOrder {
  ClientOrderId id;
  std::uint64_t hash{0};   // id.hash(), cached
  Price price;             // limit price; 0 for market
  Qty remaining;           // unfilled quantity still counted against limits
  InstrumentId instrument{kInvalidInstrument};
  StrategyId strategy{0};
  Venue venue{Venue::unknown};
  Side side{Side::buy};
  OrderType type{OrderType::limit};
  bool reduce_only{false};
  bool acknowledged{false};
};

// Dense array of working orders plus a hash index by client id; removal swaps the last entry in, so
// iteration (the kill switch) touches only live orders.
class WorkingOrders {
 public:
  explicit WorkingOrders(std::uint32_t capacity);

  [[nodiscard]] WorkingOrder* find(const ClientOrderId& id) noexcept { return find(id, id.hash()); }
  [[nodiscard]] WorkingOrder* find(const ClientOrderId& id, std::uint64_t hash) noexcept {
    const std::uint32_t* idx = index_.find(hash);
    // A 64-bit hash collision between two different ids reads as "not found" for the second one; the
    // gate refuses to add it (duplicate), so it is never silently merged.
    if (idx == nullptr || !(orders_[*idx].id == id)) return nullptr;
    return &orders_[*idx];
  }
  // True when some working order's id hashes to `hash` (a new id with it could not be added).
  [[nodiscard]] bool contains_hash(std::uint64_t hash) noexcept { return index_.contains(hash); }
  // Adds `o` (o.hash must be o.id.hash()). False when full or when the hash is already present.
  [[nodiscard]] bool add(const WorkingOrder& o) noexcept {
    WorkingOrder* slot = emplace(o.id, o.hash);
    if (slot != nullptr) *slot = o;
    return slot != nullptr;
  }
  // Adds an order with this id (hash = id.hash()) and returns its slot for the caller to fill in place
  // (id and hash already set); nullptr when full or when the hash is already present.
  [[nodiscard]] WorkingOrder* emplace(const ClientOrderId& id, std::uint64_t hash) noexcept;
  // Removes the order with this id; false when it is not working.
  bool remove(const ClientOrderId& id) noexcept { return remove(id, id.hash()); }
  bool remove(const ClientOrderId& id, std::uint64_t hash) noexcept;

  [[nodiscard]] std::uint32_t size() const noexcept { return size_; }
  [[nodiscard]] std::uint32_t capacity() const noexcept { return static_cast<std::uint32_t>(orders_.size()); }
  [[nodiscard]] std::span<const WorkingOrder> all() const noexcept { return {orders_.data(), size_}; }

 private:
  std::vector<WorkingOrder> orders_;
  detail::FlatMap64 index_;
  std::uint32_t size_{0};
};

enum class KillScopeKind : std::uint8_t { all, venue, strategy, instrument };

struct KillScope {
  KillScopeKind kind{KillScopeKind::all};
  Venue venue{Venue::unknown};
  StrategyId strategy{0};
  InstrumentId instrument{kInvalidInstrument};

  [[nodiscard]] static constexpr KillScope everything() noexcept { return {}; }
  [[nodiscard]] static constexpr KillScope of_venue(Venue v) noexcept { return {KillScopeKind::venue, v, 0, kInvalidInstrument}; }
  [[nodiscard]] static constexpr KillScope of_strategy(StrategyId s) noexcept { return {KillScopeKind::strategy, Venue::unknown, s, kInvalidInstrument}; }
  [[nodiscard]] static constexpr KillScope of_instrument(InstrumentId i) noexcept { return {KillScopeKind::instrument, Venue::unknown, 0, i}; }

  [[nodiscard]] constexpr bool matches(Venue v, StrategyId s, InstrumentId i) const noexcept {
    switch (kind) {
      case KillScopeKind::all: return true;
      case KillScopeKind::venue: return v == venue;
      case KillScopeKind::strategy: return s == strategy;
      case KillScopeKind::instrument: return i == instrument;
    }
    return true;
  }
};

class KillSwitch {
 public:
  // Scopes latched at once; a trigger beyond this widens the latch to everything (fail safe).
  static constexpr std::size_t kMaxLatchedScopes = 8;

  explicit KillSwitch(std::uint32_t max_working_orders) : orders_(max_working_orders) {}

  // Latches `scope` and writes the client ids of the working orders in it to `out` (pass a span of
  // orders().capacity() to always get them all). Returns how many orders are in scope; when that is more
  // than out.size() only the first out.size() are written. The orders stay in the registry until the
  // venue confirms each cancel (the gate's on_cancel), so a second trigger lists them again.
  std::size_t trigger(const KillScope& scope, std::span<ClientOrderId> out) noexcept;

  // True when a latched scope covers an order for (venue, strategy, instrument).
  [[nodiscard]] bool blocks(Venue v, StrategyId s, InstrumentId i) const noexcept {
    for (std::size_t k = 0; k < latched_count_; ++k) {
      if (latched_[k].matches(v, s, i)) return true;
    }
    return false;
  }
  [[nodiscard]] bool latched() const noexcept { return latched_count_ != 0; }
  [[nodiscard]] std::span<const KillScope> latched_scopes() const noexcept { return {latched_.data(), latched_count_}; }
  // A person's explicit reset: clears every latch. Working orders are untouched.
  void reset() noexcept { latched_count_ = 0; }

  [[nodiscard]] WorkingOrders& orders() noexcept { return orders_; }
  [[nodiscard]] const WorkingOrders& orders() const noexcept { return orders_; }

 private:
  WorkingOrders orders_;
  std::array<KillScope, kMaxLatchedScopes> latched_{};
  std::size_t latched_count_{0};
};

}  // namespace enigma::risk
