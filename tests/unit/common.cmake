# tests/unit/common.cmake - common/: errors, numbers, files, histograms, the hash table.
fm_add_unit_test(common num LIBS fm_common)
fm_add_unit_test(common file LIBS fm_common)
fm_add_unit_test(common err LIBS fm_common)
fm_add_unit_test(common hist LIBS fm_common)
fm_add_unit_test(common map LIBS fm_common)
