# enigma_folder_library(<folder> DEPS ... [EXCLUDE regex]): one static library per code folder (DESIGN.md), built from
# every .cpp in the folder and in its venues/ subfolder, so adding a file never edits a shared list.
# A folder with no sources yet defines no target, and dependents simply skip it.
# EXCLUDE <regex> leaves out the matching sources (used only by the fuzz build, see feed/CMakeLists.txt).
function(enigma_folder_library name)
  cmake_parse_arguments(A "" "EXCLUDE" "DEPS" ${ARGN})
  file(GLOB _srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp ${CMAKE_CURRENT_SOURCE_DIR}/venues/*.cpp)
  if(A_EXCLUDE)
    list(FILTER _srcs EXCLUDE REGEX "${A_EXCLUDE}")
  endif()
  if(NOT _srcs)
    return()
  endif()
  set(_deps "")
  foreach(d ${A_DEPS})
    if(NOT d MATCHES "^enigma::" OR TARGET ${d})
      list(APPEND _deps ${d})
    endif()
  endforeach()
  enigma_add_library(${name} SOURCES ${_srcs} DEPS ${_deps})
endfunction()
