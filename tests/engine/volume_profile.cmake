# kind = "volume-profile" (issue 15 item 4): replays of a bundled Binance capture (a rolling and a session
# profile) enter and exit exactly at the trades where the test, parsing the capture's raw trade frames itself and
# rebuilding the volume profile naively, finds value-area breakouts and rejections; bad keys exit 3 naming the
# key; `enigma strategies` lists the kind and its keys. Two ~1 s replays.
enigma_add_test(engine_volume_profile_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/volume_profile_test.cpp
  DEPS enigma::engine
  LABELS integration TIMEOUT 120)
add_dependencies(engine_volume_profile_test enigma)
target_compile_definitions(engine_volume_profile_test PRIVATE ENIGMA_BINARY="$<TARGET_FILE:enigma>")
