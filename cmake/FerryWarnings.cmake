# Warnings and sanitizers for ferry's own targets only; nothing here reaches consumers.

# The compile flags of FERRY_SANITIZE. tests/cmake_consumer builds its find_package consumer with
# them too, since that consumer links the sanitized library.
set(FERRY_SANITIZE_COMPILE_FLAGS)
if(FERRY_SANITIZE)
  set(FERRY_SANITIZE_COMPILE_FLAGS -fsanitize=${FERRY_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  if(FERRY_SANITIZE MATCHES "undefined" AND CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    # clang 14 cannot assemble coroutines built with -fsanitize=function (part of undefined).
    list(APPEND FERRY_SANITIZE_COMPILE_FLAGS -fno-sanitize=function)
  endif()
endif()

function(ferry_own_target target)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow
                                             -Wcast-align -Woverloaded-virtual)
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
      # g++ 12's flow-based warnings misfire inside libstdc++ at -O2 (GCC PR 105329, 105651,
      # 106199: std::string and vector copies reported as overlapping or out of bounds). The
      # sanitizer builds check real bounds at run time.
      target_compile_options(${target} PRIVATE -Wno-restrict -Wno-array-bounds -Wno-stringop-overflow)
    endif()
    if(FERRY_WERROR)
      target_compile_options(${target} PRIVATE -Werror)
    endif()
  endif()
  if(FERRY_SANITIZE)
    target_compile_options(${target} PRIVATE ${FERRY_SANITIZE_COMPILE_FLAGS})
    target_link_options(${target} PRIVATE -fsanitize=${FERRY_SANITIZE})
    if(FERRY_SANITIZE MATCHES "thread" AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
      # g++ 12 warns that TSan does not model Asio's atomic_thread_fence; the fences are correct.
      target_compile_options(${target} PRIVATE -Wno-tsan)
    endif()
  endif()
endfunction()
