in i64 - 7
in f32 - 0x3fc00000
out i64 - 7
out f32 - 0x4200b000
out i1 - 0
jax_compile_ms 220.137
jax_run_us 31.539
