# `enigma` as a process: run directories, interruptions and their exit codes, SIGUSR1/SIGHUP, runtime errors
# in the run's log.
enigma_add_test(engine_runs_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/runs_test.cpp
  DEPS enigma::engine
  LABELS integration TIMEOUT 300)
add_dependencies(engine_runs_test enigma)
target_compile_definitions(engine_runs_test PRIVATE ENIGMA_BINARY="$<TARGET_FILE:enigma>")
# Signals sent at recorded pace and a 2 s bound on stopping inside a gap: never share the 2 cores.
set_tests_properties(engine_runs_test PROPERTIES RUN_SERIAL TRUE)
# The pipelined strategy thread hands every intent it produced to the OMS, fills arriving mid-frame or not.
# 1.3 s in release; a sanitizer build runs it with a tenth of the strategies (see the test).
enigma_add_test(engine_pipelined_intents_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/pipelined_intents_test.cpp
  DEPS enigma::engine
  LABELS integration TIMEOUT 300)
