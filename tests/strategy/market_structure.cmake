# kind = "market-structure" and its features (strategy/market_structure.hpp): swing points, BOS / CHoCH, order
# blocks and fair-value gaps on nine bars worked by hand; the strategy's entry, stop, take-profit and exit on
# them; no allocation over the bundled 66 days of 5-minute candles.
enigma_add_test(strategy_market_structure_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/market_structure_test.cpp
  DEPS enigma::strategy enigma_test_alloc ZLIB::ZLIB)
