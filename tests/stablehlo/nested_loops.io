in i64 - 5
in i64 - 7
out i64 - 245
jax_compile_ms 113.661
jax_run_us 14.507
