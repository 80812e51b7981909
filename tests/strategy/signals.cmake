# Candles, order flow, divergence, signal scoring, regimes and the bundled strategies (issue 4, items 3-7).
# Data: data/candles/ (see its ATTRIBUTION.md).
enigma_add_test(strategy_candles_flow_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/candles_flow_test.cpp
  DEPS enigma::strategy ZLIB::ZLIB)
enigma_add_test(strategy_signals_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/signals_test.cpp
  DEPS enigma::strategy ZLIB::ZLIB)
enigma_add_test(strategy_strategies_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/strategies_test.cpp
  DEPS enigma::strategy enigma_test_alloc ZLIB::ZLIB)
# [selector] ucb / committee (strategy/selector.hpp) on hand-made intents and fills: UCB1 scores by hand,
# committee quorum within the vote window, ownership through a reversal, an unfilled entry's lapse.
enigma_add_test(strategy_selector_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/selector_test.cpp
  DEPS enigma::strategy
  LABELS unit)
