# Fuzz target for the recording file reader (issue 3 item 6): arbitrary bytes after a valid file header.
enigma_add_fuzzer(fuzz_recorder_reader SOURCES ${CMAKE_CURRENT_LIST_DIR}/recorder_reader.cpp DEPS enigma::feed)
