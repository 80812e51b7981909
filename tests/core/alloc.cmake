# Allocation-counting operator new/delete for any test that must prove a path allocates nothing.
# Link `enigma_test_alloc` and use enigma::test::AllocationScope (tests/support/alloc_counter.hpp).
if(NOT TARGET enigma_test_alloc)
  add_library(enigma_test_alloc STATIC ${PROJECT_SOURCE_DIR}/tests/support/alloc_counter.cpp)
  target_include_directories(enigma_test_alloc PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(enigma_test_alloc PUBLIC enigma::options)
  # The replacement operators live in the same object as AllocationScope: a test that uses the scope
  # pulls that object out of the archive, and with it the operators.
  add_library(enigma::test_alloc ALIAS enigma_test_alloc)
endif()

enigma_add_test(core_alloc_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/alloc_test.cpp
  DEPS enigma::core enigma_test_alloc)

enigma_add_test(core_book_side_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/book_side_test.cpp
  DEPS enigma::core enigma_test_alloc)
