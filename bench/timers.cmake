# The timer index of a RocksDB store at 10 k and 1 M pending timers (timers_bench.cc).
add_executable(timers_bench ${CMAKE_CURRENT_LIST_DIR}/timers_bench.cc)
target_compile_options(timers_bench PRIVATE ${CCSTREAM_WARNINGS})
target_link_libraries(timers_bench PRIVATE ccstream_state absl::strings benchmark::benchmark)
