# [exchange_info] through `enigma replay` (issue 13 item 2): the venue's instrument list gives every book its
# tick and lot and checks [[instrument]] against it; bad files and disagreements exit 3 naming the key. ~1 s.
enigma_add_test(engine_exchange_info_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/exchange_info_test.cpp
  DEPS enigma::engine
  LABELS integration TIMEOUT 120)
add_dependencies(engine_exchange_info_test enigma)
target_compile_definitions(engine_exchange_info_test PRIVATE ENIGMA_BINARY="$<TARGET_FILE:enigma>")
