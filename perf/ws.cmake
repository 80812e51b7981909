# Loopback frame latency of the TLS WebSocket client (server write -> client on_frame), beside the floor of
# a plain TCP loopback socket carrying the same bytes. Run: build/<preset>/perf/bench_ws
# The test server library is shared with tests/feed/ws.cmake and perf/live.cmake (enigma_ws_test_server_library).
enigma_ws_test_server_library()
add_executable(bench_ws ${CMAKE_CURRENT_LIST_DIR}/ws/bench_ws_latency.cpp)
target_link_libraries(bench_ws PRIVATE enigma::feed enigma_ws_test_server benchmark::benchmark)
target_compile_definitions(bench_ws PRIVATE ENIGMA_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
