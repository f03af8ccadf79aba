# Sanitizer and fuzzing builds (docs/fuzzing-and-sanitizers.md). Each lives in its own build
# directory; the default build is untouched.
#   -DBRIDGE_SANITIZE=address,undefined   ASan+UBSan on every target (scripts/test.sh, build-asan)
#   -DBRIDGE_SANITIZE=thread              TSan on every target (scripts/tsan.sh, build-tsan)
#   -DBRIDGE_FUZZ=ON                      libFuzzer targets under fuzz/ (clang only, build-fuzz);
#                                         implies address,undefined unless BRIDGE_SANITIZE says otherwise
# A finding must fail the run: nothing recovers (-fno-sanitize-recover=all).
set(BRIDGE_SANITIZE "" CACHE STRING "Sanitizers for every target, e.g. address,undefined or thread")
option(BRIDGE_FUZZ "Build the libFuzzer targets under fuzz/ (needs clang)" OFF)

if(BRIDGE_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "BRIDGE_FUZZ needs clang: configure with -DCMAKE_CXX_COMPILER=clang++")
  endif()
  if(NOT BRIDGE_SANITIZE)
    set(BRIDGE_SANITIZE address,undefined)
  endif()
  # Coverage instrumentation for every library; the fuzz targets alone link libFuzzer's main.
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()

if(BRIDGE_SANITIZE)
  add_compile_options(-fsanitize=${BRIDGE_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${BRIDGE_SANITIZE})
  add_compile_definitions(BRIDGE_SANITIZED=1)
endif()
