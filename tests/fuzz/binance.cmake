# Fuzz targets for the Binance, Bybit and Coinbase decoders and for Binance book-apply (issue 3 item 8).
# Seed corpora of real messages: tests/fuzz/corpus/<name>/.
enigma_add_fuzzer(fuzz_binance_decode SOURCES ${CMAKE_CURRENT_LIST_DIR}/binance_decode.cpp DEPS enigma::feed)
enigma_add_fuzzer(fuzz_binance_book SOURCES ${CMAKE_CURRENT_LIST_DIR}/binance_book.cpp DEPS enigma::feed)
enigma_add_fuzzer(fuzz_bybit_decode SOURCES ${CMAKE_CURRENT_LIST_DIR}/bybit_decode.cpp DEPS enigma::feed)
enigma_add_fuzzer(fuzz_coinbase_decode SOURCES ${CMAKE_CURRENT_LIST_DIR}/coinbase_decode.cpp DEPS enigma::feed)
