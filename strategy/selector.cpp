#include "strategy/selector.hpp"

#include <cmath>
#include <limits>

namespace enigma::strategy {

const char* to_string(SelectorConfig::Kind k) noexcept {
  switch (k) {
    case SelectorConfig::Kind::ucb: return "ucb";
    case SelectorConfig::Kind::committee: return "committee";
    case SelectorConfig::Kind::none: break;
  }
  return "none";
}

Selector::Selector(const SelectorConfig& c)
    : kind_(c.kind), reward_(c.reward), exploration_(c.exploration), quorum_(c.quorum),
      learn_accuracy_(c.learn_accuracy), vote_window_ns_(c.vote_window_ns), pending_timeout_ns_(c.pending_timeout_ns) {
  n_ = c.members.size() < arms_.size() ? c.members.size() : arms_.size();
  for (std::size_t i = 0; i < n_; ++i) {
    arms_[i].strategy_id = c.members[i];
    arms_[i].weight = i < c.weights.size() ? c.weights[i] : 1.0;
  }
}

int Selector::arm_of(std::uint16_t strategy_id) const noexcept {
  for (std::size_t i = 0; i < n_; ++i)
    if (arms_[i].strategy_id == strategy_id) return static_cast<int>(i);
  return -1;
}

int Selector::ucb_choice() const noexcept {
  int best = -1;
  double best_score = -std::numeric_limits<double>::infinity();
  const double log_n = total_trips_ > 0 ? std::log(static_cast<double>(total_trips_)) : 0.0;
  for (std::size_t i = 0; i < n_; ++i) {
    const Arm& a = arms_[i];
    if (a.trips == 0) return static_cast<int>(i);  // untried arms first, in member order
    const double score = a.mean() + exploration_ * std::sqrt(log_n / static_cast<double>(a.trips));
    if (score > best_score) {
      best_score = score;
      best = static_cast<int>(i);
    }
  }
  return best;
}

void Selector::take(int arm, std::int64_t now_ns) noexcept {
  owner_ = arm;
  net_ = Qty{};
  flow_ = 0;
  entry_value_ = 0;
  ++arms_[static_cast<std::size_t>(arm)].entries;
  for (std::size_t i = 0; i < n_; ++i) arms_[i].vote_ns = 0;
  entry_passed(now_ns);
}

void Selector::entry_passed(std::int64_t now_ns) noexcept {
  ++entries_passed_;
  since_ns_ = now_ns;
}

void Selector::filter(std::span<const OrderIntent> in, IntentBuffer& out, std::int64_t now_ns) noexcept {
  // Flat with an entry that never filled (refused by risk, cancelled unfilled): the position is given back.
  if (owner_ >= 0 && net_.is_zero() && entries_filled_ != entries_passed_ && now_ns - since_ns_ > pending_timeout_ns_) {
    // Booked as a trip with reward 0: else an arm whose entries the risk gate refuses would stay untried, and
    // be chosen, forever.
    ++arms_[static_cast<std::size_t>(owner_)].trips;
    ++total_trips_;
    owner_ = -1;
    entries_filled_ = entries_passed_;
    ++lapsed_;
  }
  for (const OrderIntent& it : in) {
    const int arm = arm_of(it.strategy_id);
    if (arm < 0) {
      out.push(it);
      continue;
    }
    Arm& a = arms_[static_cast<std::size_t>(arm)];
    if (owner_ >= 0) {
      if (arm == owner_) {
        if (!it.reduce_only) entry_passed(now_ns);  // e.g. a reversal: the owner keeps the position past flat
        out.push(it);
      } else {
        ++a.suppressed;
      }
      continue;
    }
    if (it.reduce_only) {  // nothing to reduce: no arm holds the position
      ++a.suppressed;
      continue;
    }
    if (kind_ == SelectorConfig::Kind::ucb) {
      if (arm == ucb_choice()) {
        take(arm, now_ns);
        out.push(it);
      } else {
        ++a.suppressed;
      }
      continue;
    }
    // committee
    a.vote_side = it.side;
    a.vote_ns = now_ns;
    double net = 0, total = 0;
    for (std::size_t i = 0; i < n_; ++i) {
      const Arm& v = arms_[i];
      const double w = vote_weight(v);
      total += w;
      if (v.vote_ns == 0 || now_ns - v.vote_ns > vote_window_ns_) continue;
      net += v.vote_side == it.side ? w : -w;
    }
    if (net >= quorum_ * total) {
      take(arm, now_ns);
      out.push(it);
    } else {
      ++a.suppressed;
    }
  }
}

void Selector::on_fill(const Fill& f) noexcept {
  if (owner_ < 0 || arms_[static_cast<std::size_t>(owner_)].strategy_id != f.strategy_id) return;
  const double value = f.price.to_double() * f.qty.to_double();
  const bool opening = net_.is_zero() || (net_.raw() > 0) == (f.side == Side::buy);
  if (opening) {
    entry_value_ += value;
    entries_filled_ = entries_passed_;  // every entry passed so far has met its fill
  }
  flow_ += f.side == Side::sell ? value : -value;
  net_ += f.side == Side::buy ? f.qty : -f.qty;
  if (!net_.is_zero()) return;
  Arm& a = arms_[static_cast<std::size_t>(owner_)];
  const double reward = reward_ == SelectorConfig::Reward::pnl ? flow_ : (entry_value_ > 0 ? flow_ / entry_value_ : 0.0);
  a.reward_sum += reward;
  ++a.trips;
  if (reward > 1e-9) ++a.wins;
  ++total_trips_;
  flow_ = 0;
  entry_value_ = 0;
  // Flat: the position is free again, unless an entry of the owner is still on its way (a reversal).
  if (entries_filled_ == entries_passed_) owner_ = -1;
}

}  // namespace enigma::strategy
