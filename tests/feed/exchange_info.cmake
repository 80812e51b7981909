# The venues' exchange-info answers (feed/exchange_info.hpp, issue 13 item 2) on the real files in data/.
enigma_add_test(feed_exchange_info_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/exchange_info_test.cpp
  DEPS enigma::feed)
