# A /metrics scrape with every label set populated, serialized and over HTTP, and the cost of
# recording outcomes while scrapes run (processor/runtime probes, processor/http).
add_executable(metrics_bench ${CMAKE_CURRENT_LIST_DIR}/metrics_bench.cc)
target_compile_options(metrics_bench PRIVATE ${CCSTREAM_WARNINGS})
target_link_libraries(metrics_bench PRIVATE ccstream_runtime ccstream_http prometheus-cpp::core
                      benchmark::benchmark_main)
