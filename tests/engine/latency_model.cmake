# [sim] order latency models and feed_latency = "capture" through the engine: `enigma replay` on the bundled
# Binance USD-M capture with small configs (a handful of ~0.5 s replays).
enigma_add_test(engine_latency_model_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/latency_model_test.cpp
  DEPS enigma::engine
  LABELS integration TIMEOUT 120)
add_dependencies(engine_latency_model_test enigma)
target_compile_definitions(engine_latency_model_test PRIVATE ENIGMA_BINARY="$<TARGET_FILE:enigma>")
