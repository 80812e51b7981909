# metrics.json through the engine: `enigma replay` on a bundled capture, recomputed by hand from the run's own
# trades.csv and equity.csv (one ~0.3 s replay).
enigma_add_test(engine_metrics_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/metrics_test.cpp
  DEPS enigma::engine
  LABELS integration TIMEOUT 120)
add_dependencies(engine_metrics_test enigma)
target_compile_definitions(engine_metrics_test PRIVATE ENIGMA_BINARY="$<TARGET_FILE:enigma>")
