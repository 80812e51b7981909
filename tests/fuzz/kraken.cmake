# Kraken spot v2 and Futures v1 decoders with book sync (seed corpus: data/kraken frames in corpus/kraken_*).
enigma_add_fuzzer(fuzz_kraken_spot_decode SOURCES ${CMAKE_CURRENT_LIST_DIR}/kraken_spot_decode.cpp DEPS enigma::feed)
enigma_add_fuzzer(fuzz_kraken_futures_decode SOURCES ${CMAKE_CURRENT_LIST_DIR}/kraken_futures_decode.cpp DEPS enigma::feed)
