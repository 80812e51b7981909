# Execution algorithms (issue 15 item 6): replays of the bundled Binance capture with the imbalance strategy's
# entries sliced by TWAP, VWAP (child sizes from the capture's own trade volume, parsed by the test) and iceberg; the children's times and sizes are checked against a single-order run's
# entries and the config; an interval past the data's end leaves every later child unsent (counted); bad keys
# exit 3 naming the key; a 2 s data window ends (on_stop) while a parent runs: its unsent children are counted.
# Six ~0.5 s replays and a 4 s recorded-pace one (~8 s).
enigma_add_test(engine_exec_algo_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/exec_algo_test.cpp
  DEPS enigma::engine
  LABELS integration TIMEOUT 120)
add_dependencies(engine_exec_algo_test enigma)
target_compile_definitions(engine_exec_algo_test PRIVATE ENIGMA_BINARY="$<TARGET_FILE:enigma>")
# KillCancelsTheUnsentChildren: POST /kill over loopback HTTP during a 4 s recorded-pace replay: never share the cores.
set_tests_properties(engine_exec_algo_test PROPERTIES RUN_SERIAL TRUE)
