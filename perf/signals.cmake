# Signal micro-benchmarks (issue 4 item 8): a full signal update per event (every scorer indicator +
# scoring) side by side with naive recomputation of the same indicators over a window, plus the per-trade
# confluence strategy, order-flow and bar-building paths, all on real data from data/candles/.
# Run: build/<dir>/perf/bench_signals --benchmark_min_time=0.5
add_executable(bench_signals ${CMAKE_CURRENT_LIST_DIR}/signals/bench_signals.cpp)
target_link_libraries(bench_signals PRIVATE enigma::strategy benchmark::benchmark benchmark::benchmark_main ZLIB::ZLIB)
target_compile_definitions(bench_signals PRIVATE ENIGMA_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
