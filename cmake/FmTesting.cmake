# cmake/FmTesting.cmake - fm_add_unit_test(module topic LIBS ...) adds CTest unit.<module>.<topic>.
# PkgConfig::CMOCKA is found by the top CMakeLists.txt, which builds no tests without it.

function(fm_add_unit_test module topic)
  cmake_parse_arguments(T "" "TIMEOUT" "LIBS" ${ARGN})
  set(name test_${module}_${topic})
  add_executable(${name} ${CMAKE_CURRENT_SOURCE_DIR}/unit/${name}.c)
  target_link_libraries(${name} PRIVATE ${T_LIBS} PkgConfig::CMOCKA)
  add_test(NAME unit.${module}.${topic} COMMAND ${name})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 60)
  endif()
  set_tests_properties(unit.${module}.${topic} PROPERTIES LABELS "unit;${module}"
                       TIMEOUT ${T_TIMEOUT}
                       ENVIRONMENT "FM_TEST_DATA=${CMAKE_CURRENT_SOURCE_DIR}/data")
endfunction()
