#include "oms/order_manager.hpp"

#include <string>

namespace enigma::oms {

// ---- OrderTable ------------------------------------------------------------------------------------

OrderTable::OrderTable(std::uint32_t capacity) : orders_(capacity), index_(capacity) {}

Result<OrderState*> OrderTable::add(const OrderSpec& spec) noexcept {
  const std::uint64_t h = spec.req.client_id.hash();
  if (index_.contains(h)) return Result<OrderState*>::failure(Errc::out_of_range);
  if (size_ == orders_.size()) return Result<OrderState*>::failure(Errc::capacity);
  OrderState& o = orders_[size_];
  o = OrderState{};
  o.spec = spec;
  index_.insert(h, size_);
  ++size_;
  return Result<OrderState*>::success(&o);
}

OrderState* OrderTable::find(const ClientOrderId& id) noexcept {
  const std::uint32_t* i = index_.find(id.hash());
  if (i == nullptr || !(orders_[*i].client_id() == id)) return nullptr;
  return &orders_[*i];
}

std::size_t OrderTable::purge_terminal() noexcept {
  std::size_t removed = 0;
  for (std::uint32_t i = 0; i < size_;) {
    if (!is_terminal(orders_[i].status)) {
      ++i;
      continue;
    }
    index_.erase(orders_[i].client_id().hash());
    --size_;
    if (i != size_) {
      orders_[i] = orders_[size_];
      index_.insert(orders_[i].client_id().hash(), i);
    }
    ++removed;
  }
  return removed;
}

// ---- OrderManager ----------------------------------------------------------------------------------

namespace {
const std::string& require_path(const std::string& path) {
  if (path.empty()) throw Error("order manager: journal_path is required");
  return path;
}
}  // namespace

OrderManager::OrderManager(OrderManagerConfig cfg)
    : orders_(cfg.max_orders),
      positions_(cfg.max_positions),
      oco_(cfg.max_oco_pairs),
      oco_first_leg_(cfg.max_oco_pairs),
      oco_first_group_(cfg.max_oco_pairs, 0),
      journal_(require_path(cfg.journal_path), cfg.journal) {
  const JournalReplay r = Journal::replay(cfg.journal_path);
  // Finished orders are history; only what may still be live at the venue comes back into the table.
  for (const OrderState& o : r.orders) {
    if (is_terminal(o.status)) continue;
    auto added = orders_.add(o.spec);
    if (!added.ok()) throw Error("order manager: journal " + cfg.journal_path + " holds more open orders than max_orders");
    *added.value = o;
    pair_oco(o);
  }
  for (const Position& p : r.positions) {
    if (p.id >= next_position_id_) next_position_id_ = p.id + 1;
    if (p.state == PositionState::closed) continue;
    if (position_count_ == positions_.size()) {
      throw Error("order manager: journal " + cfg.journal_path + " holds more open positions than max_positions");
    }
    positions_[position_count_++] = p;
  }
  // Closed positions are not in a rolled-over segment's snapshot; their ids are still never reused.
  if (r.max_position_id >= next_position_id_) next_position_id_ = r.max_position_id + 1;
  next_client_counter_ = r.next_client_counter > 0 ? r.next_client_counter : 1;
}

Position* OrderManager::position(std::uint32_t id) noexcept {
  for (std::uint32_t i = 0; i < position_count_; ++i) {
    if (positions_[i].id == id) return &positions_[i];
  }
  return nullptr;
}

std::uint32_t OrderManager::open_position_id(InstrumentId instrument, Side side) const noexcept {
  std::uint32_t best = 0;
  for (std::uint32_t i = 0; i < position_count_; ++i) {
    const Position& p = positions_[i];
    if (p.is_open() && p.instrument == instrument && p.side == side && (best == 0 || p.id < best)) best = p.id;
  }
  return best;
}

void OrderManager::journal_position(const Position& p, std::int64_t now_ns) noexcept {
  if (journal_.append_position(p, now_ns) != Errc::ok) ++journal_errors_;
}

Result<Position*> OrderManager::open_position(InstrumentId instrument, Side side, Price reference_px, Price stop,
                                              std::int64_t now_ns) noexcept {
  auto p = open_signal(next_position_id_, instrument, side, reference_px, stop);
  if (!p.ok()) return Result<Position*>::failure(p.error);
  // Reuse the slot of a closed position before growing.
  Position* slot = nullptr;
  for (std::uint32_t i = 0; i < position_count_ && slot == nullptr; ++i) {
    if (positions_[i].state == PositionState::closed) slot = &positions_[i];
  }
  if (slot == nullptr) {
    if (position_count_ == positions_.size()) return Result<Position*>::failure(Errc::capacity);
    slot = &positions_[position_count_++];
  }
  *slot = p.value;
  ++next_position_id_;
  journal_position(*slot, now_ns);
  return Result<Position*>::success(slot);
}

void OrderManager::pair_oco(const OrderState& o) noexcept {
  const std::uint32_t g = o.spec.oco_group;
  if (g == 0) return;
  for (std::size_t i = 0; i < oco_first_group_.size(); ++i) {
    if (oco_first_group_[i] == g) {
      (void)oco_.link(g, oco_first_leg_[i], o.client_id());
      oco_first_group_[i] = 0;
      return;
    }
  }
  for (std::size_t i = 0; i < oco_first_group_.size(); ++i) {
    if (oco_first_group_[i] == 0) {
      oco_first_group_[i] = g;
      oco_first_leg_[i] = o.client_id();
      return;
    }
  }
}

Result<OrderState*> OrderManager::submit(const OrderSpec& spec, std::uint64_t next_client_counter,
                                         std::int64_t now_ns) noexcept {
  Position* pos = nullptr;
  if (spec.position_id != 0) {
    pos = position(spec.position_id);
    if (pos == nullptr) return Result<OrderState*>::failure(Errc::not_found);
  }
  auto added = orders_.add(spec);
  if (!added.ok()) return added;
  // Written before the order leaves: a crash after this line cannot lose it.
  if (journal_.append_order(spec, next_client_counter, now_ns) != Errc::ok) {
    ++journal_errors_;
    added.value->status = OrderStatus::rejected;  // never sent
    added.value->reason = Reason::venue_error;
    return Result<OrderState*>::failure(Errc::io);
  }
  if (next_client_counter > next_client_counter_) next_client_counter_ = next_client_counter;
  OrderState* o = added.value;
  (void)mark_sent(*o);
  pair_oco(*o);
  const bool is_entry = pos != nullptr && spec.req.side == pos->side && !spec.req.reduce_only;
  if (is_entry && pos->state == PositionState::signal) {
    (void)mark_entry_sent(*pos);
    journal_position(*pos, now_ns);
  }
  return Result<OrderState*>::success(o);
}

Errc OrderManager::cancel(const ClientOrderId& id, std::int64_t now_ns) noexcept {
  OrderState* o = orders_.find(id);
  if (o == nullptr) return Errc::not_found;
  if (!is_working(o->status) || o->status == OrderStatus::pending_cancel) return Errc::out_of_range;
  if (journal_.append_cancel(id, now_ns) != Errc::ok) ++journal_errors_;
  (void)mark_cancel_sent(*o);
  return Errc::ok;
}

Errc OrderManager::on_timeout(const ClientOrderId& id, std::int64_t now_ns) noexcept {
  OrderState* o = orders_.find(id);
  if (o == nullptr) return Errc::not_found;
  if (journal_.append_unknown(id, now_ns) != Errc::ok) ++journal_errors_;
  return mark_unknown(*o) ? Errc::ok : Errc::out_of_range;
}

ReportOutcome OrderManager::on_report(const ExecReport& r, std::int64_t now_ns) noexcept {
  ReportOutcome out{};
  out.order = orders_.find(r.client_id);
  if (out.order == nullptr) return out;
  if (journal_.append_report(r, now_ns) != Errc::ok) ++journal_errors_;
  OrderState& o = *out.order;
  out.applied = apply(o, r);
  out.cancel_sibling = oco_.on_report(r);
  if (o.spec.position_id == 0) return out;
  Position* pos = position(o.spec.position_id);
  out.position = pos;
  if (pos == nullptr) return out;
  const bool is_entry = o.spec.req.side == pos->side && !o.spec.req.reduce_only;
  const PositionState before = pos->state;
  const Qty qty_before = pos->qty;
  if (out.applied.fill_qty.raw() > 0) {
    if (is_entry) (void)on_entry_fill(*pos, out.applied.fill_qty, out.applied.fill_px);
    else (void)on_exit_fill(*pos, out.applied.fill_qty, out.applied.fill_px);
  }
  if (is_entry && out.applied.became_terminal) on_entry_done(*pos);
  if (pos->state != before || pos->qty != qty_before) journal_position(*pos, now_ns);
  return out;
}

Errc OrderManager::trail_stop(std::uint32_t position_id, Price new_stop, std::int64_t now_ns) noexcept {
  Position* pos = position(position_id);
  if (pos == nullptr) return Errc::not_found;
  const Errc e = oms::trail_stop(*pos, new_stop);
  if (e == Errc::ok) journal_position(*pos, now_ns);
  return e;
}

}  // namespace enigma::oms
