# Optimizer benchmarks (issue 14): one candle trial, and the plan's 8,640-set grid on 1 and 2 oneTBB threads
# over the bundled 66 days of BTCUSDT 5 m candles (wall time: the 1 -> 2 thread speed-up).
# Run: build/<dir>/perf/bench_optimizer
if(TARGET enigma::research)
  add_executable(bench_optimizer ${CMAKE_CURRENT_LIST_DIR}/research/bench_optimizer.cpp)
  target_link_libraries(bench_optimizer PRIVATE enigma::research benchmark::benchmark benchmark::benchmark_main)
  target_compile_definitions(bench_optimizer PRIVATE ENIGMA_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
endif()
