# The run log through the engine: `enigma replay` on the default session; every line of logs/enigma.log
# parses with README's schema (text and JSON) and its order, fill and reject lines reconcile with
# summary.json and trades.csv. Three replays of about a second each.
enigma_add_test(engine_log_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/log_test.cpp
  DEPS simdjson::simdjson
  LABELS integration TIMEOUT 300)
add_dependencies(engine_log_test enigma)
target_include_directories(engine_log_test PRIVATE ${PROJECT_SOURCE_DIR})
target_compile_definitions(engine_log_test PRIVATE ENIGMA_BINARY="$<TARGET_FILE:enigma>")
