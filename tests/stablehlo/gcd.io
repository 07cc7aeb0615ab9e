in i64 - 1071
in i64 - 462
out i64 - 21
jax_compile_ms 447.850
jax_run_us 20.469
