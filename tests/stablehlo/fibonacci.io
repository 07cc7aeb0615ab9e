in i64 - 30
out i64 - 832040
jax_compile_ms 83.388
jax_run_us 13.094
