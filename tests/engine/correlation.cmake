# Rolling correlation (issue 15 item 6) through `enigma replay` of the BTCUSDT + ETHUSDT portfolio: each logged
# change of the pair's correlated state equals the test's own computation from the raw trade frames; the
# correlated-exposure cap and the correlation sizing act exactly when the pair is correlated and the other
# instrument is engaged (the uncapped replay shows the check can fail); bad keys exit 3. Four ~0.5 s replays.
enigma_add_test(engine_correlation_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/correlation_test.cpp
  LABELS integration TIMEOUT 120)
add_dependencies(engine_correlation_test enigma)
target_compile_definitions(engine_correlation_test PRIVATE ENIGMA_BINARY="$<TARGET_FILE:enigma>")
