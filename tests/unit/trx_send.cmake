# tests/unit/trx_send.cmake - replay: the deadline timer and the send loop on a fake clock (unit),
# and `flowmimic replay` between two network namespaces (integration, root only).
fm_add_unit_test(transceiver timer LIBS fm_transceiver)
fm_add_unit_test(transceiver sender LIBS fm_transceiver)

add_test(NAME integration.replay
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/integration/replay.sh $<TARGET_FILE:flowmimic>
                 ${CMAKE_SOURCE_DIR})
set_tests_properties(integration.replay PROPERTIES LABELS "integration;netns" TIMEOUT 300
                     RUN_SERIAL TRUE
                     SKIP_RETURN_CODE 77)
