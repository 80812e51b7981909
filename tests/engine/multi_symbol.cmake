# Every symbol of a capture through the binary (issue 13): two single-symbol captures replayed together build
# and check both books, merged cryptofeed captures every instrument, a snapshot no URL or file names is not
# guessed; book-check counts every Binance bookTicker and fails when nothing could be verified. ~5 s.
enigma_add_test(engine_multi_symbol_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/multi_symbol_test.cpp
  LABELS integration TIMEOUT 120)
add_dependencies(engine_multi_symbol_test enigma)
target_compile_definitions(engine_multi_symbol_test PRIVATE ENIGMA_BINARY="$<TARGET_FILE:enigma>")
