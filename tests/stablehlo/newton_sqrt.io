in f64 - 0x4000000000000000
out f64 - 0x3ff6a09e667f3bcc
jax_compile_ms 108.687
jax_run_us 13.225
