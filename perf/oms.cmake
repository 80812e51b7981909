# OMS micro-benchmarks (issue 5 item 10), side by side with baselines in the same binary:
#   encode + sign a new order (KuCoin Futures, Binance USD-M) vs std::string + one-shot HMAC();
#   HMAC-SHA256 with a precomputed key schedule vs one-shot HMAC() and EVP_MAC re-init;
#   kill switch trigger -> 100 cancel requests encoded and signed vs a naive map/string version.
# Run: build/<dir>/perf/bench_oms --benchmark_min_time=0.5
add_executable(bench_oms ${CMAKE_CURRENT_LIST_DIR}/oms/bench_oms.cpp)
target_link_libraries(bench_oms PRIVATE enigma::oms benchmark::benchmark)
