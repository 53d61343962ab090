# tests/integration/integration.cmake - tests of the whole program and of the real captures.
# Tests that send between namespaces measure timing: each runs alone (RUN_SERIAL), since two
# senders spinning at once on a 2-core machine would time each other, not the code.
add_executable(mkpcap ${CMAKE_CURRENT_SOURCE_DIR}/support/mkpcap.c)
target_link_libraries(mkpcap PRIVATE PkgConfig::PCAP)

add_executable(test_integration_dumps ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_dumps.c)
target_link_libraries(test_integration_dumps PRIVATE fm_estimator PkgConfig::CMOCKA)
add_test(NAME integration.dumps COMMAND test_integration_dumps)
# Fitting every shared capture with the defaults (--max-k 10 and the sequence model) takes
# about 4 minutes in a Debug build and more than 5 under the sanitizers.
set_tests_properties(integration.dumps PROPERTIES LABELS "integration;dumps" TIMEOUT 900
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

# The sequence model's time structure on the shared captures, measured from outside with
# tshark (bench/time_structure.py): about 1 minute in a Debug build.
add_test(NAME integration.timestruct
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/integration/timestruct.sh
                 $<TARGET_FILE:flowmimic> ${CMAKE_SOURCE_DIR})
set_tests_properties(integration.timestruct PROPERTIES LABELS "integration;dumps" TIMEOUT 900
                     SKIP_RETURN_CODE 77)

# Every output on the shared captures, hashed, against tests/golden/expected.txt: a
# refactoring keeps them to the byte (tests/golden/golden.sh --update after a meant change).
add_test(NAME integration.golden
         COMMAND bash ${CMAKE_SOURCE_DIR}/tests/golden/golden.sh $<TARGET_FILE:flowmimic>
                 ${CMAKE_SOURCE_DIR})
set_tests_properties(integration.golden PROPERTIES LABELS "integration;dumps" TIMEOUT 1200
                     SKIP_RETURN_CODE 77)

# ---- per command ----
add_test(NAME integration.compare
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/integration/compare.sh $<TARGET_FILE:flowmimic>
                 ${CMAKE_SOURCE_DIR})
set_tests_properties(integration.compare PROPERTIES LABELS "integration;cli;dumps" TIMEOUT 900
                     SKIP_RETURN_CODE 77
                     ENVIRONMENT "FM_DUMPS_DIR=${CMAKE_SOURCE_DIR}/../shared/traffic_dumps")

add_test(NAME integration.holdout
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/integration/holdout.sh $<TARGET_FILE:flowmimic>
                 ${CMAKE_SOURCE_DIR})
set_tests_properties(integration.holdout PROPERTIES LABELS "integration;cli;dumps" TIMEOUT 300
                     SKIP_RETURN_CODE 77
                     ENVIRONMENT "FM_DUMPS_DIR=${CMAKE_SOURCE_DIR}/../shared/traffic_dumps")

add_test(NAME integration.trace
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/integration/trace.sh $<TARGET_FILE:flowmimic>
                 ${CMAKE_SOURCE_DIR})
set_tests_properties(integration.trace PROPERTIES LABELS "integration;cli" TIMEOUT 300)
add_test(NAME integration.trace_dumps
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/integration/trace.sh $<TARGET_FILE:flowmimic>
                 ${CMAKE_SOURCE_DIR} ${CMAKE_SOURCE_DIR}/../shared/traffic_dumps)
set_tests_properties(integration.trace_dumps PROPERTIES LABELS "integration;dumps" TIMEOUT 300)

add_test(NAME integration.generate
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/integration/generate.sh $<TARGET_FILE:flowmimic>
                 ${CMAKE_SOURCE_DIR})
set_tests_properties(integration.generate PROPERTIES LABELS "integration;generate" TIMEOUT 300
                     SKIP_RETURN_CODE 77)

# A bounded sender of RTP + probe datagrams, to loopback or 198.18.0.0/15 only.
add_executable(udpsend ${CMAKE_CURRENT_SOURCE_DIR}/support/udpsend.c)

add_test(NAME integration.receive
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/integration/receive.sh $<TARGET_FILE:flowmimic>
                 ${CMAKE_SOURCE_DIR} $<TARGET_FILE:udpsend>)
set_tests_properties(integration.receive PROPERTIES LABELS "integration;netns" TIMEOUT 300
                     RUN_SERIAL TRUE
                     SKIP_RETURN_CODE 77)

add_test(NAME integration.replay
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/integration/replay.sh $<TARGET_FILE:flowmimic>
                 ${CMAKE_SOURCE_DIR})
set_tests_properties(integration.replay PROPERTIES LABELS "integration;netns" TIMEOUT 300
                     RUN_SERIAL TRUE
                     SKIP_RETURN_CODE 77)

# replay and receive across mpirun's ranks on two namespace "hosts" (a build with MPI only:
# without it every rank would run alone).
if(FM_HAVE_MPI)
  # Open MPI's libraries and the components it loads keep memory to the end of the process
  # (LeakSanitizer reports it through frames of unloaded modules, so no suppression can name
  # it): under the sanitizers these two tests run without the leak check. The same replay,
  # receive, estimate and agents code is leak-checked by the one-process tests.
  set(fm_mpi_env "")
  if(FM_SANITIZE)
    set(fm_mpi_env "ASAN_OPTIONS=detect_leaks=0")
  endif()
  add_test(NAME integration.mpi
           COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/integration/mpi.sh $<TARGET_FILE:flowmimic>
                   ${CMAKE_SOURCE_DIR})
  set_tests_properties(integration.mpi PROPERTIES LABELS "integration;netns;mpi" TIMEOUT 300
                       RUN_SERIAL TRUE
                       SKIP_RETURN_CODE 77 ENVIRONMENT "${fm_mpi_env}")
  # estimate and the agents batch study across ranks of this machine: the same outputs as
  # one process (no namespaces: the stub LLM server on 127.0.0.1).
  add_test(NAME integration.mpi_shard
           COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/integration/mpi_shard.sh
                   $<TARGET_FILE:flowmimic> ${CMAKE_SOURCE_DIR})
  set_tests_properties(integration.mpi_shard PROPERTIES LABELS "integration;mpi" TIMEOUT 300
                       RUN_SERIAL TRUE SKIP_RETURN_CODE 77 ENVIRONMENT "${fm_mpi_env}")
endif()

# ---- the LLM agents (the stub server; live ones only where a server is named) ----
add_executable(test_integration_llm_live ${CMAKE_CURRENT_SOURCE_DIR}/integration/llm_live.c)
target_link_libraries(test_integration_llm_live PRIVATE fm_llm)
add_test(NAME integration.llm_live COMMAND test_integration_llm_live)
set_tests_properties(integration.llm_live PROPERTIES LABELS "integration;llm;live" TIMEOUT 600
                     SKIP_RETURN_CODE 77)

add_test(NAME integration.agents
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/integration/agents.sh $<TARGET_FILE:flowmimic>
                 ${CMAKE_SOURCE_DIR})
set_tests_properties(integration.agents PROPERTIES LABELS "integration;llm" TIMEOUT 300
                     ENVIRONMENT "FM_STUB_LLM=${CMAKE_CURRENT_SOURCE_DIR}/support/stub_llm.py")
add_test(NAME integration.agents_live
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/integration/agents_live.sh
                 $<TARGET_FILE:flowmimic> ${CMAKE_SOURCE_DIR})
set_tests_properties(integration.agents_live PROPERTIES LABELS "integration;llm;live"
                     TIMEOUT 2000 SKIP_RETURN_CODE 77)

# README's build by hand without cmocka: the program builds, the tests are skipped with a note.
add_test(NAME integration.build COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/integration/build.sh
                                        ${CMAKE_SOURCE_DIR})
set_tests_properties(integration.build PROPERTIES LABELS "integration" TIMEOUT 120)

# receive --read against tshark -z rtp,streams: the clock per stream, mean and max jitter.
add_test(NAME integration.jitter
         COMMAND ${FM_PYTHON3_REAL} ${CMAKE_CURRENT_SOURCE_DIR}/integration/jitter.py
                 $<TARGET_FILE:flowmimic> ${CMAKE_SOURCE_DIR})
set_tests_properties(integration.jitter PROPERTIES LABELS "integration;dumps" TIMEOUT 300
                     SKIP_RETURN_CODE 77)

# cmake --install: the program, man pages and bash completion made from --help.
add_test(NAME integration.install COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/integration/install.sh
                                          ${CMAKE_BINARY_DIR})
set_tests_properties(integration.install PROPERTIES LABELS "integration" TIMEOUT 120)
