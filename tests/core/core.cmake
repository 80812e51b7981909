enigma_add_test(core_fixed_point_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/fixed_point_test.cpp
  DEPS enigma::core)
