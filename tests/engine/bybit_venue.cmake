# The Bybit V5 venue in miniature (tests/support/fake_bybit.hpp) checked with requests the suite signs itself
# (not with our encoder): signatures and timestamps, matching and fees, the private WebSocket's order /
# execution / position pushes, cancel-all, rate-limit headers, DCP and the faults it injects.
enigma_ws_test_server_library()
enigma_add_test(engine_bybit_venue_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/bybit_venue_test.cpp
  DEPS enigma::oms enigma_ws_test_server
  LABELS integration TIMEOUT 60)
# Loopback servers and timers: never share the 2 cores.
set_tests_properties(engine_bybit_venue_test PROPERTIES RUN_SERIAL TRUE)
