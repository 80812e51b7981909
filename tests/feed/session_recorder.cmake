# The paper/live session recorder (SPSC ring + writer thread, rotated ENIGREC1 segments, zstd).
enigma_add_test(feed_session_recorder_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/session_recorder_test.cpp DEPS enigma::feed enigma_test_alloc LABELS unit)
