#include "oms/entry_pricing.hpp"

namespace enigma::oms {

EntryQuote entry_price(Side side, std::span<const PriceLevel> bids, std::span<const PriceLevel> asks,
                       const EntryPricingConfig& cfg) noexcept {
  EntryQuote q{};
  const std::span<const PriceLevel> book_side = side == Side::buy ? bids : asks;
  if (bids.empty() || asks.empty() || book_side.size() <= cfg.level_index) {
    q.reason = Reason::insufficient_depth;
    return q;
  }
  // Mid in raw units; the half-tick truncation is far below any slippage bound we configure.
  q.mid = Price::from_raw((bids[0].price.raw() + asks[0].price.raw()) / 2);
  q.price = book_side[cfg.level_index].price;
  const std::int64_t dev = q.price.raw() > q.mid.raw() ? q.price.raw() - q.mid.raw() : q.mid.raw() - q.price.raw();
  // dev / mid > max_slippage  <=>  dev * 10^10 > max_slippage.raw * mid   (Rate has 10 decimals)
  const int128 lhs = static_cast<int128>(dev) * Rate::kScale;
  const int128 rhs = static_cast<int128>(cfg.max_slippage.raw()) * q.mid.raw();
  if (lhs > rhs) q.reason = Reason::slippage_exceeded;
  return q;
}

}  // namespace enigma::oms
