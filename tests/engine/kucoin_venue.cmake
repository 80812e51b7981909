# The KuCoin Futures venue in miniature (tests/support/fake_kucoin_futures.hpp) checked with our own encoder:
# signatures, the order book it keeps, the private WebSocket's orderChange pushes, the faults it injects.
enigma_ws_test_server_library()
enigma_add_test(engine_kucoin_venue_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/kucoin_venue_test.cpp
  DEPS enigma::oms enigma_ws_test_server
  LABELS integration TIMEOUT 60)
# Loopback servers and timers: never share the 2 cores.
set_tests_properties(engine_kucoin_venue_test PROPERTIES RUN_SERIAL TRUE)
