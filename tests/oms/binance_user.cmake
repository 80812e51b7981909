# Binance USD-M user-data stream and REST order answers -> ExecReports (engine live mode, item 1).
enigma_add_test(oms_binance_user_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/binance_user_test.cpp
  DEPS enigma::oms
  LABELS unit)
