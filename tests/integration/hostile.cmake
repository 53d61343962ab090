# tests/integration/hostile.cmake - integration.hostile: mutated captures through six commands
# (tests/integration/hostile.py, mutants from tests/support/mutcap.py), in every build, so that
# the ASan + UBSan build replays them too. FM_HOSTILE_N=500 ctest -R hostile: the full run.
add_test(NAME integration.hostile
         COMMAND ${FM_PYTHON3_REAL} ${CMAKE_CURRENT_SOURCE_DIR}/integration/hostile.py
                 $<TARGET_FILE:flowmimic> ${CMAKE_SOURCE_DIR})
set_tests_properties(integration.hostile PROPERTIES LABELS "integration;dumps" TIMEOUT 600
                     ENVIRONMENT "FM_DUMPS_DIR=${CMAKE_SOURCE_DIR}/../shared/traffic_dumps")
