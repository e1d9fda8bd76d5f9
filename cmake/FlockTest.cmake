# flock_add_test(NAME <name> SOURCES <files...> [LIBS <targets...>] [TIMEOUT <s>]
#                [LABELS <labels...>] [ARGS <args...>])
# One executable, one ctest entry, a timeout. Tests get a private scratch
# directory in FLOCK_TEST_TMPDIR (see tests/common/flock-test.h).
function(flock_add_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT" "SOURCES;LIBS;LABELS;ARGS" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 120)
  endif()
  add_executable(${T_NAME} ${T_SOURCES})
  target_include_directories(${T_NAME} PRIVATE ${PROJECT_SOURCE_DIR}/tests/common
                             ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/include)
  target_link_libraries(${T_NAME} PRIVATE ${T_LIBS} Threads::Threads)
  add_test(NAME ${T_NAME} COMMAND ${T_NAME} ${T_ARGS})
  set_tests_properties(${T_NAME} PROPERTIES TIMEOUT ${T_TIMEOUT}
    ENVIRONMENT "FLOCK_TEST_BINDIR=${CMAKE_BINARY_DIR};FLOCK_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
  if(T_LABELS)
    set_tests_properties(${T_NAME} PROPERTIES LABELS "${T_LABELS}")
  endif()
endfunction()
