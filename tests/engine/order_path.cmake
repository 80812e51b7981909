# The order path (issue 12 part A): the warm-up dry run sends and counts nothing and allocates nothing in
# either topology; journal appends take no page fault; the applied layout is logged and in summary.json;
# `enigma tune-report --quick` writes its sections and an [engine] block that parses as config.
enigma_add_test(engine_order_path_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/order_path_test.cpp
  DEPS enigma::engine enigma_test_alloc
  LABELS integration TIMEOUT 300)
add_dependencies(engine_order_path_test enigma)
target_compile_definitions(engine_order_path_test PRIVATE ENIGMA_BINARY="$<TARGET_FILE:enigma>")
# Pinned runs and the hop probe spin on both cores: never share them with other suites.
set_tests_properties(engine_order_path_test PROPERTIES RUN_SERIAL TRUE)
