# `enigma live`: the venue gateway and live order entry against a local Binance-like TLS venue.
enigma_add_test(engine_live_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/live_test.cpp ${PROJECT_SOURCE_DIR}/tests/support/binance_ws_api_venue.cpp
  DEPS enigma::engine enigma_ws_test_server enigma_test_alloc enigma_test_http
  LABELS integration TIMEOUT 180)
# Loopback servers and timers: never share the 2 cores.
set_tests_properties(engine_live_test PROPERTIES RUN_SERIAL TRUE)
# The restart test drives the `enigma live` binary (SIGKILL, then restarts on the same state directory).
add_dependencies(engine_live_test enigma)
target_compile_definitions(engine_live_test PRIVATE ENIGMA_BINARY="$<TARGET_FILE:enigma>")
