# kind = "cvd-divergence" (issue 15 item 4): a replay of a bundled Binance capture enters exactly at the trades
# where the test, parsing the capture's raw trade frames itself, finds a price extreme of the last N trades
# that the cumulative volume delta does not confirm (with a large trade against the move); bad keys exit 3
# naming the key; `enigma strategies` lists the kind and its keys. One ~1 s replay.
enigma_add_test(engine_cvd_divergence_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/cvd_divergence_test.cpp
  DEPS enigma::engine
  LABELS integration TIMEOUT 120)
add_dependencies(engine_cvd_divergence_test enigma)
target_compile_definitions(engine_cvd_divergence_test PRIVATE ENIGMA_BINARY="$<TARGET_FILE:enigma>")
