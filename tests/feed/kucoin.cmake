# KuCoin Futures and spot: decoders, book sync, book-check on data/kucoin (issue 3).
enigma_add_test(feed_kucoin_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/kucoin_test.cpp
  DEPS enigma::feed enigma_test_alloc
  LABELS integration)
