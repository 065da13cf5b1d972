// clang 14 cannot compile coroutines with -fsanitize=function (part of -fsanitize=undefined):
// the split coroutine functions get prologue data that refers across sections and the assembler
// stops with "Cannot represent a difference across sections". Code between these two macros
// (the client's coroutines and the Asio coroutine machinery they instantiate) is built without
// that one check; every other UBSan check stays on. No-op for other compilers. Use it only at the
// very top of a .cpp file: a function already declared before the push cannot get the attribute.
#pragma once

#if defined(__clang__)
#define FERRY_COROUTINE_NO_SANITIZE_FUNCTION_BEGIN                                              \
  _Pragma("clang attribute push(__attribute__((no_sanitize(\"function\"))), apply_to = function)")
#define FERRY_COROUTINE_NO_SANITIZE_FUNCTION_END _Pragma("clang attribute pop")
#else
#define FERRY_COROUTINE_NO_SANITIZE_FUNCTION_BEGIN
#define FERRY_COROUTINE_NO_SANITIZE_FUNCTION_END
#endif
