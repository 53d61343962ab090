# tests/unit/trx_gen.cmake - generate: variants, packets, the model source, sinks, and the
# `generate` command end to end on the bundled captures.
fm_add_unit_test(models variant LIBS fm_models)
fm_add_unit_test(transceiver packet LIBS fm_transceiver)
fm_add_unit_test(transceiver source LIBS fm_transceiver)
fm_add_unit_test(transceiver sink LIBS fm_transceiver)

add_test(NAME integration.generate
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/integration/generate.sh $<TARGET_FILE:flowmimic>
                 ${CMAKE_SOURCE_DIR})
set_tests_properties(integration.generate PROPERTIES LABELS "integration;generate" TIMEOUT 300
                     SKIP_RETURN_CODE 77)
