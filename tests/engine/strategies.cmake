# Strategies as plug-ins (issue 15 item 1): `enigma strategies` and `enigma replay --help` list what
# strategy/strategies/ registers; the README's example strategy (one file) runs in a replay and trades at the
# moving-average crosses recomputed here from the data; the README's code block is that file; a new header
# with a registration line in a copy of the folder enters the generated registry (cmake -P). One ~0.5 s replay.
enigma_add_test(engine_strategies_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/strategies_test.cpp
  DEPS enigma::engine
  LABELS integration TIMEOUT 120)
add_dependencies(engine_strategies_test enigma)
target_compile_definitions(engine_strategies_test PRIVATE ENIGMA_BINARY="$<TARGET_FILE:enigma>"
                                                          ENIGMA_CMAKE="${CMAKE_COMMAND}")
