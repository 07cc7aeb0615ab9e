in i64 - 30
out i64 - 832040
jax_compile_ms 291.061
jax_run_us 14.242
