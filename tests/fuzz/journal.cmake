# Fuzz target for the order journal reader (issue 11 item 2): arbitrary bytes opened as a journal file.
enigma_add_fuzzer(fuzz_journal SOURCES ${CMAKE_CURRENT_LIST_DIR}/journal.cpp DEPS enigma::oms)
