# Kernel rx/tx timestamps, busy-poll options, NIC timestamping capabilities and socket-stack detection on
# plain loopback sockets (issue 12 item 2); no Beast in this TU.
enigma_add_test(feed_transport_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/transport_test.cpp
  DEPS enigma::feed
  LABELS unit
  TIMEOUT 30)
