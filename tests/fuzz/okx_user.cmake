# OKX V5 USDT-margined swaps: private streams + REST order answers + start-up readers (engine live mode). Seeds:
# tests/fuzz/corpus/okx_user/.
enigma_add_fuzzer(fuzz_okx_user SOURCES ${CMAKE_CURRENT_LIST_DIR}/okx_user.cpp DEPS enigma::oms)
