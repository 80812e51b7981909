# OKX v5: decoders, book sync with seqId + CRC32 checksum, book-check on data/okx (issue 3).
enigma_add_test(feed_okx_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/okx_test.cpp
  DEPS enigma::feed enigma_test_alloc
  LABELS integration)
