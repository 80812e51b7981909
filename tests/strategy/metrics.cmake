# strategy/metrics and strategy/stats: backtest metrics and overfitting statistics against hand computations
# and the papers' formulas.
enigma_add_test(strategy_metrics_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/metrics_test.cpp
  DEPS enigma::strategy
  LABELS unit)
enigma_add_test(strategy_stats_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/stats_test.cpp
  DEPS enigma::strategy
  LABELS unit)
