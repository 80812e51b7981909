# Loopback frame latency of the TLS WebSocket client (server write -> client on_frame), beside the floor of
# a plain TCP loopback socket carrying the same bytes. Run: build/<preset>/perf/bench_ws
# The test server library is shared with tests/feed/ws.cmake (whichever is read first defines it).
if(NOT TARGET enigma_ws_test_server)
  add_library(enigma_ws_test_server STATIC ${PROJECT_SOURCE_DIR}/tests/support/ws_test_server.cpp)
  target_include_directories(enigma_ws_test_server PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(enigma_ws_test_server PUBLIC enigma::options Boost::headers OpenSSL::SSL OpenSSL::Crypto Threads::Threads)
endif()
add_executable(bench_ws ${CMAKE_CURRENT_LIST_DIR}/ws/bench_ws_latency.cpp)
target_link_libraries(bench_ws PRIVATE enigma::feed enigma_ws_test_server benchmark::benchmark)
target_compile_definitions(bench_ws PRIVATE ENIGMA_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
