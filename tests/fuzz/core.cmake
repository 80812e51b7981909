# Core fuzz targets (libFuzzer, clang): the decimal parser, the config loader and the book side (ladder + blocks).
enigma_add_fuzzer(fuzz_decimal SOURCES ${CMAKE_CURRENT_LIST_DIR}/decimal.cpp DEPS enigma::core
                  CORPUS ${CMAKE_CURRENT_LIST_DIR}/corpus/decimal)
enigma_add_fuzzer(fuzz_config SOURCES ${CMAKE_CURRENT_LIST_DIR}/config.cpp DEPS enigma::core
                  CORPUS ${CMAKE_CURRENT_LIST_DIR}/corpus/config)
enigma_add_fuzzer(fuzz_book_side SOURCES ${CMAKE_CURRENT_LIST_DIR}/book_side.cpp DEPS enigma::core
                  CORPUS ${CMAKE_CURRENT_LIST_DIR}/corpus/book_side)
