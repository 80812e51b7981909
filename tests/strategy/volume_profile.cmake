# kind = "volume-profile": POC / value area of hand-computed profiles, rolling / session / span restarts, a
# crafted rejection and breakouts, zero allocations on a real tape (data/candles/).
enigma_add_test(strategy_volume_profile_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/volume_profile_test.cpp
  DEPS enigma::strategy enigma_test_alloc ZLIB::ZLIB
  LABELS unit)
