# Shared compile settings and the one helper that registers every test (STYLE.md item 4).

add_library(enigma_options INTERFACE)
add_library(enigma::options ALIAS enigma_options)
target_compile_options(enigma_options INTERFACE -Wall -Wextra -Wpedantic -Wno-unused-parameter
  $<$<CXX_COMPILER_ID:GNU>:-Wno-restrict>)  # GCC 12 false positives on std::string concatenation
if(ENIGMA_NATIVE)
  target_compile_options(enigma_options INTERFACE -march=native)
endif()
if(ENIGMA_DEV_CHECKS)
  target_compile_definitions(enigma_options INTERFACE ENIGMA_DEV_CHECKS=1)
endif()
# simdjson turns its development checks on by itself in any unit compiled without optimisation, and those
# checks change its class layouts: pinned off, a -O0 test and the -O1 library it calls agree on every type.
target_compile_definitions(enigma_options INTERFACE SIMDJSON_DEVELOPMENT_CHECKS=0)
if(ENIGMA_SANITIZE)
  string(REPLACE ";" "," _san "${ENIGMA_SANITIZE}")
  target_compile_options(enigma_options INTERFACE -fsanitize=${_san} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  target_link_options(enigma_options INTERFACE -fsanitize=${_san})
  # The GCC sanitizer builds (scripts/test.sh) leave out the UBSan checks that instrument every memory access or
  # virtual call and that ASan or the code's shape already covers: alignment (unaligned reads go through
  # memcpy), object-size and pointer-overflow (ASan finds the out-of-bounds access itself), vptr (no
  # polymorphic hot code). They cost a tenth of the build. Signed overflow, shifts, division, float casts,
  # bounds, enums, bools, null and missing returns stay checked; the clang fuzz build keeps every check.
  if("undefined" IN_LIST ENIGMA_SANITIZE AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(enigma_options INTERFACE -fno-sanitize=alignment,object-size,pointer-overflow,vptr)
  endif()
endif()

# enigma_add_library(<folder> SOURCES ... DEPS ...): target enigma_<folder>, alias enigma::<folder>.
function(enigma_add_library name)
  cmake_parse_arguments(A "" "" "SOURCES;DEPS" ${ARGN})
  add_library(enigma_${name} STATIC ${A_SOURCES})
  add_library(enigma::${name} ALIAS enigma_${name})
  target_include_directories(enigma_${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(enigma_${name} PUBLIC enigma::options ${A_DEPS})
  if(ENIGMA_UNITY)
    # Each library compiles as a few unity batches: the sources of a batch share one parse of the common
    # headers (Beast, simdjson, fmt) and one copy of their inline code. A cold ASan build of the libraries
    # takes 0.56 of the CPU time (1058 s -> 596 s). The sanitizer and fuzz presets turn it on; the release
    # build keeps one unit per source (code generation exactly as measured, and a source that misses an
    # include fails there).
    set_target_properties(enigma_${name} PROPERTIES UNITY_BUILD ON UNITY_BUILD_BATCH_SIZE 8)
    # A class defined in a batched source counts as "in a header" to GCC's check: noise, not a finding.
    target_compile_options(enigma_${name} PRIVATE $<$<CXX_COMPILER_ID:GNU>:-Wno-subobject-linkage>)
  endif()
endfunction()

# enigma_add_test(<name> SOURCES ... [DEPS ...] [LABELS unit|integration|slow] [TIMEOUT s])
function(enigma_add_test name)
  cmake_parse_arguments(A "" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  if(NOT A_TIMEOUT)
    set(A_TIMEOUT 120)
  endif()
  if(NOT A_LABELS)
    set(A_LABELS unit)
  endif()
  add_executable(${name} ${A_SOURCES})
  target_link_libraries(${name} PRIVATE ${A_DEPS} enigma_test_http enigma_test_main GTest::gtest GTest::gmock enigma::options)
  target_compile_definitions(${name} PRIVATE ENIGMA_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  # The code under test is the libraries, built -O3; the test's own code (GoogleTest, Beast test venues) gains
  # nothing from -O3 and compiles about twice as fast at -O1, which is most of CI's build time.
  target_compile_options(${name} PRIVATE $<$<CONFIG:Release>:-O1>)
  # Sanitizer builds (RelWithDebInfo presets): the libraries under test stay -O1; the test's own code at -O0
  # compiles in about 60 % of the time, and half of a sanitizer build is test code.
  target_compile_options(${name} PRIVATE $<$<CONFIG:RelWithDebInfo>:-O0>)
  # One ctest entry per executable keeps ctest fast to list and run on 2 cores.
  add_test(NAME ${name} COMMAND ${name} --gtest_brief=1)
  set_tests_properties(${name} PROPERTIES LABELS "${A_LABELS}" TIMEOUT ${A_TIMEOUT}
                       WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
endfunction()

# enigma_add_fuzzer(<name> SOURCES ... DEPS ... CORPUS dir): libFuzzer target, only with clang.
function(enigma_add_fuzzer name)
  cmake_parse_arguments(A "" "CORPUS" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${A_SOURCES})
  target_link_libraries(${name} PRIVATE ${A_DEPS} enigma::options)
  target_compile_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
endfunction()
include(${CMAKE_CURRENT_LIST_DIR}/folder_library.cmake)

# The local Beast TLS WebSocket/HTTPS test server (tests/support/ws_test_server.cpp) as a static library for
# suites and benchmarks alike; whichever area asks first defines it.
function(enigma_ws_test_server_library)
  if(NOT TARGET enigma_ws_test_server)
    add_library(enigma_ws_test_server STATIC ${PROJECT_SOURCE_DIR}/tests/support/ws_test_server.cpp)
    target_include_directories(enigma_ws_test_server PUBLIC ${PROJECT_SOURCE_DIR})
    target_link_libraries(enigma_ws_test_server PUBLIC enigma::options enigma::net)
  endif()
endfunction()
