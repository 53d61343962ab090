# tests/unit/llm.cmake - the LLM client against the stub server (tests/support/stub_llm.py),
# and a live test that runs only when FLOWMIMIC_LIVE_LLM names a server URL.
find_program(FM_PYTHON3 python3 REQUIRED)
# The interpreter itself, not a wrapper (a pyenv shim costs 0.4 s at each stub start).
execute_process(COMMAND ${FM_PYTHON3} -c "import sys; print(sys.executable)"
                OUTPUT_VARIABLE FM_PYTHON3_REAL OUTPUT_STRIP_TRAILING_WHITESPACE
                RESULT_VARIABLE fm_python3_rc)
if(NOT fm_python3_rc EQUAL 0 OR NOT FM_PYTHON3_REAL)
  set(FM_PYTHON3_REAL ${FM_PYTHON3})
endif()
set(FM_STUB_LLM ${CMAKE_CURRENT_SOURCE_DIR}/support/stub_llm.py)
set(FM_STUB_LLM_ENV "FM_STUB_LLM=${FM_STUB_LLM}" "FM_PYTHON=${FM_PYTHON3_REAL}")

fm_add_unit_test(llm client LIBS fm_llm TIMEOUT 120)
set_tests_properties(unit.llm.client PROPERTIES
                     ENVIRONMENT "FM_TEST_DATA=${CMAKE_CURRENT_SOURCE_DIR}/data;${FM_STUB_LLM_ENV}")

add_executable(test_integration_llm_live ${CMAKE_CURRENT_SOURCE_DIR}/integration/llm_live.c)
target_link_libraries(test_integration_llm_live PRIVATE fm_llm)
add_test(NAME integration.llm_live COMMAND test_integration_llm_live)
set_tests_properties(integration.llm_live PROPERTIES LABELS "integration;llm;live" TIMEOUT 600
                     SKIP_RETURN_CODE 77)
