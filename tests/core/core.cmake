# Core unit tests. Executables are named core_*_test so scripts/test.sh can run them under tsan/asan.
foreach(suite fixed_point instrument spsc_ring clock histogram stage_runner logger config prefault)
  enigma_add_test(core_${suite}_test
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/${suite}_test.cpp
    DEPS enigma::core)
endforeach()
