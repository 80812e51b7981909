# The admin dashboard (GET /, /ws) in a real headless Chromium over WebDriver, against a recorded-pace
# replay: live numbers, a kill clicked with the token. Skips (77) where Chromium or chromedriver is missing.
add_test(NAME engine_dashboard_test
         COMMAND python3 ${CMAKE_CURRENT_LIST_DIR}/dashboard_test.py $<TARGET_FILE:enigma> ${PROJECT_SOURCE_DIR}
                 ${PROJECT_BINARY_DIR}/dashboard-screenshot.png)
# Loopback WebSocket pushes and a browser beside a recorded-pace replay: never share the 2 cores. About 15 s,
# so `slow` (skipped under the sanitizers).
set_tests_properties(engine_dashboard_test PROPERTIES LABELS "integration;slow" TIMEOUT 60 RUN_SERIAL TRUE
                     SKIP_RETURN_CODE 77)
enigma_add_test(engine_admin_ws_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/admin_ws_test.cpp
  DEPS enigma::engine
  LABELS integration)
# Loopback WebSocket pushes on a 20 ms timer: never share the 2 cores.
set_tests_properties(engine_admin_ws_test PROPERTIES RUN_SERIAL TRUE)
