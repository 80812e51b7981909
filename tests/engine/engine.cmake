enigma_add_test(engine_replay_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/replay_test.cpp
  DEPS enigma::engine enigma_test_alloc
  LABELS integration TIMEOUT 300)
enigma_add_test(engine_admin_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/admin_test.cpp
  DEPS enigma::engine
  LABELS integration)
# 200 loopback connections and answer deadlines: never share the 2 cores.
set_tests_properties(engine_admin_test PROPERTIES RUN_SERIAL TRUE)
enigma_add_test(engine_cli_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/cli_test.cpp
  DEPS enigma::engine
  LABELS integration TIMEOUT 300)
add_dependencies(engine_cli_test enigma)
target_compile_definitions(engine_cli_test PRIVATE ENIGMA_BINARY="$<TARGET_FILE:enigma>")
enigma_add_test(engine_paper_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/paper_test.cpp
  DEPS enigma::engine enigma_ws_test_server
  LABELS integration TIMEOUT 120)
# Timing-sensitive (reconnect, stale and ping timers on a loopback server): never share the 2 cores.
set_tests_properties(engine_paper_test PROPERTIES RUN_SERIAL TRUE)
# Paper for every venue (issue 13 item 4): gap, checksum, drop and silence against the local TLS venue.
enigma_add_test(engine_paper_venues_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/paper_venues_test.cpp
  DEPS enigma::engine enigma_ws_test_server
  LABELS integration TIMEOUT 120)
set_tests_properties(engine_paper_venues_test PROPERTIES RUN_SERIAL TRUE)
enigma_add_test(engine_control_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/control_test.cpp
  DEPS enigma::engine
  LABELS integration TIMEOUT 300)
# Recorded-pace replays commanded over HTTP at the moment a position is open: never share the 2 cores.
set_tests_properties(engine_control_test PROPERTIES RUN_SERIAL TRUE)
enigma_add_test(engine_pricing_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/pricing_test.cpp
  DEPS enigma::engine
  LABELS integration TIMEOUT 300)
add_dependencies(engine_pricing_test enigma)
target_compile_definitions(engine_pricing_test PRIVATE ENIGMA_BINARY="$<TARGET_FILE:enigma>")
