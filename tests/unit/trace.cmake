# tests/unit/trace.cmake - JSON packet traces: models/trace.c, estimator/validate.c and the
# convert/validate commands.
fm_add_unit_test(models trace LIBS fm_models)
fm_add_unit_test(estimator validate LIBS fm_estimator)
fm_add_unit_test(estimator trace_pcap LIBS fm_estimator)
add_test(NAME integration.trace
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/integration/trace.sh $<TARGET_FILE:flowmimic>
                 ${CMAKE_SOURCE_DIR})
set_tests_properties(integration.trace PROPERTIES LABELS "integration;cli" TIMEOUT 300)
add_test(NAME integration.trace_dumps
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/integration/trace.sh $<TARGET_FILE:flowmimic>
                 ${CMAKE_SOURCE_DIR} ${CMAKE_SOURCE_DIR}/../shared/traffic_dumps)
set_tests_properties(integration.trace_dumps PROPERTIES LABELS "integration;dumps" TIMEOUT 300)
