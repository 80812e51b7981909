# KuCoin spot and OKX decode / decode + book benchmarks on the real captures in data/, each beside its
# floors (simdjson On-Demand walk of the same bytes doing no work, and a DOM parse).
# Run: build/<preset>/perf/bench_feed_kucoin --benchmark_min_time=0.5
add_executable(bench_feed_kucoin ${CMAKE_CURRENT_LIST_DIR}/feed_kucoin/bench_kucoin_okx.cpp)
target_link_libraries(bench_feed_kucoin PRIVATE enigma::feed benchmark::benchmark)
target_compile_definitions(bench_feed_kucoin PRIVATE ENIGMA_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
