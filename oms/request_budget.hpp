// A venue's request budget as the venue counts it (issue 17 item 3), venue-neutral: up to three fixed
// windows (a weight window and two order-count windows), each a limit per interval aligned to the epoch the
// way the venues count them (Binance resets its counters at each clock minute / 10 s). Every request the
// live gateway sends takes from it first; the venue's own counters (Binance X-MBX-USED-WEIGHT-1M,
// X-MBX-ORDER-COUNT-10S/-1M; KuCoin gw-ratelimit-remaining) refresh it, since other sessions on the same IP
// or account spend the same budget.
//
// Priority: new orders may only use the share of each window outside `reserve_pct`; cancels, the kill's
// cancel-all, dead-man refreshes, status queries and keep-alives may use all of it, so a burst of entries
// can never leave the kill without budget. A venue's "too many requests" (429) stops new orders until its
// Retry-After has passed; a ban (Binance 418) stops new orders for good and every other request until the
// ban's end.
//
// Single-threaded (the gateway's I/O thread); times are wall-clock nanoseconds, passed in (tests inject them).
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <string_view>

#include "oms/venue_answer.hpp"

namespace enigma::oms {

enum class RequestPriority : std::uint8_t {
  new_order,  // entries, closes, stops: refused first when the budget is short
  other,      // status queries, listen-key keep-alives
  cancel,     // cancels, cancel-all (the kill), the dead-man timer
};

// What one request costs in each window.
struct RequestCost {
  std::uint32_t weight{1};  // the weight window (Binance REQUEST_WEIGHT per IP)
  std::uint32_t orders{0};  // both order-count windows (Binance ORDERS per account)
};

struct BudgetWindow {
  std::int64_t window_ns{0};
  std::uint32_t limit{0};  // 0: no such window
};

// What each kind of request costs, indexed by RestRequest. The default is Binance USD-M's (the endpoints'
// documented weights): a new order counts 1 against both ORDERS windows and 0 against the IP's
// REQUEST_WEIGHT; cancel, batch cancel, query and cancel-all weigh 1; countdownCancelAll weighs 10.
inline constexpr std::size_t kRestRequestKinds = 6;
using RequestCosts = std::array<RequestCost, kRestRequestKinds>;
static_assert(static_cast<std::size_t>(RestRequest::cancel_batch) + 1 == kRestRequestKinds);
inline constexpr RequestCosts kBinanceUsdmCosts{{{0, 1}, {1, 0}, {1, 0}, {1, 0}, {10, 0}, {1, 0}}};

struct RequestBudgetConfig {
  BudgetWindow weight;
  BudgetWindow orders_short;
  BudgetWindow orders_long;
  std::uint32_t reserve_pct{20};  // share of each window kept for cancels, the kill, queries, keep-alives
  RequestCosts costs{kBinanceUsdmCosts};
  // What a start-up call (open orders, positions, fee rates) counts in the order windows besides its weight
  // (KuCoin: every request is one of the plan's per 3 s; Binance counts only orders there).
  std::uint32_t call_orders{0};
  // The least time between two dead-man refreshes (OKX takes one cancel-all-after per second and refuses a
  // second within it, 50011, leaving the countdown armed); 0: no spacing.
  std::int64_t countdown_spacing_ns{0};
  [[nodiscard]] constexpr RequestCost cost(RestRequest k) const noexcept { return costs[static_cast<std::size_t>(k)]; }
};

// Binance USD-M futures (GET /fapi/v1/exchangeInfo rateLimits): REQUEST_WEIGHT 2400 / minute per IP,
// ORDERS 300 / 10 s and 1200 / minute per account.
[[nodiscard]] constexpr RequestBudgetConfig binance_usdm_budget() noexcept {
  return {{60'000'000'000, 2400}, {10'000'000'000, 300}, {60'000'000'000, 1200}, 20};
}
// KuCoin Futures private endpoints: the venue's resource pool, 2000 weight per 30 s (VIP0; each endpoint has a
// documented weight, https://www.kucoin.com/docs-new/rate-limit; the gw-ratelimit-* answer headers say what is
// left), and the trading plan's own cap of 75 requests per 3 s (every request counts 1 in the short window).
// Each request counts 1 in the short window and its weight in the pool: place order 2, cancel 1, cancel all 10,
// order by clientOid 5.
[[nodiscard]] constexpr RequestBudgetConfig kucoin_futures_private_budget() noexcept {
  return {{30'000'000'000, 2000}, {3'000'000'000, 75}, {}, 20, {{{2, 1}, {1, 1}, {5, 1}, {10, 1}, {1, 1}, {1, 1}}}, 1};
}

// Bybit V5 (https://bybit-exchange.github.io/docs/v5/rate-limit): per UID, each trade endpoint (create,
// cancel, cancel-all) 10 requests / s for linear; counted here as one window of 10 requests per second.
[[nodiscard]] constexpr RequestBudgetConfig bybit_linear_budget() noexcept {
  return {{}, {1'000'000'000, 10}, {}, 20, {{{0, 1}, {0, 1}, {0, 1}, {0, 1}, {0, 1}, {0, 1}}}};
}

// OKX V5 (https://www.okx.com/docs-v5/en/, each endpoint's "Rate Limit"): place order, cancel order and order
// details 60 requests / 2 s each (per instrument for orders; per UID); counted here as one window of 60
// requests per 2 s across them, the strictest of the trade endpoints.
[[nodiscard]] constexpr RequestBudgetConfig okx_swap_budget() noexcept {
  // One cancel-all-after per second: spaced 1.25 s, since the venue counts from its own receive times and a
  // first request may have left late (it waited for its connection; seen under TSan).
  return {{}, {2'000'000'000, 60}, {}, 20, {{{0, 1}, {0, 1}, {0, 1}, {0, 1}, {0, 1}, {0, 1}}}, 0, 1'250'000'000};
}

enum class BudgetVerdict : std::uint8_t {
  ok,           // taken: send it
  wait,         // a cancel / query / keep-alive over the window's limit: send it once next_window_ns() passed
  over_budget,  // a new order over its share: refuse it locally (a late entry is a stale one)
  backing_off,  // a new order while the venue's Retry-After runs
  banned,       // after a venue ban: new orders always, other requests until the ban ends
};
[[nodiscard]] constexpr std::string_view to_string(BudgetVerdict v) noexcept {
  switch (v) {
    case BudgetVerdict::ok: return "ok";
    case BudgetVerdict::wait: return "wait";
    case BudgetVerdict::over_budget: return "over_budget";
    case BudgetVerdict::backing_off: return "backing_off";
    case BudgetVerdict::banned: return "banned";
  }
  return "?";
}

class RequestBudget {
 public:
  explicit RequestBudget(RequestBudgetConfig cfg = binance_usdm_budget()) noexcept
      : cfg_(cfg), weight_{cfg.weight}, short_{cfg.orders_short}, long_{cfg.orders_long} {}

  // Takes `cost` from every window, or says why not. Nothing is taken unless the verdict is ok.
  [[nodiscard]] BudgetVerdict try_take(RequestPriority p, RequestCost cost, std::int64_t now_ns) noexcept {
    const bool entry = p == RequestPriority::new_order;
    if (banned_ && (entry || now_ns < ban_until_ns_)) return BudgetVerdict::banned;
    if (entry && now_ns < backoff_until_ns_) return BudgetVerdict::backing_off;
    const std::uint32_t pct = entry ? 100 - std::min<std::uint32_t>(cfg_.reserve_pct, 100) : 100;
    if (!weight_.fits(cost.weight, pct, now_ns) || !short_.fits(cost.orders, pct, now_ns) ||
        !long_.fits(cost.orders, pct, now_ns))
      return entry ? BudgetVerdict::over_budget : BudgetVerdict::wait;
    weight_.used += cost.weight;
    short_.used += cost.orders;
    long_.used += cost.orders;
    return BudgetVerdict::ok;
  }

  // Takes `cost` from every window whatever is left (a request that leaves anyway and that the venue counts:
  // KuCoin's private-stream token POST, without which no fill reaches us). May put a window over its limit;
  // what follows then waits (or is refused) as try_take says.
  void charge(RequestCost cost, std::int64_t now_ns) noexcept {
    for (auto [w, n] : {std::pair{&weight_, cost.weight}, std::pair{&short_, cost.orders}, std::pair{&long_, cost.orders}}) {
      if (w->cfg.limit == 0) continue;
      w->roll(now_ns);
      w->used += n;
    }
  }

  // The venue's own count for the current window (it may include other sessions' requests): ours becomes
  // the larger of the two.
  void observe_used_weight(std::uint32_t used, std::int64_t now_ns) noexcept { weight_.observe(used, now_ns); }
  void observe_orders_short(std::uint32_t used, std::int64_t now_ns) noexcept { short_.observe(used, now_ns); }
  void observe_orders_long(std::uint32_t used, std::int64_t now_ns) noexcept { long_.observe(used, now_ns); }

  // HTTP 429: no new order before `until_ns` (a later back-off extends it, an earlier one never shortens it).
  void back_off_until(std::int64_t until_ns) noexcept { backoff_until_ns_ = std::max(backoff_until_ns_, until_ns); }
  // HTTP 418 (IP ban): no new order for the rest of this budget's life, nothing at all before `until_ns`.
  void ban_until(std::int64_t until_ns) noexcept {
    banned_ = true;
    ban_until_ns_ = std::max(ban_until_ns_, until_ns);
  }

  // Earliest time a `wait` verdict may change: the start of the next window of the tightest limit.
  [[nodiscard]] std::int64_t next_window_ns(std::int64_t now_ns) const noexcept {
    std::int64_t t = now_ns + 1'000'000;  // no window: look again in 1 ms
    for (const Window* w : {&weight_, &short_, &long_})
      if (w->cfg.limit != 0) t = std::max(t, w->start(now_ns) + w->cfg.window_ns);
    return std::max(t, banned_ ? ban_until_ns_ : t);
  }
  [[nodiscard]] std::uint32_t used_weight(std::int64_t now_ns) const noexcept { return weight_.current(now_ns); }
  [[nodiscard]] std::uint32_t orders_short(std::int64_t now_ns) const noexcept { return short_.current(now_ns); }
  [[nodiscard]] std::uint32_t orders_long(std::int64_t now_ns) const noexcept { return long_.current(now_ns); }
  [[nodiscard]] std::int64_t backoff_until_ns() const noexcept { return backoff_until_ns_; }
  [[nodiscard]] bool banned() const noexcept { return banned_; }
  [[nodiscard]] const RequestBudgetConfig& config() const noexcept { return cfg_; }

 private:
  struct Window {
    BudgetWindow cfg;
    std::int64_t started_ns{-1};
    std::uint32_t used{0};
    [[nodiscard]] std::int64_t start(std::int64_t now_ns) const noexcept { return now_ns - now_ns % cfg.window_ns; }
    void roll(std::int64_t now_ns) noexcept {
      if (cfg.limit == 0) return;
      const std::int64_t s = start(now_ns);
      if (s != started_ns) {
        started_ns = s;
        used = 0;
      }
    }
    [[nodiscard]] bool fits(std::uint32_t cost, std::uint32_t pct, std::int64_t now_ns) noexcept {
      // A request that costs nothing here passes, unless this window is already past a new order's share
      // (Binance: a new order weighs 0 on the IP's weight, yet a nearly spent weight is kept for cancels).
      if (cfg.limit == 0 || (cost == 0 && pct == 100)) return true;
      roll(now_ns);
      return static_cast<std::uint64_t>(used + cost) * 100 <= static_cast<std::uint64_t>(cfg.limit) * pct;
    }
    void observe(std::uint32_t venue_used, std::int64_t now_ns) noexcept {
      if (cfg.limit == 0) return;
      roll(now_ns);
      used = std::max(used, venue_used);
    }
    [[nodiscard]] std::uint32_t current(std::int64_t now_ns) const noexcept {
      return cfg.limit != 0 && start(now_ns) == started_ns ? used : 0;
    }
  };

  RequestBudgetConfig cfg_;
  Window weight_, short_, long_;
  std::int64_t backoff_until_ns_{0};
  std::int64_t ban_until_ns_{0};
  bool banned_{false};
};

}  // namespace enigma::oms
