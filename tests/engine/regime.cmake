# Regime adaptation of the confluence strategy (issue 15 item 7): `enigma backtest` on the bundled 5-minute
# candles with [strategy.confluence.regime] tables; per-bar regimes recomputed from the CSV (Wilder ATR/ADX),
# per-regime leverage cap seen through margin, per-regime weights against the base weight key, bad keys.
# About eight sub-second backtests.
enigma_add_test(engine_regime_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/regime_test.cpp
  LABELS integration TIMEOUT 120)
add_dependencies(engine_regime_test enigma)
target_compile_definitions(engine_regime_test PRIVATE ENIGMA_BINARY="$<TARGET_FILE:enigma>")
