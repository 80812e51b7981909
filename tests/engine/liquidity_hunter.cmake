# kind = "liquidity-hunter" (issue 15 item 4): a replay of a bundled Binance capture enters and exits exactly at
# the frames where the test, rebuilding the book itself from the capture's REST snapshot and depth diffs and
# reading its trades, finds a book wall pulled without trading, eaten through, or absorbing trades while it
# holds; bad keys exit 3 naming the key; `enigma strategies` lists the kind and its keys. One ~1 s replay.
enigma_add_test(engine_liquidity_hunter_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/liquidity_hunter_test.cpp
  DEPS enigma::engine
  LABELS integration TIMEOUT 120)
add_dependencies(engine_liquidity_hunter_test enigma)
target_compile_definitions(engine_liquidity_hunter_test PRIVATE ENIGMA_BINARY="$<TARGET_FILE:enigma>")
