# The venue decoders' symbol -> instrument cache (feed/venues/symbol_cache.hpp).
enigma_add_test(feed_symbol_cache_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/symbol_cache_test.cpp
  DEPS enigma::feed enigma_test_alloc
  LABELS unit)
