# The strict one-pass JSON scanner in front of simdjson (feed/venues/json_scan.hpp).
enigma_add_test(feed_json_scan_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/json_scan_test.cpp
  DEPS enigma::feed
  LABELS unit)
