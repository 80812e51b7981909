# Bybit V5 linear private stream + REST order answers + start-up readers (engine live mode). Seeds:
# tests/fuzz/corpus/bybit_user/.
enigma_add_fuzzer(fuzz_bybit_user SOURCES ${CMAKE_CURRENT_LIST_DIR}/bybit_user.cpp DEPS enigma::oms)
