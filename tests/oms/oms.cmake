# oms/ suites (issue 5 items 4-9). One executable per suite.
enigma_add_test(oms_order_state_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/order_state_test.cpp
  DEPS enigma::oms)
enigma_add_test(oms_signing_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/signing_test.cpp
  DEPS enigma::oms enigma_test_alloc)
enigma_add_test(oms_order_types_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/order_types_test.cpp
  DEPS enigma::oms)
enigma_add_test(oms_sim_exchange_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/sim_exchange_test.cpp
  DEPS enigma::oms enigma_test_alloc)
enigma_add_test(oms_journal_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/journal_test.cpp
  DEPS enigma::oms
  LABELS integration)
enigma_add_test(oms_order_manager_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/order_manager_test.cpp
  DEPS enigma::oms
  LABELS integration)
# Binance USD-M WebSocket API order entry: encoder, HMAC / Ed25519 signatures (checked with the openssl CLI).
enigma_add_test(oms_ws_api_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/ws_api_test.cpp
  DEPS enigma::oms enigma_test_alloc)
enigma_add_test(oms_request_budget_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/request_budget_test.cpp
  DEPS enigma::oms)
# The venue kit: the order-entry and private-stream interfaces as each venue implements them.
enigma_add_test(oms_venue_kit_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/venue_kit_test.cpp
  DEPS enigma::oms)
