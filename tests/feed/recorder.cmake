# Recorder / replayer suite (issue 3 item 6).
enigma_add_test(feed_recorder_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/recorder_test.cpp DEPS enigma::feed LABELS unit)
