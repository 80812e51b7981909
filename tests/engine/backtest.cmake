# `enigma backtest` (issue 14 item 1): the bundled 66 days of 5-minute candles through the pipeline; fills at
# the documented candle prices; split day files trade as the whole; two instruments' pnl columns sum to the
# portfolio; funding CSV charged at its timestamps and to the round trip open then; a bad row exits 3; peak RSS independent of the length.
# About ten sub-second backtests.
enigma_add_test(engine_backtest_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/backtest_test.cpp
  LABELS integration TIMEOUT 180)
add_dependencies(engine_backtest_test enigma)
target_compile_definitions(engine_backtest_test PRIVATE ENIGMA_BINARY="$<TARGET_FILE:enigma>")
