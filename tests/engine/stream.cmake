# Streaming replay (issue 13 item 3) through the binary: every bundled Binance capture in one run in bounded
# memory (child's peak RSS via wait4), the k-way merge keeps every frame, and the streaming reader yields the
# whole-file reader's frames. Three replays and every Binance capture read both ways, ~5 s.
enigma_add_test(engine_stream_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/stream_test.cpp
  DEPS enigma::feed
  LABELS integration TIMEOUT 120)
add_dependencies(engine_stream_test enigma)
target_compile_definitions(engine_stream_test PRIVATE ENIGMA_BINARY="$<TARGET_FILE:enigma>")
