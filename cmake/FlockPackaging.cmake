# FlockPackaging.cmake -- what an operator gets besides the libraries:
# man pages flockd(8) and flockctl(1) (roff, docs/man/), bash completion for
# flockctl, the systemd template unit flockd@.service, the examples (C
# programs and flockd configs) under share/doc, and the Debian package
# (cpack -G DEB; scripts/deb-check.sh builds, installs, runs and removes it).
#
# FLOCK_SYSTEMD_UNITDIR: where flockd@.service goes, relative to the prefix
# (default share/flock/systemd; the .deb build passes lib/systemd/system).
set(FLOCK_SYSTEMD_UNITDIR "${CMAKE_INSTALL_DATADIR}/flock/systemd" CACHE STRING
    "Install directory of flockd@.service (relative to the prefix)")

set(_flock_top ${CMAKE_CURRENT_SOURCE_DIR})
if(EXISTS ${_flock_top}/docs/man/flockd.8)
  install(FILES ${_flock_top}/docs/man/flockd.8 DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
endif()
if(EXISTS ${_flock_top}/docs/man/flockctl.1)
  install(FILES ${_flock_top}/docs/man/flockctl.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
endif()
if(EXISTS ${_flock_top}/dist/flockctl.bash)
  install(FILES ${_flock_top}/dist/flockctl.bash
          DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME flockctl)
endif()
if(EXISTS ${_flock_top}/dist/flockd@.service.in)
  configure_file(${_flock_top}/dist/flockd@.service.in ${CMAKE_CURRENT_BINARY_DIR}/flockd@.service @ONLY)
  install(FILES ${CMAKE_CURRENT_BINARY_DIR}/flockd@.service DESTINATION ${FLOCK_SYSTEMD_UNITDIR})
endif()
install(DIRECTORY ${_flock_top}/examples/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples
        FILES_MATCHING PATTERN "*.c" PATTERN "*.md" PATTERN "*.json")
install(FILES ${_flock_top}/README.md ${_flock_top}/docs/config.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
unset(_flock_top)

# ---- the Debian package ----
set(CPACK_PACKAGE_NAME flock)
set(CPACK_PACKAGE_VENDOR "Flock")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "Flock group membership: libraries, headers, flockd daemon and flockctl tool")
set(CPACK_PACKAGE_CONTACT "Flock maintainers <flock@localhost>")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
# json-c is the only run-time dependency outside the package (MPI: the .deb
# build turns the MPI bootstrap off).
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libjson-c5 | libjson-c4 | libjson-c3")
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON) # shlibs file + the ldconfig trigger
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_GENERATOR DEB)
include(CPack)
