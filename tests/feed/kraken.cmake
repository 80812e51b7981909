# Kraken spot v2 + Futures v1 (issue 13 item 6): decoders, CRC32 checksum on every book message, depth-cut
# book sync, futures seq gaps, book-check through the binary on data/kraken.
enigma_add_test(feed_kraken_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/kraken_test.cpp
  DEPS enigma::feed enigma_test_alloc
  LABELS integration)
add_dependencies(feed_kraken_test enigma)
target_compile_definitions(feed_kraken_test PRIVATE ENIGMA_BINARY="$<TARGET_FILE:enigma>")
