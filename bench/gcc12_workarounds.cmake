# GCC 12 at -O3 (a Release build) reports a bogus -Wrestrict inside libstdc++ for
# `"literal" + std::to_string(...)` under C++20 (a known GCC 12 false positive), which -Werror
# turns into a build failure of engine_bench.cc (RelWithDebInfo, -O2, is not affected). Until that
# file builds its strings with absl::StrCat, keep the diagnostic a warning for that target only.
# Included after engine.cmake (fragments are included in alphabetical order).
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13
   AND TARGET engine_bench)
  target_compile_options(engine_bench PRIVATE -Wno-error=restrict)
endif()
