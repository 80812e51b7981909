# Parsers of outside input added with `enigma download`, `[sim] order_latency_file` and `enigma backtest`
# (the rule: every parser of outside input has a fuzz target). Seeds: tests/fuzz/corpus/<name without fuzz_>/.
enigma_add_fuzzer(fuzz_download_parse SOURCES ${CMAKE_CURRENT_LIST_DIR}/download_parse.cpp DEPS enigma::research)
enigma_add_fuzzer(fuzz_latency_csv SOURCES ${CMAKE_CURRENT_LIST_DIR}/latency_csv.cpp DEPS enigma::oms)
enigma_add_fuzzer(fuzz_backtest_csv SOURCES ${CMAKE_CURRENT_LIST_DIR}/backtest_csv.cpp DEPS enigma::feed)
