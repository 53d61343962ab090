# tests/unit/models.cmake - models/: statistics, EM, mixtures, model and variant JSON, the
# sequence model.
fm_add_unit_test(models stats LIBS fm_models)
fm_add_unit_test(models gmm LIBS fm_models)
fm_add_unit_test(models mixture LIBS fm_models)
fm_add_unit_test(models json LIBS fm_models)
fm_add_unit_test(models seq LIBS fm_models TIMEOUT 120)
fm_add_unit_test(models variant LIBS fm_models)
fm_add_unit_test(models draw LIBS fm_models)
