# tests/unit/estimator.cmake - estimator/: flow table, flow selection, estimate, compare, holdout.
fm_add_unit_test(estimator flow LIBS fm_estimator)
fm_add_unit_test(estimator estimate LIBS fm_estimator)
fm_add_unit_test(estimator compare LIBS fm_estimator)
fm_add_unit_test(estimator holdout LIBS fm_estimator)
fm_add_unit_test(estimator select LIBS fm_estimator)

# Reads the real captures beside the checkout (../shared/traffic_dumps); opt-in by label.
fm_add_unit_test(estimator dumps LIBS fm_estimator)
set_tests_properties(unit.estimator.dumps PROPERTIES LABELS "unit;estimator;dumps"
                     ENVIRONMENT "FM_TEST_DATA=${CMAKE_CURRENT_SOURCE_DIR}/data;FM_DUMPS_DIR=${CMAKE_CURRENT_SOURCE_DIR}/../../shared/traffic_dumps")
