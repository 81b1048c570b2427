# The RocksDB write of one commit's state changes, into a real store, and the serialization of
# a commit's changelog records over several tasks on the engine's threads (state_bench.cc).
add_executable(state_bench ${CMAKE_CURRENT_LIST_DIR}/state_bench.cc)
target_compile_options(state_bench PRIVATE ${CCSTREAM_WARNINGS})
target_link_libraries(state_bench PRIVATE ccstream_state ccstream_domain ccstream_runtime
                      ccstream_test_support
                      benchmark::benchmark_main)
