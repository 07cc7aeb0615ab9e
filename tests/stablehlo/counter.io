in i64 - 10
out i64 - 10
jax_compile_ms 175.418
jax_run_us 19.728
