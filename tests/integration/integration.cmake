# tests/integration/integration.cmake - tests of the whole program and of the real captures.
# Tests that send between namespaces measure timing: each runs alone (RUN_SERIAL), since two
# senders spinning at once on a 2-core machine would time each other, not the code.
add_executable(mkpcap ${CMAKE_CURRENT_SOURCE_DIR}/support/mkpcap.c)
target_link_libraries(mkpcap PRIVATE PkgConfig::PCAP)

add_executable(test_integration_dumps ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_dumps.c)
target_link_libraries(test_integration_dumps PRIVATE fm_estimator PkgConfig::CMOCKA)
add_test(NAME integration.dumps COMMAND test_integration_dumps)
set_tests_properties(integration.dumps PROPERTIES LABELS "integration;dumps" TIMEOUT 300
                     ENVIRONMENT "FM_DUMPS_DIR=${CMAKE_SOURCE_DIR}/../shared/traffic_dumps")

add_test(NAME integration.cli
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/integration/cli.sh $<TARGET_FILE:flowmimic>
                 $<TARGET_FILE:mkpcap> ${CMAKE_SOURCE_DIR})
set_tests_properties(integration.cli PROPERTIES LABELS "integration;cli" TIMEOUT 300)

add_executable(wirecheck ${CMAKE_CURRENT_SOURCE_DIR}/support/wirecheck.c)
target_link_libraries(wirecheck PRIVATE fm_transceiver fm_models PkgConfig::PCAP)
add_test(NAME integration.call
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/integration/call.sh $<TARGET_FILE:flowmimic>
                 $<TARGET_FILE:wirecheck> ${CMAKE_SOURCE_DIR})
set_tests_properties(integration.call PROPERTIES LABELS "integration;netns" TIMEOUT 300
                     RUN_SERIAL TRUE
                     SKIP_RETURN_CODE 77)

add_test(NAME integration.capture
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/integration/capture.sh $<TARGET_FILE:flowmimic>
                 ${CMAKE_SOURCE_DIR} $<TARGET_FILE:udpsend>)
set_tests_properties(integration.capture PROPERTIES LABELS "integration;netns" TIMEOUT 300
                     RUN_SERIAL TRUE
                     SKIP_RETURN_CODE 77)
include(${CMAKE_CURRENT_SOURCE_DIR}/integration/hostile.cmake)

# Every output on the shared captures, hashed, against tests/golden/expected.txt: a
# refactoring keeps them to the byte (tests/golden/golden.sh --update after a meant change).
add_test(NAME integration.golden
         COMMAND bash ${CMAKE_SOURCE_DIR}/tests/golden/golden.sh $<TARGET_FILE:flowmimic>
                 ${CMAKE_SOURCE_DIR})
set_tests_properties(integration.golden PROPERTIES LABELS "integration;dumps" TIMEOUT 600)
