# tuning/enigma.service and tuning/enigma-service.sh: paper by default, live only when confirmed, no
# restart loop on configuration errors, `systemd-analyze verify` where it is installed.
add_test(NAME engine_service_test COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/service_test.sh ${PROJECT_SOURCE_DIR})
set_tests_properties(engine_service_test PROPERTIES LABELS unit TIMEOUT 60)
