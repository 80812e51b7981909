# KuCoin decoders and book-apply (seed corpus: real frames from data/kucoin in corpus/kucoin_*).
enigma_add_fuzzer(fuzz_kucoin_decoder SOURCES ${CMAKE_CURRENT_LIST_DIR}/kucoin_decoder.cpp DEPS enigma::feed)
enigma_add_fuzzer(fuzz_kucoin_book SOURCES ${CMAKE_CURRENT_LIST_DIR}/kucoin_book.cpp DEPS enigma::feed)
# KuCoin Futures private stream + REST order answers + start-up readers (engine live mode). Seeds:
# tests/fuzz/corpus/kucoin_user/.
enigma_add_fuzzer(fuzz_kucoin_user SOURCES ${CMAKE_CURRENT_LIST_DIR}/kucoin_user.cpp DEPS enigma::oms)
