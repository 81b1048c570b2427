# ccstream_embed_file(<target> <symbol> <file>)
# Compiles <file> into <target> as `std::string_view <symbol>()` in namespace ccstream::embedded,
# declared in the generated header "embedded/<symbol>.h". Used for data the binary must carry
# (lexicons, model weights, the wallboard page) so that it needs no files at run time.
function(ccstream_embed_file target symbol file)
  set(out_dir ${CMAKE_CURRENT_BINARY_DIR}/embedded)
  set(header ${out_dir}/embedded/${symbol}.h)
  set(source ${out_dir}/${symbol}.cc)
  add_custom_command(
    OUTPUT ${header} ${source}
    COMMAND ${CMAKE_COMMAND} -DSYMBOL=${symbol} -DINPUT=${file} -DHEADER=${header}
            -DSOURCE=${source} -P ${PROJECT_SOURCE_DIR}/cmake/EmbedScript.cmake
    DEPENDS ${file} ${PROJECT_SOURCE_DIR}/cmake/EmbedScript.cmake
    COMMENT "Embedding ${file} as ${symbol}"
    VERBATIM)
  target_sources(${target} PRIVATE ${source} ${header})
  target_include_directories(${target} PUBLIC ${out_dir})
endfunction()
