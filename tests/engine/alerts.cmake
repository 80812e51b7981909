# [alerts]: `enigma replay` against a local HTTPS webhook server (self-signed certificate made at test time).
enigma_add_test(engine_alerts_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/alerts_test.cpp
  DEPS enigma::engine enigma_ws_test_server
  LABELS integration TIMEOUT 120)
# Loopback servers and retry timers: never share the 2 cores.
set_tests_properties(engine_alerts_test PROPERTIES RUN_SERIAL TRUE)
add_dependencies(engine_alerts_test enigma)
target_compile_definitions(engine_alerts_test PRIVATE ENIGMA_BINARY="$<TARGET_FILE:enigma>")
