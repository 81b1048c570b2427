# ctest `bench_smoke` (label `bench`): bench/micro.sh runs every <area>_bench executable with a
# tiny minimum time, so that neither the benchmarks nor the script rot; it fails when an
# executable is missing, crashes, exits non-zero or reports an error for a benchmark. The 1 M
# timer fills are left out (they take several seconds each); `bench/micro.sh --quick` runs them.
if(CCSTREAM_BUILD_TESTS)
  add_test(NAME bench_smoke
           COMMAND ${CMAKE_CURRENT_LIST_DIR}/micro.sh --no-build --build-dir ${CMAKE_BINARY_DIR}
                   --out ${CMAKE_CURRENT_BINARY_DIR}/smoke --min-time 0.001
                   --filter -timers:1000000)
  set_tests_properties(bench_smoke PROPERTIES LABELS bench TIMEOUT 180)
endif()
