# FlockPackage.cmake -- what `cmake --install` puts in a prefix and how
# programs find it (included by the top-level CMakeLists.txt).
#
# Layout (relative to the prefix):
#   include/flock/*.h, include/flock/cxx/*.hpp    Flock's own headers
#   include/flock/compat/{margo.h,frt.h,thallium.hpp,thallium/}
#                                                 the shims of Margo and Thallium, apart so that
#                                                 they cannot clash with a real Margo/Thallium
#   lib/pkgconfig/{flock-client,flock-server,thallium}.pc   (Cflags add both include dirs)
#   lib/cmake/flock/flock-config.cmake            find_package(flock): flock::server,
#                                                 flock::client, flock::cxx-headers, flock::frt,
#                                                 flock::thallium (+ flock::flock-server,
#                                                 flock::flock-client and `thallium` as aliases)
set(FLOCK_COMPAT_INCLUDEDIR ${CMAKE_INSTALL_INCLUDEDIR}/flock/compat)

# ---- headers ----
install(FILES include/margo.h include/frt.h include/thallium.hpp
        DESTINATION ${FLOCK_COMPAT_INCLUDEDIR})
install(DIRECTORY include/thallium DESTINATION ${FLOCK_COMPAT_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.hpp")
install(DIRECTORY include/flock DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.h" PATTERN "*.hpp")

if(NOT TARGET frt OR NOT TARGET flock-server)
  return()
endif()

# ---- targets: upstream's names, the compat include dir ----
foreach(t frt flock-client flock-server)
  target_include_directories(${t} PUBLIC $<INSTALL_INTERFACE:${FLOCK_COMPAT_INCLUDEDIR}>)
endforeach()
# Installed libraries find each other beside them (libflock-server needs libflock-client and
# libfrt; a program linked --as-needed may name only libflock-server).
set_target_properties(frt flock-client flock-server PROPERTIES INSTALL_RPATH "$ORIGIN")
set_target_properties(flock-server PROPERTIES EXPORT_NAME server)
set_target_properties(flock-client PROPERTIES EXPORT_NAME client)
add_library(flock::server ALIAS flock-server)
add_library(flock::client ALIAS flock-client)

# The Thallium shim: header-only over libfrt.
add_library(flock-thallium INTERFACE)
set_target_properties(flock-thallium PROPERTIES EXPORT_NAME thallium)
target_include_directories(flock-thallium INTERFACE
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
  $<INSTALL_INTERFACE:${FLOCK_COMPAT_INCLUDEDIR}>)
target_link_libraries(flock-thallium INTERFACE frt)
target_compile_features(flock-thallium INTERFACE cxx_std_17)
add_library(flock::thallium ALIAS flock-thallium)

# Upstream's INTERFACE target of the C++ wrappers (flock/cxx/*.hpp).
add_library(flock-cxx-headers INTERFACE)
set_target_properties(flock-cxx-headers PROPERTIES EXPORT_NAME cxx-headers)
target_include_directories(flock-cxx-headers INTERFACE
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
target_link_libraries(flock-cxx-headers INTERFACE flock-thallium flock-server flock-client)
target_compile_features(flock-cxx-headers INTERFACE cxx_std_17)
add_library(flock::cxx-headers ALIAS flock-cxx-headers)
install(TARGETS flock-thallium flock-cxx-headers EXPORT flock-targets)

# ---- pkg-config ----
foreach(pc flock-client flock-server thallium)
  configure_file(cmake/${pc}.pc.in ${CMAKE_CURRENT_BINARY_DIR}/${pc}.pc @ONLY)
  install(FILES ${CMAKE_CURRENT_BINARY_DIR}/${pc}.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endforeach()

# ---- CMake package ----
install(EXPORT flock-targets NAMESPACE flock:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/flock)
configure_package_config_file(cmake/flock-config.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/flock-config.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/flock)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/flock-config-version.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/flock-config.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/flock-config-version.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/flock)
