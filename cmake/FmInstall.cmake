# cmake/FmInstall.cmake - `cmake --install`: the program, a man page per command and bash
# completion, both made at build time from the program's own --help (scripts/gen-docs.sh), and
# the example prompts of `agents --prompts`.
include(GNUInstallDirs)
set(FM_DOCS_DIR ${CMAKE_BINARY_DIR}/docs-gen)
add_custom_command(
  OUTPUT ${FM_DOCS_DIR}/man1/flowmimic.1 ${FM_DOCS_DIR}/completion/flowmimic
  COMMAND sh ${CMAKE_SOURCE_DIR}/scripts/gen-docs.sh $<TARGET_FILE:flowmimic> ${FM_DOCS_DIR}
  DEPENDS flowmimic ${CMAKE_SOURCE_DIR}/scripts/gen-docs.sh
  COMMENT "Man pages and bash completion from flowmimic --help")
add_custom_target(fm_docs ALL DEPENDS ${FM_DOCS_DIR}/man1/flowmimic.1
                                      ${FM_DOCS_DIR}/completion/flowmimic)

install(TARGETS flowmimic RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${FM_DOCS_DIR}/man1 DESTINATION ${CMAKE_INSTALL_MANDIR})
install(FILES ${FM_DOCS_DIR}/completion/flowmimic
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)
install(FILES ${CMAKE_SOURCE_DIR}/prompts/video.json
        DESTINATION ${CMAKE_INSTALL_DATADIR}/flowmimic/prompts)
