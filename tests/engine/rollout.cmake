# Staged rollout (issue 16 item 4) through the binary: `enigma paper` at 10 % sends a tenth of every order,
# `enigma rollout promote` refuses with the failing gate named and promotes when the gates pass, and `live`
# refuses an account still at the paper stage.
enigma_add_test(engine_rollout_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/rollout_test.cpp
  DEPS enigma::engine enigma_ws_test_server
  LABELS integration TIMEOUT 180)
add_dependencies(engine_rollout_test enigma)
target_compile_definitions(engine_rollout_test PRIVATE ENIGMA_BINARY="$<TARGET_FILE:enigma>")
set_tests_properties(engine_rollout_test PROPERTIES RUN_SERIAL TRUE)
