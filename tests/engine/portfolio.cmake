# A portfolio of strategy instances in one run (issues 14/15): `enigma replay --config config/portfolio.toml`
# over the bundled BTCUSDT and ETHUSDT captures trades both instruments; per-instrument figures recomputed
# from trades.csv; max_concurrent_positions = 1 never lets two positions overlap; bad [[strategy]] entries are
# start-up errors; zero allocations after warm-up in a portfolio replay (in-process). A few ~1 s replays.
enigma_add_test(engine_portfolio_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/portfolio_test.cpp
  DEPS enigma::engine enigma_test_alloc
  LABELS integration TIMEOUT 180)
add_dependencies(engine_portfolio_test enigma)
target_compile_definitions(engine_portfolio_test PRIVATE ENIGMA_BINARY="$<TARGET_FILE:enigma>")
