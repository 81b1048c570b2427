# Engine throughput on a realistic event mix with the in-memory store (processor/domain/).
add_executable(engine_bench ${CMAKE_CURRENT_LIST_DIR}/engine_bench.cc)
target_compile_options(engine_bench PRIVATE ${CCSTREAM_WARNINGS})
target_link_libraries(engine_bench PRIVATE ccstream_domain ccstream_test_support
                      benchmark::benchmark_main)
