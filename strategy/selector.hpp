// Selectors: several strategy instances ("arms") on one instrument share its position, and a selector decides
// whose entries go out (issue 15 item 5). The arms run on every event as usual; the selector filters their
// intents before risk. Intents of strategies that are not members pass untouched.
//
// Ownership, common to both kinds: the instrument's position belongs to at most one arm at a time. While an
// arm owns it, only that arm's intents pass (its exits, further entries); every other member's intent is
// suppressed (counted). An arm becomes the owner when its entry passes. Each time its fills bring its position
// back to flat a round trip ends and its reward is booked; the ownership ends there unless an entry of the
// owner that passed has not met a fill yet (a reversal: exit and new entry sent together). Flat with such an
// entry still unfilled `pending_timeout_ms` of data time after it passed (risk refused it, or it was
// cancelled unfilled), the ownership lapses (counted) and the arm is booked a round trip of reward 0 (so an arm
// whose entries the risk gate always refuses is not chosen forever as "untried").
//
// ucb: every entry goes to the arm with the highest UCB1 score over the round trips booked so far:
//   score(k) = mean_reward(k) + exploration * sqrt(ln(N) / n(k)),  N = trips of every arm, n(k) = arm k's;
//   an arm with no trip yet scores +infinity (arms are tried in member order first); ties go to the arm
//   listed first. Only the chosen arm's entry passes while no arm owns the position.
// committee: while no arm owns the position, an entry intent of arm k is arm k's vote for its side, kept for
//   `vote_window_ms` of data time (a later vote of the same arm replaces it). An entry passes when the
//   weights of the arms voting for its side, minus those voting against, reach quorum x the sum of all the
//   members' weights; the arm whose entry completed the quorum owns the position. Votes are cleared then.
//   The risk gate still checks (and may veto) the entry like any other. With `learn = "accuracy"` an arm's
//   vote weighs its configured weight x its realized accuracy, (wins + 1) / (round trips + 2) (a win: a round
//   trip of reward above 1e-9; Laplace's rule, so 1/2 before any trip); the quorum is then a share of the
//   members' current weights. An arm is scored on the round trips it owned (whose entry completed a quorum).
// Reward of a round trip (`reward`): "pnl" = the price P&L of its fills in quote currency (sell value minus
// buy value, before fees); "return" = that divided by the value of its entry fills.
//
// The hot path (filter, on_fill) allocates nothing: fixed arrays of at most kMaxArms arms.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/events.hpp"
#include "strategy/intent.hpp"

namespace enigma::strategy {

struct SelectorConfig {
  enum class Kind : std::uint8_t { none, ucb, committee };
  enum class Reward : std::uint8_t { pnl, ret };
  static constexpr std::size_t kMaxArms = 8;

  Kind kind = Kind::none;
  std::vector<std::uint16_t> members;  // strategy ids, in priority order
  double exploration = 1.4142135623730951;  // ucb: sqrt(2), UCB1's constant
  Reward reward = Reward::pnl;
  std::vector<double> weights;              // committee: one per member (empty: all 1)
  bool learn_accuracy = false;              // committee: weights x realized accuracy
  double quorum = 0.5;                      // committee: net weight for a side / total weight
  std::int64_t vote_window_ns = 1'000'000'000;
  std::int64_t pending_timeout_ns = 10'000'000'000;
};
[[nodiscard]] const char* to_string(SelectorConfig::Kind k) noexcept;

class Selector {
 public:
  struct Arm {
    std::uint16_t strategy_id{0};
    double weight{1.0};
    std::uint64_t trips{0};
    std::uint64_t wins{0};        // round trips of reward above 1e-9
    double reward_sum{0.0};
    std::uint64_t entries{0};     // entries that passed (the arm became the owner)
    std::uint64_t suppressed{0};  // its intents held back
    // committee: its current vote (side, when), valid while vote_ns != 0
    Side vote_side{Side::buy};
    std::int64_t vote_ns{0};
    [[nodiscard]] double mean() const noexcept { return trips == 0 ? 0.0 : reward_sum / static_cast<double>(trips); }
    [[nodiscard]] double accuracy() const noexcept {
      return (static_cast<double>(wins) + 1.0) / (static_cast<double>(trips) + 2.0);
    }
  };

  Selector() = default;
  explicit Selector(const SelectorConfig& c);  // cold; the config was validated by the engine

  [[nodiscard]] bool active() const noexcept { return kind_ != SelectorConfig::Kind::none; }
  // The members' intents of one stage call (`in`) into `out`, by the rules above; `now_ns`: data time.
  void filter(std::span<const OrderIntent> in, IntentBuffer& out, std::int64_t now_ns) noexcept;
  // Every fill, before the strategies see it (the owner's fills end its round trip).
  void on_fill(const Fill& f) noexcept;

  [[nodiscard]] SelectorConfig::Kind kind() const noexcept { return kind_; }
  [[nodiscard]] std::span<const Arm> arms() const noexcept { return {arms_.data(), n_}; }
  [[nodiscard]] int owner() const noexcept { return owner_; }  // arm index, -1: none
  [[nodiscard]] std::uint64_t lapsed() const noexcept { return lapsed_; }
  [[nodiscard]] bool learns() const noexcept { return learn_accuracy_; }
  // committee: what the arm's vote weighs now (its weight, x its accuracy when learning).
  [[nodiscard]] double vote_weight(const Arm& a) const noexcept { return learn_accuracy_ ? a.weight * a.accuracy() : a.weight; }

 private:
  [[nodiscard]] int arm_of(std::uint16_t strategy_id) const noexcept;
  [[nodiscard]] int ucb_choice() const noexcept;
  void take(int arm, std::int64_t now_ns) noexcept;
  void entry_passed(std::int64_t now_ns) noexcept;

  SelectorConfig::Kind kind_{SelectorConfig::Kind::none};
  SelectorConfig::Reward reward_{SelectorConfig::Reward::pnl};
  double exploration_{0}, quorum_{0};
  bool learn_accuracy_{false};
  std::int64_t vote_window_ns_{0}, pending_timeout_ns_{0};
  std::array<Arm, SelectorConfig::kMaxArms> arms_{};
  std::size_t n_{0};
  std::uint64_t total_trips_{0}, lapsed_{0};
  int owner_{-1};
  // Entries of owners that passed, and how many of them had an opening fill after them (equal: none is on
  // its way); since_ns_: when the latest passed.
  std::uint64_t entries_passed_{0}, entries_filled_{0};
  std::int64_t since_ns_{0};
  Qty net_{};                  // the owner's position from its fills
  double flow_{0}, entry_value_{0};  // the trip's sell value minus buy value; value of the fills that opened it
};

}  // namespace enigma::strategy
