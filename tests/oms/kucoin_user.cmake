# KuCoin Futures private stream and REST order answers -> ExecReports, start-up readers (engine live mode).
enigma_add_test(oms_kucoin_user_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/kucoin_user_test.cpp
  DEPS enigma::oms enigma_test_alloc)
