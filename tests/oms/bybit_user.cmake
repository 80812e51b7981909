# Bybit V5 linear perpetuals: order-entry encoder, private stream and REST order answers -> ExecReports,
# start-up readers (fixtures: data/bybit/nautilus_crate_*.json).
enigma_add_test(oms_bybit_user_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/bybit_user_test.cpp
  DEPS enigma::oms enigma_test_alloc)
