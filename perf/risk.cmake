# Risk-gate micro-benchmarks, side by side with baselines in the same binary:
#   every pre-trade check for one order (and the reserve + release round trip) vs a single max-qty
#   comparison and vs a naive gate built on std::unordered_map / std::string / double.
# Run: build/<preset>/perf/bench_risk --benchmark_min_time=0.5
add_executable(bench_risk ${CMAKE_CURRENT_LIST_DIR}/risk/bench_risk_gate.cpp)
target_link_libraries(bench_risk PRIVATE enigma::risk benchmark::benchmark benchmark::benchmark_main)
