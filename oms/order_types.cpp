#include "oms/order_types.hpp"

namespace enigma::oms {

Result<Bracket> make_bracket(const BracketParams& p, ClientIdGenerator& ids) noexcept {
  const OrderRequest& e = p.entry;
  const Price ref = e.type == OrderType::limit && e.price.raw() > 0 ? e.price : e.reference_price;
  const bool is_long = e.side == Side::buy;
  const bool stop_ok = p.stop_loss.raw() > 0 && (is_long ? p.stop_loss < ref : p.stop_loss > ref);
  const bool has_tp = p.take_profit.raw() > 0;
  const bool tp_ok = !has_tp || (p.oco_group != 0 && (is_long ? p.take_profit > ref : p.take_profit < ref));
  if (e.qty.raw() <= 0 || ref.raw() <= 0 || !stop_ok || !tp_ok) return Result<Bracket>::failure(Errc::out_of_range);

  Bracket b{};
  b.entry.req = e;
  b.entry.req.client_id = ids.next();
  b.entry.req.stop_loss = p.stop_loss;
  b.entry.req.take_profit = p.take_profit;
  b.entry.position_id = p.position_id;

  // Exits: reduce-only so they can never open or flip a position, whatever fills first.
  OrderSpec exit{};
  exit.req = e;
  exit.req.side = opposite(e.side);
  exit.req.price = Price{};
  exit.req.tif = TimeInForce::gtc;
  exit.req.reduce_only = true;
  exit.req.stop_loss = Price{};
  exit.req.take_profit = Price{};
  exit.oco_group = has_tp ? p.oco_group : 0;
  exit.position_id = p.position_id;

  b.stop_loss = exit;
  b.stop_loss.req.type = OrderType::stop_market;
  b.stop_loss.req.stop_price = p.stop_loss;
  b.stop_loss.req.client_id = ids.next();
  if (has_tp) {
    b.take_profit = exit;
    b.take_profit.req.type = OrderType::take_profit_market;
    b.take_profit.req.stop_price = p.take_profit;
    b.take_profit.req.client_id = ids.next();
  }
  return Result<Bracket>::success(b);
}

OcoTracker::OcoTracker(std::size_t capacity) : pairs_(capacity) {}

Errc OcoTracker::link(std::uint32_t group, const ClientOrderId& a, const ClientOrderId& b) noexcept {
  if (group == 0) return Errc::out_of_range;
  for (Pair& p : pairs_) {
    if (!p.live) {
      p = Pair{a, b, group, true};
      return Errc::ok;
    }
  }
  return Errc::capacity;
}

std::optional<ClientOrderId> OcoTracker::on_report(const ExecReport& r) noexcept {
  const bool trades = r.kind == ExecKind::fill || r.kind == ExecKind::triggered ||
                      (r.kind == ExecKind::status && r.cum_qty.raw() > 0);
  const bool ends = r.kind == ExecKind::canceled || r.kind == ExecKind::rejected || r.kind == ExecKind::expired;
  for (Pair& p : pairs_) {
    if (!p.live) continue;
    const bool is_a = p.a == r.client_id;
    if (!is_a && !(p.b == r.client_id)) continue;
    if (trades) {
      p.live = false;
      return is_a ? p.b : p.a;
    }
    // A leg that died without trading: the other leg stays as the position's only exit, so it must not be
    // canceled; the pair simply stops being one.
    if (ends) p.live = false;
    return std::nullopt;
  }
  return std::nullopt;
}

std::size_t OcoTracker::live_pairs() const noexcept {
  std::size_t n = 0;
  for (const Pair& p : pairs_) n += p.live ? 1 : 0;
  return n;
}

Errc take_profit_ladder(Qty total, Qty lot, std::span<Qty> out) noexcept {
  if (out.empty() || lot.raw() <= 0 || total.raw() <= 0 || !total.is_multiple_of(lot)) return Errc::out_of_range;
  const auto n = static_cast<std::int64_t>(out.size());
  const std::int64_t lots = total.raw() / lot.raw();
  const std::int64_t per = lots / n;  // whole lots per level
  if (per == 0) return Errc::out_of_range;
  for (std::int64_t i = 0; i + 1 < n; ++i) out[static_cast<std::size_t>(i)] = Qty::from_raw(per * lot.raw());
  out[out.size() - 1] = Qty::from_raw((lots - per * (n - 1)) * lot.raw());
  return Errc::ok;
}

Result<std::size_t> split_order(Qty total, Qty max_child, Qty lot, std::span<Qty> out) noexcept {
  if (lot.raw() <= 0 || total.raw() <= 0 || !total.is_multiple_of(lot)) {
    return Result<std::size_t>::failure(Errc::out_of_range);
  }
  const Qty child = max_child.round_to(lot, Rounding::down);
  if (child.raw() <= 0) return Result<std::size_t>::failure(Errc::out_of_range);
  const std::int64_t full = total.raw() / child.raw();
  const Qty rest = Qty::from_raw(total.raw() - full * child.raw());
  const std::size_t count = static_cast<std::size_t>(full) + (rest.raw() > 0 ? 1 : 0);
  if (count > out.size()) return Result<std::size_t>::failure(Errc::capacity);
  for (std::int64_t i = 0; i < full; ++i) out[static_cast<std::size_t>(i)] = child;
  if (rest.raw() > 0) out[count - 1] = rest;
  return Result<std::size_t>::success(count);
}

}  // namespace enigma::oms
