# cmake/python.cmake -- the Python face (python/): the native modules _pymargo,
# pyflock_common, pyflock_client and pyflock_server (pybind11), the mochi.margo
# and mochi.flock packages, their install under
# <prefix>/lib/python3.X/site-packages, and the ctest entries python-* that run
# python/tests with `python3 -m unittest` (in a sanitizer build, with the ASan
# runtime preloaded).
#
# FLOCK_ENABLE_PYTHON (ON by default) builds it when Python 3 (interpreter and
# headers) and pybind11 (Debian: python3-dev pybind11-dev) are found; without
# them the face is skipped with a message. The interpreter is the `python3`
# found on PATH (the one that runs the scripts) unless Python3_EXECUTABLE is set.
option(FLOCK_ENABLE_PYTHON "Build the Python face (mochi.flock, mochi.margo)" ON)
if(NOT FLOCK_ENABLE_PYTHON)
  return()
endif()
if(NOT TARGET flock-server OR NOT TARGET flock-client)
  message(STATUS "Flock: Python face skipped (no flock libraries)")
  return()
endif()

if(NOT Python3_EXECUTABLE)
  find_program(FLOCK_PYTHON3_ON_PATH python3)
  if(FLOCK_PYTHON3_ON_PATH)
    # resolve shims (pyenv) to the real interpreter
    execute_process(COMMAND ${FLOCK_PYTHON3_ON_PATH} -c "import sys; print(sys.executable)"
                    OUTPUT_VARIABLE flock_py_exe OUTPUT_STRIP_TRAILING_WHITESPACE
                    RESULT_VARIABLE flock_py_rc ERROR_QUIET)
    if(flock_py_rc EQUAL 0 AND EXISTS "${flock_py_exe}")
      set(Python3_EXECUTABLE "${flock_py_exe}" CACHE FILEPATH "Python 3 interpreter")
    endif()
  endif()
endif()
find_package(Python3 COMPONENTS Interpreter Development.Module QUIET)
if(NOT Python3_FOUND)
  message(STATUS "Flock: Python face skipped (no Python 3 interpreter with headers: "
                 "apt-get install python3-dev)")
  return()
endif()
find_package(pybind11 CONFIG QUIET)
if(NOT pybind11_FOUND)
  message(STATUS "Flock: Python face skipped (pybind11 not found: apt-get install pybind11-dev)")
  return()
endif()

set(FLOCK_PYTHON_SITEDIR
    lib/python${Python3_VERSION_MAJOR}.${Python3_VERSION_MINOR}/site-packages)
set(FLOCK_PYTHON_BUILDDIR ${CMAKE_BINARY_DIR}/python)
# site-packages -> lib/pythonX.Y -> lib -> prefix, then the library dir
# (pyproject.toml's backend sets $ORIGIN/mochi_flock.libs for its wheel)
set(FLOCK_PYTHON_INSTALL_RPATH "$ORIGIN/../../../${CMAKE_INSTALL_LIBDIR}" CACHE STRING
    "RPATH of the installed Python modules")
message(STATUS "Flock: Python face ON (${Python3_EXECUTABLE} ${Python3_VERSION}, "
               "pybind11 ${pybind11_VERSION}; install: <prefix>/${FLOCK_PYTHON_SITEDIR})")

# module -> the flock libraries it links (every library it loads is named, so
# that a module finds them all through its own RPATH, whatever was loaded first)
set(flock_py_modules _pymargo:frt pyflock_common:flock-client,frt pyflock_client:flock-client,frt
                     pyflock_server:flock-server,flock-client,frt)
foreach(entry ${flock_py_modules})
  string(REPLACE ":" ";" parts ${entry})
  list(GET parts 0 mod)
  list(GET parts 1 lib)
  string(REPLACE "," ";" lib "${lib}")
  add_library(${mod} MODULE ${PROJECT_SOURCE_DIR}/python/src/${mod}.cpp)
  target_link_libraries(${mod} PRIVATE pybind11::module ${lib})
  target_link_options(${mod} PRIVATE "LINKER:--no-as-needed")
  target_include_directories(${mod} PRIVATE ${PROJECT_SOURCE_DIR}/python/src)
  pybind11_extension(${mod})
  set_target_properties(${mod} PROPERTIES
    CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON
    LIBRARY_OUTPUT_DIRECTORY ${FLOCK_PYTHON_BUILDDIR}
    INSTALL_RPATH "${FLOCK_PYTHON_INSTALL_RPATH}")
  install(TARGETS ${mod} LIBRARY DESTINATION ${FLOCK_PYTHON_SITEDIR} COMPONENT python)
endforeach()
install(DIRECTORY ${PROJECT_SOURCE_DIR}/python/mochi DESTINATION ${FLOCK_PYTHON_SITEDIR}
        COMPONENT python FILES_MATCHING PATTERN "*.py" PATTERN "__pycache__" EXCLUDE)

if(NOT FLOCK_ENABLE_TESTS)
  return()
endif()
set(flock_py_env
  "PYTHONPATH=${FLOCK_PYTHON_BUILDDIR}:${PROJECT_SOURCE_DIR}/python"
  "PYTHONDONTWRITEBYTECODE=1"
  "FLOCK_TEST_BINDIR=${CMAKE_BINARY_DIR}"
  "FLOCK_CMAKE=${CMAKE_COMMAND}"
  "FLOCK_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
if(FLOCK_SANITIZE)
  # python3 is not instrumented: the ASan runtime must be loaded first.
  # libstdc++ is preloaded too: ASan resolves its __cxa_throw interceptor when
  # it starts, and python3 does not link libstdc++.
  execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=libasan.so
                  OUTPUT_VARIABLE flock_libasan OUTPUT_STRIP_TRAILING_WHITESPACE)
  execute_process(COMMAND ${CMAKE_CXX_COMPILER} -print-file-name=libstdc++.so.6
                  OUTPUT_VARIABLE flock_libstdcxx OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(EXISTS "${flock_libasan}" AND EXISTS "${flock_libstdcxx}")
    # Python's own allocations are never all freed at exit: no leak check;
    # PYTHONMALLOC=malloc lets ASan see the interpreter's heap too.
    list(APPEND flock_py_env "LD_PRELOAD=${flock_libasan}:${flock_libstdcxx}" "PYTHONMALLOC=malloc"
         "ASAN_OPTIONS=detect_leaks=0:abort_on_error=1"
         "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")
  else()
    message(STATUS "Flock: Python tests skipped in this sanitizer build: no libasan.so or "
                   "libstdc++.so.6 from ${CMAKE_C_COMPILER} -print-file-name")
    return()
  endif()
endif()
if(FLOCK_TSAN)
  message(STATUS "Flock: Python tests skipped under ThreadSanitizer (python3 is not instrumented)")
  return()
endif()
file(GLOB flock_py_tests RELATIVE ${PROJECT_SOURCE_DIR}/python/tests
     ${PROJECT_SOURCE_DIR}/python/tests/test_*.py)
foreach(t ${flock_py_tests})
  string(REGEX REPLACE "^test_(.*)\\.py$" "\\1" name ${t})
  string(REPLACE "_" "-" name ${name})
  string(REGEX REPLACE "\\.py$" "" tmod ${t})
  add_test(NAME python-${name}
           COMMAND ${Python3_EXECUTABLE} -m unittest -v ${tmod}
           WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}/python/tests)
  set_tests_properties(python-${name} PROPERTIES TIMEOUT 300 LABELS python
                       ENVIRONMENT "${flock_py_env}")
endforeach()
