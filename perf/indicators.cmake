# Indicator micro-benchmarks (issue 4 item 8): ns per incremental update of each indicator, side by side in
# the same binary with recomputing it from scratch over its window for every bar (the naive way), on the
# 20,695 real Coinbase BTC-USD 4h candles of data/indicators/.
# Run: build/<dir>/perf/bench_indicators --benchmark_min_time=0.2
add_executable(bench_indicators ${CMAKE_CURRENT_LIST_DIR}/indicators/bench_indicators.cpp)
target_link_libraries(bench_indicators PRIVATE enigma::strategy benchmark::benchmark)
target_compile_definitions(bench_indicators PRIVATE ENIGMA_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
