# Build helpers. One library per folder under src/, named suanpan_<folder>. Each library states its
# layer; suanpan_check_layers() fails the configure step if a library depends on one above it, or
# if a pure layer (base, core, sched) links anything but the libraries allowed for it.

# Layers from the bottom up. A library may depend only on libraries of a lower or equal rank.
set(SUANPAN_LAYER_RANK_base 0)
set(SUANPAN_LAYER_RANK_core 1)
set(SUANPAN_LAYER_RANK_sched 2)
set(SUANPAN_LAYER_RANK_config 3)
set(SUANPAN_LAYER_RANK_sim 3)
set(SUANPAN_LAYER_RANK_os 3)
set(SUANPAN_LAYER_RANK_store 4)
set(SUANPAN_LAYER_RANK_agent_protocol 4)
set(SUANPAN_LAYER_RANK_control 5)
set(SUANPAN_LAYER_RANK_client 6)
set(SUANPAN_LAYER_RANK_backends 6)
set(SUANPAN_LAYER_RANK_slurm_backend 6)
set(SUANPAN_LAYER_RANK_api 7)
set(SUANPAN_LAYER_RANK_api_http 7)
set(SUANPAN_LAYER_RANK_agent 8)
set(SUANPAN_LAYER_RANK_cli 9)
set(SUANPAN_LAYER_RANK_testing 10)
# Pure layers: no I/O, clocks or threads. Only these third-party targets may be linked into them.
set(SUANPAN_PURE_ALLOWED fmt::fmt)

set_property(GLOBAL PROPERTY SUANPAN_LIBRARIES "")

# suanpan_cc_library(NAME layer SRCS a.cc b.cc DEPS suanpan_base fmt::fmt)
function(suanpan_cc_library)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS" ${ARGN})
  set(target suanpan_${ARG_NAME})
  if(ARG_SRCS)
    add_library(${target} STATIC ${ARG_SRCS})
    target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(${target} PUBLIC ${ARG_DEPS})
  else()
    add_library(${target} INTERFACE)
    target_include_directories(${target} INTERFACE ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(${target} INTERFACE ${ARG_DEPS})
  endif()
  set_property(TARGET ${target} PROPERTY SUANPAN_LAYER ${ARG_NAME})
  set_property(TARGET ${target} PROPERTY SUANPAN_DEPS "${ARG_DEPS}")
  set_property(GLOBAL APPEND PROPERTY SUANPAN_LIBRARIES ${target})
endfunction()

# suanpan_cc_test(NAME foo_test SRCS foo_test.cc DEPS suanpan_core)
function(suanpan_cc_test)
  cmake_parse_arguments(ARG "" "NAME;TIMEOUT" "SRCS;DEPS;LABELS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SRCS})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  gtest_discover_tests(${ARG_NAME}
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    PROPERTIES LABELS "${ARG_LABELS}"
    DISCOVERY_TIMEOUT 60)
endfunction()

function(suanpan_check_layers)
  get_property(libs GLOBAL PROPERTY SUANPAN_LIBRARIES)
  foreach(lib IN LISTS libs)
    get_property(layer TARGET ${lib} PROPERTY SUANPAN_LAYER)
    get_property(deps TARGET ${lib} PROPERTY SUANPAN_DEPS)
    set(rank ${SUANPAN_LAYER_RANK_${layer}})
    if("${rank}" STREQUAL "")
      message(FATAL_ERROR "layer check: ${lib} has no rank in cmake/suanpan.cmake")
    endif()
    foreach(dep IN LISTS deps)
      if(dep MATCHES "^suanpan_(.*)$")
        set(dep_rank ${SUANPAN_LAYER_RANK_${CMAKE_MATCH_1}})
        if(dep_rank GREATER rank)
          message(FATAL_ERROR "layer check: ${lib} (rank ${rank}) depends on ${dep} "
                              "(rank ${dep_rank}); dependencies must point down")
        endif()
      elseif(layer MATCHES "^(base|core|sched)$" AND NOT dep IN_LIST SUANPAN_PURE_ALLOWED)
        message(FATAL_ERROR "layer check: ${lib} is a pure layer and may not link ${dep} "
                            "(allowed: ${SUANPAN_PURE_ALLOWED})")
      endif()
    endforeach()
  endforeach()
endfunction()
