// The strategy stage: what the engine calls on book, trade and candle events and on fills.
//
// Strategies are concrete types checked against the StrategyLike concept and held in a std::variant of every
// registered strategy (strategy/registry.hpp: generated from strategy/strategies/ at configure time), so the
// per-event call is a switch on the variant index plus inlinable direct calls: no virtual dispatch on the hot
// path. Each strategy filters events by its own instrument and fills by its strategy id. Intents are
// appended to the caller's IntentBuffer; the engine forwards them to risk.
#pragma once

#include <concepts>
#include <cstddef>
#include <type_traits>
#include <variant>
#include <vector>

#include "core/events.hpp"
#include "strategy/intent.hpp"
#include "strategy/order_flow.hpp"
#include "strategy/registered_strategies.hpp"  // generated: every strategy of strategy/strategies/
#include "strategy/registry.hpp"
#include "strategy/selector.hpp"

namespace enigma::strategy {

template <class S>
concept StrategyLike = requires(S& s, const EventHeader& h, const BookTop& b, const Trade& t, const Candle& c,
                                const Fill& f, IntentBuffer& out) {
  { s.on_book(h, b, out) }
  noexcept;
  { s.on_trade(h, t, out) }
  noexcept;
  { s.on_candle(h, c, out) }
  noexcept;
  { s.on_fill(f, out) }
  noexcept;
  { s.id() } -> std::same_as<std::uint16_t>;
  { s.instrument() } -> std::same_as<InstrumentId>;
};

// Every registered strategy, as the hot path holds it: a switch on the index, then direct calls.
using AnyStrategy = RegisteredStrategies::Variant;
static_assert([]<class... S>(std::type_identity<std::variant<S...>>) { return (StrategyLike<S> && ...); }(
                  std::type_identity<AnyStrategy>{}),
              "every registered strategy has the noexcept hot-path calls of StrategyLike");

class StrategyStage {
 public:
  // Cold path: takes the configured strategies (constructed, hence validated) for the run, and the selector
  // over some of them (strategy/selector.hpp; none by default).
  explicit StrategyStage(std::vector<AnyStrategy> strategies, const SelectorConfig& selector = {})
      : strategies_(std::move(strategies)), selector_(selector) {}

  void on_book(const EventHeader& h, const BookTop& book, IntentBuffer& out) noexcept {
    IntentBuffer& o = sink(out);
    for (AnyStrategy& s : strategies_) std::visit([&](auto& x) { x.on_book(h, book, o); }, s);
    select(out, h.venue_time_ns);
  }
  void on_trade(const EventHeader& h, const Trade& trade, IntentBuffer& out) noexcept {
    IntentBuffer& o = sink(out);
    for (AnyStrategy& s : strategies_) std::visit([&](auto& x) { x.on_trade(h, trade, o); }, s);
    select(out, h.venue_time_ns);
  }
  void on_candle(const EventHeader& h, const Candle& candle, IntentBuffer& out) noexcept {
    IntentBuffer& o = sink(out);
    for (AnyStrategy& s : strategies_) std::visit([&](auto& x) { x.on_candle(h, candle, o); }, s);
    select(out, h.venue_time_ns);
  }
  void on_fill(const Fill& fill, IntentBuffer& out) noexcept {
    if (selector_.active()) selector_.on_fill(fill);
    IntentBuffer& o = sink(out);
    for (AnyStrategy& s : strategies_) std::visit([&](auto& x) { x.on_fill(fill, o); }, s);
    select(out, last_ns_);
  }
  // Trade and candle events straight from a ring; book events go through the book stage, which calls
  // on_book with its top-N view. Other event types are ignored.
  void on_event(const Event& e, IntentBuffer& out) noexcept {
    if (e.h.type == EventType::trade) {
      on_trade(e.h, e.trade, out);
    } else if (e.h.type == EventType::candle) {
      on_candle(e.h, e.candle, out);
    }
  }

  [[nodiscard]] std::size_t size() const noexcept { return strategies_.size(); }
  [[nodiscard]] AnyStrategy& at(std::size_t i) noexcept { return strategies_[i]; }
  [[nodiscard]] const AnyStrategy& at(std::size_t i) const noexcept { return strategies_[i]; }
  [[nodiscard]] const Selector& selector() const noexcept { return selector_; }

 private:
  // With a selector the strategies write into scratch_, which the selector filters into the caller's buffer.
  IntentBuffer& sink(IntentBuffer& out) noexcept {
    if (!selector_.active()) return out;
    scratch_.clear();
    return scratch_;
  }
  void select(IntentBuffer& out, std::int64_t now_ns) noexcept {
    if (!selector_.active()) return;
    if (now_ns > last_ns_) last_ns_ = now_ns;
    if (!scratch_.empty()) selector_.filter(scratch_.view(), out, last_ns_);
  }

  std::vector<AnyStrategy> strategies_;
  Selector selector_;
  IntentBuffer scratch_;
  std::int64_t last_ns_{0};  // data time of the latest event (fills carry none)
};

}  // namespace enigma::strategy
