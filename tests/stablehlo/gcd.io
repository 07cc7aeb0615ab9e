in i64 - 1071
in i64 - 462
out i64 - 21
jax_compile_ms 77.600
jax_run_us 14.828
