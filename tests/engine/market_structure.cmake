# kind = "market-structure" (issue 15 item 6) through `enigma backtest` on the bundled 5-minute candles: each
# logged break of structure / change of character (with its order block) and fair-value gap equals the test's own
# scan of the CSV; every order at a bar close follows a break and every break the rules act on got its order
# (position rebuilt from trades.csv); a bad key exits 3. ~2 s.
enigma_add_test(engine_market_structure_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/market_structure_test.cpp
  LABELS integration TIMEOUT 120)
add_dependencies(engine_market_structure_test enigma)
target_compile_definitions(engine_market_structure_test PRIVATE ENIGMA_BINARY="$<TARGET_FILE:enigma>")
