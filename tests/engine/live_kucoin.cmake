# `enigma live` on KuCoin Futures: gateway, private stream, reconciliation and key check against a local
# KuCoin Futures TLS venue (tests/support/fake_kucoin_futures.hpp).
enigma_add_test(engine_live_kucoin_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/live_kucoin_test.cpp
  DEPS enigma::engine enigma_ws_test_server
  LABELS integration TIMEOUT 180)
# Loopback servers and timers: never share the 2 cores.
set_tests_properties(engine_live_kucoin_test PROPERTIES RUN_SERIAL TRUE)
# The CLI case drives the `enigma live` binary (config and credential checks before --confirm).
add_dependencies(engine_live_kucoin_test enigma)
target_compile_definitions(engine_live_kucoin_test PRIVATE ENIGMA_BINARY="$<TARGET_FILE:enigma>")
