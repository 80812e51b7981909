# Binance decode / decode + book benchmarks on the real USD-M BTCUSDT session, with On-Demand walk and DOM floors.
add_executable(bench_feed_binance ${CMAKE_CURRENT_LIST_DIR}/feed/bench_binance.cpp)
target_link_libraries(bench_feed_binance PRIVATE enigma::feed benchmark::benchmark)
target_compile_definitions(bench_feed_binance PRIVATE ENIGMA_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
