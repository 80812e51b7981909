# kind = "liquidity-hunter" on hand-built books and trades: each rule of its header worked by hand (pulled
# behind the touch only, trades at the wall explain its drop, eaten then broken, absorbed once, out of sight,
# no reference price, cooldown, bracket), allocation-free calls, validate() naming the field.
enigma_add_test(strategy_liquidity_hunter_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/liquidity_hunter_test.cpp
  DEPS enigma::strategy enigma_test_alloc)
