# Warnings and sanitizers for ferry's own targets only; nothing here reaches consumers.
function(ferry_own_target target)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow
                                             -Wcast-align -Woverloaded-virtual)
    if(FERRY_WERROR)
      target_compile_options(${target} PRIVATE -Werror)
    endif()
  endif()
  if(FERRY_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=${FERRY_SANITIZE} -fno-omit-frame-pointer
                                             -fno-sanitize-recover=all)
    target_link_options(${target} PRIVATE -fsanitize=${FERRY_SANITIZE})
  endif()
endfunction()
