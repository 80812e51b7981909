# `enigma bench` plus the live loopback section (tick-to-wire per transport against the local TLS test
# venue of tests/support). Run: scripts/bench.sh, or build/<preset>/perf/bench_tick_to_wire --config F
enigma_ws_test_server_library()
find_package(GTest REQUIRED)  # the test support's temp paths (::testing::TempDir)
add_executable(bench_tick_to_wire ${CMAKE_CURRENT_LIST_DIR}/live/bench_tick_to_wire.cpp
               ${PROJECT_SOURCE_DIR}/tests/support/binance_ws_api_venue.cpp)
target_link_libraries(bench_tick_to_wire PRIVATE enigma::engine enigma_ws_test_server GTest::gtest)
target_compile_definitions(bench_tick_to_wire PRIVATE ENIGMA_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
