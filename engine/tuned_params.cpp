#include "engine/tuned_params.hpp"

#include "core/config.hpp"

namespace enigma::engine {

TunedParams read_tuned_params(const std::string& best_toml_path) {
  const config::Document doc = config::Document::load_file(best_toml_path);
  config::TableReader root = doc.root();
  config::TableReader optimize = root.table("optimize");
  config::TableReader t = optimize.table("params");
  const TunedParams p = read_tuned_keys(t);
  t.finish();
  optimize.finish();
  root.finish();
  return p;
}

TunedParams read_tuned_keys(config::TableReader& t) {
  TunedParams p;
  p.rsi_period = static_cast<int>(t.integer("rsi_period", std::nullopt, 2, 1000));
  p.rsi_oversold = t.real("rsi_oversold", std::nullopt, 0.0, 100.0);
  p.rsi_overbought = t.real("rsi_overbought", std::nullopt, 0.0, 100.0);
  p.min_score = t.real("min_score", std::nullopt, 0.0, 130.0);
  p.stop_loss_roi = t.real("stop_loss_roi", std::nullopt, 0.0, 1000.0);
  p.take_profit_roi = t.real("take_profit_roi", std::nullopt, 0.0, 1000.0);
  p.leverage = t.real("leverage", std::nullopt, 1.0, 1000.0);
  return p;
}

void apply_tuned_params(const TunedParams& p, strategy::ConfluenceConfig& c) noexcept {
  c.signal.rsi_period = p.rsi_period;
  c.signal.rsi_oversold = p.rsi_oversold;
  c.signal.rsi_overbought = p.rsi_overbought;
  c.signal.use_regime_threshold = false;
  c.signal.signal_threshold = p.min_score;
  c.stop_loss_roi = p.stop_loss_roi;
  c.take_profit_roi = p.take_profit_roi;
  c.roi_leverage = p.leverage;
  c.use_order_flow = false;
}

}  // namespace enigma::engine
