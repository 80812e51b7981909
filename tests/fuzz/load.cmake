# Fuzz targets for the remaining parsers of outside input (issue 18): the indicators CSV reader, the capture
# reader (every container and format, ENIGREC1 included), the admin endpoint's request handling (no socket)
# and KuCoin's bullet REST answer. Seed corpora of real data: tests/fuzz/corpus/<name without fuzz_>/.
enigma_add_fuzzer(fuzz_indicators_csv SOURCES ${CMAKE_CURRENT_LIST_DIR}/indicators_csv.cpp DEPS enigma::strategy)
enigma_add_fuzzer(fuzz_capture_reader SOURCES ${CMAKE_CURRENT_LIST_DIR}/capture_reader.cpp DEPS enigma::feed)
enigma_add_fuzzer(fuzz_admin_http SOURCES ${CMAKE_CURRENT_LIST_DIR}/admin_http.cpp DEPS enigma::admin_http)
enigma_add_fuzzer(fuzz_kucoin_bullet SOURCES ${CMAKE_CURRENT_LIST_DIR}/kucoin_bullet.cpp DEPS enigma::feed)
