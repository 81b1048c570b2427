# The Kafka-facing tools of the end-to-end harness (bench/run.sh): the baseline consumer, the
# state loader and the latency probe (bench/harness/).
add_executable(ccstream_bench_tool ${CMAKE_CURRENT_LIST_DIR}/harness/bench_tool.cc)
target_compile_options(ccstream_bench_tool PRIVATE ${CCSTREAM_WARNINGS})
target_link_libraries(ccstream_bench_tool PRIVATE ccstream_kafka ccstream_gen absl::strings
                      absl::str_format absl::status absl::statusor)

# bench/run.sh on a tiny run against the test broker: every stage runs and reports its figures.
if(CCSTREAM_BUILD_TESTS)
  ccstream_add_kafka_test(bench_harness
    COMMAND ${CMAKE_CURRENT_LIST_DIR}/harness/harness_test.sh ${PROJECT_BINARY_DIR}
    LABELS bench TIMEOUT 900)
  # The harness's own parts that need no broker (reading /metrics).
  add_test(NAME bench_harness_unit
           COMMAND python3 ${CMAKE_CURRENT_LIST_DIR}/harness/harness_unit_test.py)
  set_tests_properties(bench_harness_unit PROPERTIES LABELS unit TIMEOUT 60)
endif()
