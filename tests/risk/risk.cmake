enigma_add_test(risk_formulas_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/formulas_test.cpp
  DEPS enigma::risk)
enigma_add_test(risk_gate_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/gate_test.cpp
  DEPS enigma::risk enigma_test_alloc)
# risk/correlation.hpp: Pearson of hand-made return series (perfect, opposite, worked by hand), empty intervals,
# readiness, untracked ids, no allocation.
enigma_add_test(risk_correlation_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/correlation_test.cpp
  DEPS enigma::risk enigma_test_alloc)
enigma_add_test(risk_safety_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/safety_test.cpp
  DEPS enigma::risk)
