# OKX V5 USDT-margined swaps: order-entry encoder, private streams and REST order answers -> ExecReports,
# start-up readers (fixtures: data/okx/nautilus_crate_*.json).
enigma_add_test(oms_okx_user_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/okx_user_test.cpp
  DEPS enigma::oms enigma_test_alloc)
