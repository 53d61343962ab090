# tests/unit/llm_agents.cmake - the LLM agents: checks and prompts (unit), and `agents` run
# against the stub LLM server (integration; FM_STUB_LLM names the stub).
fm_add_unit_test(llm check LIBS fm_llm)
fm_add_unit_test(llm prompt LIBS fm_llm)
fm_add_unit_test(llm agent LIBS fm_llm)
set_property(TEST unit.llm.agent APPEND PROPERTY ENVIRONMENT
             "FM_STUB_LLM=${CMAKE_CURRENT_SOURCE_DIR}/support/stub_llm.py")

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
