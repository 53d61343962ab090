# tests/fuzz/fuzz_flags.cmake - FM_FUZZ: coverage for libFuzzer on every library, with ASan and
# UBSan. Included by the top CMakeLists.txt before the libraries; tests/fuzz links the
# harnesses with -fsanitize=fuzzer.
if(FM_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "FM_FUZZ needs clang (libFuzzer): CC=clang cmake -DFM_FUZZ=ON ...")
  endif()
  if(NOT FM_TESTS)
    message(FATAL_ERROR "FM_FUZZ builds with the tests: leave FM_TESTS ON")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
