# tests/unit/trx_recv.cmake - receive: the statistics engine, frame decoding and the receiver on
# loopback (unit), and `flowmimic receive` between two network namespaces (integration).
fm_add_unit_test(transceiver rstats LIBS fm_transceiver)

# A bounded sender of RTP + probe datagrams, to loopback or 198.18.0.0/15 only.
add_executable(udpsend ${CMAKE_CURRENT_SOURCE_DIR}/support/udpsend.c)

add_test(NAME integration.receive
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/integration/receive.sh $<TARGET_FILE:flowmimic>
                 ${CMAKE_SOURCE_DIR} $<TARGET_FILE:udpsend>)
set_tests_properties(integration.receive PROPERTIES LABELS "integration;netns" TIMEOUT 300
                     RUN_SERIAL TRUE
                     SKIP_RETURN_CODE 77)
