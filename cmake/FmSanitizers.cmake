# cmake/FmSanitizers.cmake - ASan + UBSan when FM_SANITIZE is on.
if(FM_SANITIZE)
  set(FM_SAN_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_compile_options(${FM_SAN_FLAGS})
  add_link_options(${FM_SAN_FLAGS})
endif()
