# Parsers of outside input added with `enigma download`, `[sim] order_latency_file` and `enigma backtest`
# (the rule: every parser of outside input has a fuzz target). Seeds: tests/fuzz/corpus/<name without fuzz_>/.
# research/download_parse.cpp (the parsers `enigma download` runs) is compiled in on its own rather than
# linking all of enigma::research (MPI, Eigen, SQLite, TBB; the fuzz build leaves the HTTPS client out).
enigma_add_fuzzer(fuzz_download_parse SOURCES ${CMAKE_CURRENT_LIST_DIR}/download_parse.cpp
                  ${PROJECT_SOURCE_DIR}/research/download_parse.cpp DEPS enigma::core simdjson::simdjson)
enigma_add_fuzzer(fuzz_latency_csv SOURCES ${CMAKE_CURRENT_LIST_DIR}/latency_csv.cpp DEPS enigma::oms)
enigma_add_fuzzer(fuzz_backtest_csv SOURCES ${CMAKE_CURRENT_LIST_DIR}/backtest_csv.cpp DEPS enigma::feed)
