in i64 - 10
out i64 - 10
jax_compile_ms 651.886
jax_run_us 28.163
