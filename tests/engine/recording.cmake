# Paper records its own session; the recording (zstd segments, or a torn plain one) replays to the same
# books and trades through run_pipeline.
enigma_add_test(engine_recording_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/recording_test.cpp
  DEPS enigma::engine enigma_ws_test_server
  LABELS integration TIMEOUT 180)
# A loopback TLS server playing 20k frames: never share the 2 cores.
set_tests_properties(engine_recording_test PROPERTIES RUN_SERIAL TRUE)
add_dependencies(engine_recording_test enigma)
target_compile_definitions(engine_recording_test PRIVATE ENIGMA_BINARY="$<TARGET_FILE:enigma>")
