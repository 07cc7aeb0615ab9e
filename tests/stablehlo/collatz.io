in i64 - 27
out i64 - 1
out i64 - 111
jax_compile_ms 176.275
jax_run_us 17.052
