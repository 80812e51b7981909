# Coinbase Advanced Trade + legacy feed: decoder, book sync, book-check on data/coinbase (issue 3).
enigma_add_test(feed_coinbase_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/coinbase_test.cpp
  DEPS enigma::feed enigma_test_alloc
  LABELS integration)
