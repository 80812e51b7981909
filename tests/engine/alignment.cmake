# Multi-timeframe alignment (issue 15 item 3): `enigma backtest` on the bundled 5-minute candles with 5 m / 15 m
# / 1 h; each logged alignment re-derived from its timeframes' scores, the summary and report agree; the admin
# /api/signals polled during a second run carries the combined cell. ~2 s.
enigma_add_test(engine_alignment_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/alignment_test.cpp
  DEPS enigma_test_http
  LABELS integration TIMEOUT 120)
add_dependencies(engine_alignment_test enigma)
target_compile_definitions(engine_alignment_test PRIVATE ENIGMA_BINARY="$<TARGET_FILE:enigma>")
