# Compiling OCaml test subjects with the bootstrapped compilers.
#
#   ocaml_program(NAME <target> SOURCES a.ml b.ml
#                 [VERSION 5.3.0|5.2.0|5.1.4|5.4.0-dev-2024-10-24]
#                 [FLAGS -g ...] [LIBS unix threads] [OUTPUT_DIR dir])
#
# Produces ${OUTPUT_DIR or CMAKE_CURRENT_BINARY_DIR}/<NAME> and a target of the same name
# in ALL. When the compiler for VERSION is missing the program is skipped and
# OCAMLPROG_<NAME>_MISSING is set in the parent scope, so tests can be marked skipped
# rather than silently dropped.

function(ocaml_compiler_for version out)
  if(version STREQUAL "5.1.4")
    set(prefix "${OCAML_514_PREFIX}")
  elseif(version STREQUAL "5.3.0")
    set(prefix "${OCAML_53_PREFIX}")
  elseif(version STREQUAL "5.2.0")
    set(prefix "${OCAML_52_PREFIX}")
  elseif(version STREQUAL "5.4.0-dev-2024-10-24")
    set(prefix "${OCAML_54DEV_PREFIX}")
  elseif(version STREQUAL "4.13")
    find_program(_sys_ocamlopt NAMES ocamlopt.opt ocamlopt PATHS /usr/bin NO_DEFAULT_PATH)
    set(${out} "${_sys_ocamlopt}" PARENT_SCOPE)
    return()
  else()
    message(FATAL_ERROR "ocaml_program: unknown VERSION ${version}")
  endif()
  if(EXISTS "${prefix}/bin/ocamlopt.opt")
    set(${out} "${prefix}/bin/ocamlopt.opt" PARENT_SCOPE)
  else()
    set(${out} "" PARENT_SCOPE)
  endif()
endfunction()

function(ocaml_program)
  cmake_parse_arguments(P "" "NAME;VERSION;OUTPUT_DIR" "SOURCES;FLAGS;LIBS" ${ARGN})
  if(NOT P_VERSION)
    set(P_VERSION 5.3.0)
  endif()
  if(NOT P_OUTPUT_DIR)
    set(P_OUTPUT_DIR "${CMAKE_CURRENT_BINARY_DIR}")
  endif()
  ocaml_compiler_for(${P_VERSION} ocamlopt)
  if(NOT ocamlopt)
    message(WARNING "ocaml_program(${P_NAME}): no ocamlopt for ${P_VERSION}; run scripts/setup-ocaml.sh")
    set(OCAMLPROG_${P_NAME}_MISSING TRUE PARENT_SCOPE)
    return()
  endif()
  set(libargs "")
  foreach(lib ${P_LIBS})
    if(lib STREQUAL "unix")
      list(APPEND libargs -I +unix unix.cmxa)
    elseif(lib STREQUAL "threads")
      list(APPEND libargs -I +unix -I +threads unix.cmxa threads.cmxa)
    else()
      message(FATAL_ERROR "ocaml_program: unknown library ${lib}")
    endif()
  endforeach()
  # ocamlopt writes .cmi/.cmx/.o beside each source: compile private copies in a
  # per-program directory, so the source tree stays clean and two programs sharing a
  # source (e.g. one per compiler version) never race on its outputs.
  set(srcs "")
  set(basenames "")
  foreach(s ${P_SOURCES})
    list(APPEND srcs "${CMAKE_CURRENT_SOURCE_DIR}/${s}")
    get_filename_component(b "${s}" NAME)
    list(APPEND basenames "${b}")
  endforeach()
  set(workdir "${CMAKE_CURRENT_BINARY_DIR}/${P_NAME}.d")
  set(exe "${P_OUTPUT_DIR}/${P_NAME}")
  add_custom_command(
    OUTPUT "${exe}"
    COMMAND ${CMAKE_COMMAND} -E make_directory "${workdir}"
    COMMAND ${CMAKE_COMMAND} -E copy ${srcs} "${workdir}"
    COMMAND ${CMAKE_COMMAND} -E chdir "${workdir}"
            "${ocamlopt}" ${P_FLAGS} ${libargs} ${basenames} -o "${exe}"
    DEPENDS ${srcs}
    COMMENT "ocamlopt ${P_VERSION}: ${P_NAME}"
    VERBATIM)
  add_custom_target(${P_NAME} ALL DEPENDS "${exe}")
endfunction()
