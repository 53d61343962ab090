# cmake/FmSanitizers.cmake - ASan + UBSan when FM_SANITIZE is on.
# -O1 as the ASan documentation advises: a Debug build's -O0 made the EM tests several times
# slower under the sanitizers (unit.models.mixture: 40 s), with nothing more found.
if(FM_SANITIZE)
  set(FM_SAN_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_compile_options(${FM_SAN_FLAGS} -O1)
  add_link_options(${FM_SAN_FLAGS})
endif()
