# Hostile recorded input through the binary (issue 18, "Recorded data"): impossible prices and sizes,
# duplicate book updates, bad lines, a truncated .gz, a line beyond the 16 MiB limit, --strict.
enigma_add_test(engine_bad_input_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/bad_input_test.cpp
  DEPS enigma::feed
  LABELS integration TIMEOUT 120)
add_dependencies(engine_bad_input_test enigma)
target_compile_definitions(engine_bad_input_test PRIVATE ENIGMA_BINARY="$<TARGET_FILE:enigma>")
