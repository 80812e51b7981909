# Streaming replay (issue 13 item 3) through the binary: every bundled Binance capture in one run in bounded
# memory (child's peak RSS via wait4), and the k-way merge keeps every frame. Three replays, ~4 s.
enigma_add_test(engine_stream_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/stream_test.cpp
  LABELS integration TIMEOUT 120)
add_dependencies(engine_stream_test enigma)
target_compile_definitions(engine_stream_test PRIVATE ENIGMA_BINARY="$<TARGET_FILE:enigma>")
