# TLS WebSocket client + HTTPS client against a local Beast TLS server with fault injection (issue 3 item 7).
# The server is a reusable static library for other suites and benchmarks (perf/ws.cmake).
enigma_ws_test_server_library()
set(_ws_test_deps enigma::feed enigma_ws_test_server)
if(TARGET enigma_test_alloc)
  list(APPEND _ws_test_deps enigma_test_alloc)
endif()
enigma_add_test(feed_ws_client_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/ws_client_test.cpp
  DEPS ${_ws_test_deps}
  LABELS integration
  TIMEOUT 120)
# Timing-sensitive (reconnect, stale and ping timers on a loopback server): never share the 2 cores.
set_tests_properties(feed_ws_client_test PROPERTIES RUN_SERIAL TRUE)
