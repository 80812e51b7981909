#include "risk/kill_switch.hpp"

#include "core/error.hpp"

namespace enigma::risk {

WorkingOrders::WorkingOrders(std::uint32_t capacity) : orders_(capacity), index_(capacity) {
  if (capacity == 0) throw Error("risk.max_open_orders: must be >= 1");
}

WorkingOrder* WorkingOrders::emplace(const ClientOrderId& id, std::uint64_t hash) noexcept {
  if (size_ == orders_.size() || index_.contains(hash)) return nullptr;
  WorkingOrder* slot = &orders_[size_];
  slot->id = id;
  slot->hash = hash;
  index_.insert(hash, size_);
  ++size_;
  return slot;
}

bool WorkingOrders::remove(const ClientOrderId& id, std::uint64_t hash) noexcept {
  const std::uint32_t* idx = index_.find(hash);
  if (idx == nullptr || !(orders_[*idx].id == id)) return false;
  const std::uint32_t pos = *idx;
  index_.erase(hash);
  const std::uint32_t last = size_ - 1;
  if (pos != last) {
    // Keep the array dense: the last order takes the freed slot and its index entry follows it.
    orders_[pos] = orders_[last];
    index_.insert(orders_[pos].hash, pos);
  }
  --size_;
  return true;
}

std::size_t KillSwitch::trigger(const KillScope& scope, std::span<ClientOrderId> out) noexcept {
  bool already = false;
  for (std::size_t k = 0; k < latched_count_; ++k) {
    const KillScope& l = latched_[k];
    if (l.kind == KillScopeKind::all || (l.kind == scope.kind && l.venue == scope.venue &&
                                         l.strategy == scope.strategy && l.instrument == scope.instrument)) {
      already = true;
    }
  }
  if (!already) {
    if (scope.kind == KillScopeKind::all || latched_count_ == kMaxLatchedScopes) {
      latched_[0] = KillScope::everything();
      latched_count_ = 1;
    } else {
      latched_[latched_count_++] = scope;
    }
  }
  std::size_t n = 0;
  for (const WorkingOrder& o : orders_.all()) {
    if (!scope.matches(o.venue, o.strategy, o.instrument)) continue;
    if (n < out.size()) out[n] = o.id;
    ++n;
  }
  return n;
}

}  // namespace enigma::risk
