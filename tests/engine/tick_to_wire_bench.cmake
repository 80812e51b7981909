# The tick-to-wire bench (perf/live/bench_tick_to_wire) driven as a user runs it, on a short session: its
# live loopback section is checked against the run's own journals and histograms. Only where the
# benchmarks are built (release, debug).
if(TARGET bench_tick_to_wire)
  enigma_add_test(engine_tick_to_wire_bench_test
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/tick_to_wire_bench_test.cpp
    DEPS enigma::oms
    LABELS integration TIMEOUT 300)
  add_dependencies(engine_tick_to_wire_bench_test bench_tick_to_wire)
  target_compile_definitions(engine_tick_to_wire_bench_test PRIVATE ENIGMA_TICK_TO_WIRE_BENCH="$<TARGET_FILE:bench_tick_to_wire>"
                            ENIGMA_BINARY="$<TARGET_FILE:enigma>")  # tests/support/enigma_process.hpp wants it
  # Spinning transports, loopback servers and timers: never share the 2 cores.
  set_tests_properties(engine_tick_to_wire_bench_test PROPERTIES RUN_SERIAL TRUE)
endif()
