# Writes the page web/index.html as a C++ header (cmake -DIN=... -DOUT=... -P embed_page.cmake):
# `mtlgrad serve` carries its page in the binary and reads nothing at run time. The bytes go in as
# hexadecimal so that no character of the page can end a string literal.
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" n)
math(EXPR bytes "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," body "${hex}")
string(REGEX REPLACE "(([^,]*,){32})" "\\1\n" body "${body}")
file(WRITE "${OUT}.tmp" "// Generated from web/index.html by cmake/embed_page.cmake: do not edit.\n#pragma once\n#include <cstddef>\nnamespace mtlgrad::serve::generated {\ninline constexpr char kPage[] = {\n${body}'\\0'};\ninline constexpr std::size_t kPageSize = ${bytes};\n}  // namespace mtlgrad::serve::generated\n")
file(RENAME "${OUT}.tmp" "${OUT}")
