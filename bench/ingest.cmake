# Decode + validate of input records per payload kind and on the live mix (processor/ingest/).
add_executable(ingest_bench ${CMAKE_CURRENT_LIST_DIR}/ingest_bench.cc)
target_compile_options(ingest_bench PRIVATE ${CCSTREAM_WARNINGS})
target_link_libraries(ingest_bench PRIVATE ccstream_ingest ccstream_test_support
                      benchmark::benchmark_main)
