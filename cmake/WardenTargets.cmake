# Shared build settings and helper functions for Warden targets.

add_library(warden_options INTERFACE)
target_compile_options(warden_options INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align -Wunused
  -Woverloaded-virtual -Wformat=2 -Wimplicit-fallthrough
  $<$<BOOL:${WARDEN_WERROR}>:-Werror>
  # GCC 12 reports a false -Wrestrict inside libstdc++'s operator+ on strings at
  # -O2/-O3 (GCC bug 105329); every other warning stays an error.
  $<$<CXX_COMPILER_ID:GNU>:-Wno-restrict>)
target_include_directories(warden_options INTERFACE ${PROJECT_SOURCE_DIR}/include)
# Boost.Asio without its deprecated interfaces, project-wide.
target_compile_definitions(warden_options INTERFACE BOOST_ASIO_NO_DEPRECATED)

# warden_module(NAME [DEPS dep...])
# Declares the library target warden_<NAME> from every .cc under src/<NAME>/.
function(warden_module name)
  cmake_parse_arguments(ARG "" "" "DEPS" ${ARGN})
  file(GLOB_RECURSE srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cc)
  if(NOT srcs)
    message(STATUS "module ${name}: no sources yet, skipped")
    return()
  endif()
  add_library(warden_${name} STATIC ${srcs})
  target_link_libraries(warden_${name} PUBLIC warden_options ${ARG_DEPS})
  target_include_directories(warden_${name} PRIVATE ${PROJECT_SOURCE_DIR}/src)
endfunction()

# warden_test(NAME SOURCES src... DEPS dep... [LABELS l...])
# One GoogleTest executable registered as one ctest test.
function(warden_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  foreach(dep IN LISTS ARG_DEPS)
    if(dep MATCHES "^warden_" AND NOT TARGET ${dep})
      message(STATUS "test ${name}: ${dep} not built yet, skipped")
      return()
    endif()
  endforeach()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE warden_options ${ARG_DEPS} GTest::gtest GTest::gmock
                        GTest::gtest_main)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/tests)
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES
    ENVIRONMENT "WARDEN_SOURCE_DIR=${PROJECT_SOURCE_DIR};WARDEN_BINARY_DIR=${PROJECT_BINARY_DIR}")
  if(ARG_LABELS)
    set_tests_properties(${name} PROPERTIES LABELS "${ARG_LABELS}")
  endif()
endfunction()

# All Warden module libraries that exist, in dependency-friendly order.
function(warden_all_libraries out)
  set(libs)
  foreach(module IN LISTS WARDEN_MODULES)
    if(TARGET warden_${module})
      list(PREPEND libs warden_${module})
    endif()
  endforeach()
  set(${out} ${libs} PARENT_SCOPE)
endfunction()
