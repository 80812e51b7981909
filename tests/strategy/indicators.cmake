# Incremental indicators against TA-Lib 0.4.0 (data/indicators), the `enigma indicators` table and CSV input.
enigma_add_test(strategy_indicators_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/indicators_test.cpp
  DEPS enigma::strategy
  LABELS unit)
