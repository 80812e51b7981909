# `run_live` on Bybit V5 linear perpetuals: gateway, private stream (auth op) and the order path against a
# local Bybit TLS venue (tests/support/fake_bybit.hpp).
enigma_add_test(engine_live_bybit_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/live_bybit_test.cpp
  DEPS enigma::engine enigma_ws_test_server
  LABELS integration TIMEOUT 240)
# 240 s: under TSan (scripts/test.sh) the suite takes 85-130 s on the 2-core VM; release takes 15-20 s.
# Loopback servers and timers: never share the 2 cores.
set_tests_properties(engine_live_bybit_test PROPERTIES RUN_SERIAL TRUE)
# The binary case drives `enigma live` with config/live-bybit.toml.
add_dependencies(engine_live_bybit_test enigma)
target_compile_definitions(engine_live_bybit_test PRIVATE ENIGMA_BINARY="$<TARGET_FILE:enigma>")
