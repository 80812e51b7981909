# A restart is not blind (issue 11 item 1): the `enigma paper` binary on a locked state directory, a second
# engine refused, SIGKILL and a restart that resumes the journal with client ids never reused.
enigma_add_test(engine_state_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/state_test.cpp
  DEPS enigma::engine enigma_ws_test_server
  LABELS integration TIMEOUT 180)
add_dependencies(engine_state_test enigma)
target_compile_definitions(engine_state_test PRIVATE ENIGMA_BINARY="$<TARGET_FILE:enigma>")
# Child engines on a loopback venue: never share the 2 cores.
set_tests_properties(engine_state_test PROPERTIES RUN_SERIAL TRUE)
