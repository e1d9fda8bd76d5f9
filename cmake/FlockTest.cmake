find_program(FLOCK_VALGRIND_EXECUTABLE valgrind)
# flock_add_test(NAME <name> SOURCES <files...> [LIBS <targets...>] [TIMEOUT <s>]
#                [LABELS <labels...>] [ARGS <args...>])
# One executable, one ctest entry, a timeout. A test labelled "valgrind" also
# gets a second entry, <name>-valgrind, that runs it under memcheck (leaks and
# errors fail it) when valgrind is installed and sanitizers are off.
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
  if("valgrind" IN_LIST T_LABELS AND FLOCK_VALGRIND_EXECUTABLE AND NOT FLOCK_SANITIZE)
    math(EXPR vg_timeout "${T_TIMEOUT} * 5")
    add_test(NAME ${T_NAME}-valgrind
             COMMAND ${FLOCK_VALGRIND_EXECUTABLE} --quiet --error-exitcode=99
                     --leak-check=full --errors-for-leak-kinds=definite,indirect
                     --show-leak-kinds=definite,indirect --trace-children=no
                     --max-threads=3000
                     $<TARGET_FILE:${T_NAME}> ${T_ARGS})
    set_tests_properties(${T_NAME}-valgrind PROPERTIES TIMEOUT ${vg_timeout}
      LABELS "valgrind-run"
      ENVIRONMENT "FLOCK_TEST_BINDIR=${CMAKE_BINARY_DIR};FLOCK_SOURCE_DIR=${PROJECT_SOURCE_DIR};FLOCK_UNDER_VALGRIND=1")
  endif()
endfunction()
