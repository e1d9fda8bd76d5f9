# FlockRpath.cmake -- installed programs and libraries find Flock's own
# libraries with no environment: a run path relative to $ORIGIN
# (bin/../lib for programs, lib/ itself for the libraries, which load each
# other), so an install into any prefix (cmake --install --prefix DIR, or a
# copied tree) runs as is. Into a system library directory (/usr/lib,
# /usr/lib/x86_64-linux-gnu, ...: the linker's implicit directories) no run
# path is set and the dynamic loader's ldconfig cache does the work, as
# Debian policy wants. Included from the top CMakeLists.txt before the
# targets are created (the variables are read when a target is defined).
if(NOT DEFINED FLOCK_INSTALL_RPATH)
  set(FLOCK_INSTALL_RPATH ON)
endif()
if(FLOCK_INSTALL_RPATH)
  list(FIND CMAKE_C_IMPLICIT_LINK_DIRECTORIES "${CMAKE_INSTALL_FULL_LIBDIR}" _flock_sys_libdir)
  if(_flock_sys_libdir EQUAL -1)
    file(RELATIVE_PATH _flock_bin_to_lib "${CMAKE_INSTALL_FULL_BINDIR}" "${CMAKE_INSTALL_FULL_LIBDIR}")
    set(CMAKE_INSTALL_RPATH "\$ORIGIN/${_flock_bin_to_lib};\$ORIGIN")
  endif()
  unset(_flock_sys_libdir)
  unset(_flock_bin_to_lib)
endif()
