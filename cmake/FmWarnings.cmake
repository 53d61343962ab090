# cmake/FmWarnings.cmake - the warning set, clean on gcc 12 and clang 14.
set(FM_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wformat=2 -Wstrict-prototypes
    -Wmissing-prototypes -Wvla -Wdouble-promotion -Wcast-qual -Wnull-dereference)
add_compile_options(${FM_WARNINGS})
if(FM_WERROR)
  add_compile_options(-Werror)
endif()
