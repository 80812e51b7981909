# OMS fuzz target: the order state machine under arbitrary (shuffled, duplicated, dropped) report sequences.
enigma_add_fuzzer(fuzz_oms_order_state SOURCES ${CMAKE_CURRENT_LIST_DIR}/oms_order_state.cpp DEPS enigma::oms
                  CORPUS ${CMAKE_CURRENT_LIST_DIR}/corpus/oms_order_state)
