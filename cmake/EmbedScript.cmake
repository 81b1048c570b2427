# Run by ccstream_embed_file: writes HEADER and SOURCE holding the bytes of INPUT.
file(READ ${INPUT} hex HEX)
string(LENGTH "${hex}" hex_len)
math(EXPR size "${hex_len} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${hex}")
# Break the initializer into lines of 32 bytes so compilers and editors cope.
string(REGEX REPLACE "(('[^']+',){32})" "\\1\n" bytes "${bytes}")
get_filename_component(dir ${HEADER} DIRECTORY)
file(MAKE_DIRECTORY ${dir})
file(WRITE ${HEADER} "// Generated from ${INPUT}; do not edit.\n#pragma once\n#include <string_view>\nnamespace ccstream::embedded {\nstd::string_view ${SYMBOL}();\n}  // namespace ccstream::embedded\n")
file(WRITE ${SOURCE} "// Generated from ${INPUT}; do not edit.\n#include \"embedded/${SYMBOL}.h\"\nnamespace ccstream::embedded {\nnamespace {\nconstexpr char kData[${size} + 1] = {\n${bytes}'\\0'};\n}  // namespace\nstd::string_view ${SYMBOL}() { return std::string_view(kData, ${size}); }\n}  // namespace ccstream::embedded\n")
