# Complaint classifier: ns per 100- and 400-character text (see complaint_bench.cc).
add_executable(complaint_bench ${CMAKE_CURRENT_LIST_DIR}/complaint_bench.cc)
target_compile_options(complaint_bench PRIVATE ${CCSTREAM_WARNINGS})
target_link_libraries(complaint_bench PRIVATE ccstream_complaint benchmark::benchmark_main)
