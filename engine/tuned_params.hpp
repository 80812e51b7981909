// The parameters `enigma optimize` / `enigma walkforward` chose (their best.toml), applied to the engine's
// confluence strategy: a replay, paper or live config names the file with
//   [strategy.confluence]
//   include = "runs/<UTC>-walkforward/best.toml"
// and the strategy trades the research candle backtest's rules (research/candle_backtest.hpp) with them:
//   rsi_period, rsi_oversold, rsi_overbought -> the signal scorer's RSI term;
//   min_score       -> the entry / exit threshold (fixed: the regime's threshold is not used);
//   stop_loss_roi, take_profit_roi, leverage -> ROI stops (ConfluenceConfig roi_*);
//   and, as the backtest scores, no order-flow term.
// The same keys may instead be written in [strategy.confluence] itself; a key given both ways is an error.
#pragma once

#include <string>

#include "core/config.hpp"
#include "strategy/strategies/confluence.hpp"

namespace enigma::engine {

// The keys of best.toml's [optimize.params], as [strategy.confluence] spells them when written inline.
struct TunedParams {
  int rsi_period = 0;
  double rsi_oversold = 0.0, rsi_overbought = 0.0;
  double min_score = 0.0;
  double stop_loss_roi = 0.0, take_profit_roi = 0.0;
  double leverage = 0.0;
};

// Reads best.toml's [optimize.params] (every one of the seven keys required, no other key allowed).
// Throws enigma::Error naming the file, line and key.
[[nodiscard]] TunedParams read_tuned_params(const std::string& best_toml_path);
// The seven keys from `t` (best.toml's [optimize.params], or [strategy.confluence] written inline), each required.
[[nodiscard]] TunedParams read_tuned_keys(config::TableReader& t);

// Sets the confluence strategy's scorer, threshold and ROI stops from `p` (see above).
void apply_tuned_params(const TunedParams& p, strategy::ConfluenceConfig& c) noexcept;

}  // namespace enigma::engine
