# Binance USD-M / COIN-M / spot: decoders, book sync, book-check on the real sessions in data/binance (issue 3).
enigma_add_test(feed_binance_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/binance_test.cpp
  DEPS enigma::feed enigma_test_alloc
  LABELS integration
  TIMEOUT 300)
