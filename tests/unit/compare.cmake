# tests/unit/compare.cmake - `compare`: distances and statistics (models), the comparison on
# captures and models written by the test (estimator), and the command on the shared captures.
fm_add_unit_test(estimator compare LIBS fm_estimator)

add_test(NAME integration.compare
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/integration/compare.sh $<TARGET_FILE:flowmimic>
                 ${CMAKE_SOURCE_DIR})
set_tests_properties(integration.compare PROPERTIES LABELS "integration;cli;dumps" TIMEOUT 300
                     SKIP_RETURN_CODE 77
                     ENVIRONMENT "FM_DUMPS_DIR=${CMAKE_SOURCE_DIR}/../shared/traffic_dumps")
