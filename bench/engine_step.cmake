# One Engine::OnEvent per payload kind, the store in a realistic state (engine_step_bench.cc).
add_executable(engine_step_bench ${CMAKE_CURRENT_LIST_DIR}/engine_step_bench.cc)
target_compile_options(engine_step_bench PRIVATE ${CCSTREAM_WARNINGS})
target_link_libraries(engine_step_bench PRIVATE ccstream_domain ccstream_test_support
                      benchmark::benchmark_main)
