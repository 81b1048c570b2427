# Micro-benchmarks of the text signals (processor/domain/text/): VADER sentiment and
# escalation-phrase matching on 100- and 400-character customer turns.
add_executable(text_bench ${CMAKE_CURRENT_SOURCE_DIR}/text_bench.cc)
target_compile_options(text_bench PRIVATE ${CCSTREAM_WARNINGS})
target_link_libraries(text_bench PRIVATE ccstream_text benchmark::benchmark_main)
