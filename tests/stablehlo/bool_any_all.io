in i1 4 1 0 1 1
out i1 - 1
out i1 - 0
out i1 4 0 1 1 0
jax_compile_ms 276.041
jax_run_us 18.916
