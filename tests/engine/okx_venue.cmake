# The OKX V5 venue in miniature (tests/support/fake_okx.hpp) checked with requests the suite signs itself
# (OpenSSL's HMAC, not our encoder): signatures, passphrase and timestamps, matching and fees, post-only / IOC,
# batch cancel, conditional algos, cancel-all-after, the private WebSocket's login / subscribe / order pushes,
# orders-pending paging, positions and balance, rate limits and the faults it injects.
enigma_ws_test_server_library()
enigma_add_test(engine_okx_venue_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/okx_venue_test.cpp
  DEPS enigma::oms enigma_ws_test_server OpenSSL::Crypto
  LABELS integration TIMEOUT 60)
# Loopback servers and timers: never share the 2 cores.
set_tests_properties(engine_okx_venue_test PROPERTIES RUN_SERIAL TRUE)
