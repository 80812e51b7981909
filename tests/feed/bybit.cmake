# Bybit v5: decoder, book sync, book-check on the real orderbook.500 dump in data/bybit (issue 3).
enigma_add_test(feed_bybit_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/bybit_test.cpp
  DEPS enigma::feed enigma_test_alloc
  LABELS integration)
