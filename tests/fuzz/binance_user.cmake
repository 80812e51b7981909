# Binance USD-M user-data stream + REST order answers (engine live mode). Seeds: tests/fuzz/corpus/binance_user/.
enigma_add_fuzzer(fuzz_binance_user SOURCES ${CMAKE_CURRENT_LIST_DIR}/binance_user.cpp DEPS enigma::oms)
