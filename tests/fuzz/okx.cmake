# OKX decoder and book-apply (seed corpus: real frames from data/okx in corpus/okx_*).
enigma_add_fuzzer(fuzz_okx_decoder SOURCES ${CMAKE_CURRENT_LIST_DIR}/okx_decoder.cpp DEPS enigma::feed)
enigma_add_fuzzer(fuzz_okx_book SOURCES ${CMAKE_CURRENT_LIST_DIR}/okx_book.cpp DEPS enigma::feed)
