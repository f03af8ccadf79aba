# bridge_library(NAME DIR deps...): a static library of every .cpp under DIR.
# Globbing keeps parallel work from fighting over one source list; CONFIGURE_DEPENDS
# re-globs on each build so a new file needs no CMake edit.
function(bridge_library name dir)
  file(GLOB_RECURSE srcs CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/${dir}/*.cpp)
  if(NOT srcs)
    set(srcs ${CMAKE_SOURCE_DIR}/cmake/empty.cpp)
  endif()
  add_library(${name} STATIC ${srcs})
  target_include_directories(${name} PUBLIC ${CMAKE_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC ${ARGN})
endfunction()

# bridge_test_suite(NAME DIR LABELS deps...): one Boost.Test executable of every .cpp under DIR.
function(bridge_test_suite name dir labels)
  file(GLOB_RECURSE srcs CONFIGURE_DEPENDS ${dir}/*.cpp)
  if(NOT srcs)
    return()
  endif()
  add_executable(${name} ${srcs} ${CMAKE_SOURCE_DIR}/tests/support/BoostMain.cpp)
  target_link_libraries(${name} PRIVATE ${ARGN} Boost::unit_test_framework)
  target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR})
  target_compile_definitions(${name} PRIVATE
    BRIDGE_SOURCE_DIR="${CMAKE_SOURCE_DIR}" BRIDGE_BINARY_DIR="${CMAKE_BINARY_DIR}")
  add_test(NAME ${name} COMMAND ${name} --log_level=test_suite --report_level=short)
  set_tests_properties(${name} PROPERTIES LABELS "${labels}"
    ENVIRONMENT "BRIDGE_SOURCE_DIR=${CMAKE_SOURCE_DIR};BRIDGE_BINARY_DIR=${CMAKE_BINARY_DIR};TCP_NODELAY=1")
endfunction()
