# tests/unit/llm.cmake - llm/: the client against the stub server (tests/support/stub_llm.py),
# checks, prompts, the agent loop, one run with its files (session) and the batch study.
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
fm_add_unit_test(llm check LIBS fm_llm)
fm_add_unit_test(llm prompt LIBS fm_llm)
fm_add_unit_test(llm agent LIBS fm_llm)
set_property(TEST unit.llm.agent APPEND PROPERTY ENVIRONMENT "FM_STUB_LLM=${FM_STUB_LLM}")
fm_add_unit_test(llm study LIBS fm_llm TIMEOUT 120)
set_property(TEST unit.llm.study APPEND PROPERTY ENVIRONMENT "FM_STUB_LLM=${FM_STUB_LLM}")
