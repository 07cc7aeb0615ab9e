in f32 4 0x3dcccccd 0x3f000000 0xbe99999a 0x3e800000
out i32 4 20 4 20 20
jax_compile_ms 290.621
jax_run_us 40.576
