// The strategy registry: what a strategy type must provide to plug into the engine, and the list of them.
//
// A strategy is one header in strategy/strategies/ that defines a type S with
//   * `static constexpr std::string_view kName` (the config's `kind`; its sub-table is kName with '-' -> '_'),
//     `kSummary` (one line for `enigma strategies`),
//   * `using Config = ...;` a struct with `StrategyCommonConfig common` (id, instrument, order_qty, tick, lot:
//     the engine fills it), `void read(config::TableReader&)` (its keys, defaults and ranges; errors name the
//     key) and `void validate() const` (throws enigma::Error naming the field),
//   * a constructor from `const Config&` and the StrategyLike hot-path calls (strategy.hpp),
// and registers it with one line `ENIGMA_REGISTER_STRATEGY(S);` at namespace scope. CMake scans the headers
// for that line at configure time (cmake/strategy_registry.cmake) and generates
// <build>/generated/strategy/registered_strategies.hpp, which includes them and defines
// `RegisteredStrategies = StrategyList<S...>` (included by strategy/strategy.hpp): the variant the hot path dispatches
// on, the tuple of configs the config parser fills and the name table the CLI lists.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

#include "core/config.hpp"
#include "strategy/intent.hpp"

namespace enigma::strategy {

template <class S>
concept RegisteredStrategy = requires(typename S::Config& c, config::TableReader& t) {
  { S::kName } -> std::convertible_to<std::string_view>;
  { S::kSummary } -> std::convertible_to<std::string_view>;
  { c.common } -> std::convertible_to<StrategyCommonConfig&>;
  c.read(t);
  static_cast<const typename S::Config&>(c).validate();
}
&&std::constructible_from<S, const typename S::Config&>&& std::default_initializable<typename S::Config>;

// The line CMake looks for (one per strategy header, at namespace scope, starting its line).
#define ENIGMA_REGISTER_STRATEGY(Type)                        \
  static_assert(::enigma::strategy::RegisteredStrategy<Type>, \
                #Type " lacks kName, kSummary, Config (common, read, validate) or a constructor from Config")

template <class... S>
struct StrategyList {
  using Variant = std::variant<S...>;
  using Configs = std::tuple<typename S::Config...>;
  static constexpr std::size_t size = sizeof...(S);
  static constexpr std::array<std::string_view, sizeof...(S)> names{S::kName...};
  static constexpr std::array<std::string_view, sizeof...(S)> summaries{S::kSummary...};

  [[nodiscard]] static constexpr std::optional<std::size_t> find(std::string_view name) noexcept {
    for (std::size_t i = 0; i < size; ++i)
      if (names[i] == name) return i;
    return std::nullopt;
  }
  // f(std::type_identity<S>{}, index) for every strategy in registry order.
  template <class F>
  static void for_each(F&& f) {
    [&]<std::size_t... I>(std::index_sequence<I...>) { (f(std::type_identity<S>{}, I), ...); }
    (std::index_sequence_for<S...>{});
  }
  // The strategy of registry index `kind`, built from its config (throws what the constructor throws).
  [[nodiscard]] static Variant make(std::size_t kind, const Configs& configs) {
    std::optional<Variant> out;
    for_each([&]<class T>(std::type_identity<T>, std::size_t i) {
      if (i == kind) out.emplace(std::in_place_type<T>, std::get<typename T::Config>(configs));
    });
    return std::move(*out);
  }
};

// The sub-table of a kind: "mean-reversion" -> "mean_reversion".
[[nodiscard]] inline std::string table_key(std::string_view kind) {
  std::string s(kind);
  for (char& c : s)
    if (c == '-') c = '_';
  return s;
}

}  // namespace enigma::strategy
