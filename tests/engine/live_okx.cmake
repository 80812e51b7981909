# `run_live` on OKX V5 USDT swaps: gateway, private streams (login op; orders and, on the business endpoint, orders-algo) and the order path against a
# local OKX TLS venue (tests/support/fake_okx.hpp).
enigma_add_test(engine_live_okx_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/live_okx_test.cpp
  DEPS enigma::engine enigma_ws_test_server
  LABELS integration TIMEOUT 360)
# 360 s: under TSan (scripts/test.sh) the suite (10 cases) takes ~190 s alone on the 2-core VM, 140 s for 7 on CI;
# release takes 25-30 s.
# Loopback servers and timers: never share the 2 cores.
set_tests_properties(engine_live_okx_test PROPERTIES RUN_SERIAL TRUE)
# The binary case drives `enigma live` with config/live-okx.toml.
add_dependencies(engine_live_okx_test enigma)
target_compile_definitions(engine_live_okx_test PRIVATE ENIGMA_BINARY="$<TARGET_FILE:enigma>")
