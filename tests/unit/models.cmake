fm_add_unit_test(models stats LIBS fm_models)
fm_add_unit_test(models gmm LIBS fm_models)
fm_add_unit_test(models mixture LIBS fm_models)
