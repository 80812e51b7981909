# The venues' exchange-info answers ([exchange_info], feed/exchange_info.hpp). Seeds: tests/fuzz/corpus/exchange_info/
# (first byte: the venue; 0 Binance USD-M, 4 KuCoin Futures, 5 OKX, 6 Bybit).
enigma_add_fuzzer(fuzz_exchange_info SOURCES ${CMAKE_CURRENT_LIST_DIR}/exchange_info.cpp DEPS enigma::feed)
