# Load and endurance (issue 18): `paper` against the local TLS venue at 2x / 10x the recorded peak rate and
# unpaced (stress), and a long run with faults on a schedule (soak). Loopback servers and a paced sender:
# never share the 2 cores. Both run the engine for long (about 15 s and 70 s in CI): labelled slow.
enigma_add_test(engine_stress_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/stress_test.cpp
  DEPS enigma::engine enigma_ws_test_server
  LABELS integration slow TIMEOUT 300)
# One malloc arena: the RSS-flat check measures what the engine keeps, not the freed memory glibc's
# per-thread arenas hold on to after each run's threads exit (with the default arenas the same run repeated
# in one process grows ~6 MiB; with one arena it is flat, so that growth is the allocator's cache, not a leak).
set_tests_properties(engine_stress_test PROPERTIES RUN_SERIAL TRUE ENVIRONMENT "MALLOC_ARENA_MAX=1")
enigma_add_test(engine_soak_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/soak_test.cpp
  DEPS enigma::engine enigma_ws_test_server
  LABELS integration slow TIMEOUT 300)
set_tests_properties(engine_soak_test PROPERTIES RUN_SERIAL TRUE)
