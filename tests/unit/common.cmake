fm_add_unit_test(common num LIBS fm_common)
