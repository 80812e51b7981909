# Core micro-benchmarks, each side by side with its baseline in the same binary:
#   decimal parse vs std::from_chars, SpscRing vs moodycamel ReaderWriterQueue, histogram record,
#   enigma logger call vs spdlog async.
# Run: build/<preset>/perf/bench_core --benchmark_min_time=0.2
find_package(spdlog REQUIRED)
find_path(READERWRITERQUEUE_INCLUDE_DIR readerwriterqueue/readerwriterqueue.h REQUIRED)
add_executable(bench_core
  ${CMAKE_CURRENT_LIST_DIR}/core/bench_decimal.cpp
  ${CMAKE_CURRENT_LIST_DIR}/core/bench_ring.cpp
  ${CMAKE_CURRENT_LIST_DIR}/core/bench_histogram.cpp
  ${CMAKE_CURRENT_LIST_DIR}/core/bench_logger.cpp)
target_include_directories(bench_core PRIVATE ${READERWRITERQUEUE_INCLUDE_DIR})
target_link_libraries(bench_core PRIVATE enigma::core benchmark::benchmark benchmark::benchmark_main spdlog::spdlog)
target_compile_definitions(bench_core PRIVATE ENIGMA_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
