# Signed bytes -> kernel transmit stamp on a loopback TCP socket (issue 12 target: p50 <= 2 us).
# Run: build/<preset>/perf/bench_net
add_executable(bench_net ${CMAKE_CURRENT_LIST_DIR}/net/bench_tx_stamp.cpp)
target_link_libraries(bench_net PRIVATE enigma::feed benchmark::benchmark)
