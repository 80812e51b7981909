# "Nothing lost" (issue 11 items 2-3) through the binary: journal space reserved at start (tmpfs disk
# full), journal-check, and recordings from `enigma convert` replayed like their source.
enigma_add_test(engine_journal_cli_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/journal_cli_test.cpp
  DEPS enigma::oms
  LABELS integration TIMEOUT 300)
add_dependencies(engine_journal_cli_test enigma)
target_compile_definitions(engine_journal_cli_test PRIVATE ENIGMA_BINARY="$<TARGET_FILE:enigma>")
