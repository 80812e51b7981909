# [selector] ucb / committee through `enigma replay` (issue 15 item 5): every entry from flat in trades.csv is
# the arm UCB1 picks from the round trips before it (recomputed by the test from the fills), committee weights
# decide whose entries go out, bad keys exit 3 naming the key. Four ~0.5 s replays.
enigma_add_test(engine_selector_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/selector_test.cpp
  DEPS enigma::engine
  LABELS integration TIMEOUT 120)
add_dependencies(engine_selector_test enigma)
target_compile_definitions(engine_selector_test PRIVATE ENIGMA_BINARY="$<TARGET_FILE:enigma>")
