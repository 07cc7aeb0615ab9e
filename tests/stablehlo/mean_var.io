note float sums: XLA and graphjit (16 lane-strided partial sums) add in different orders
tol 4
in f64 16 0xbfd63ff4fb8dd0fa 0x3fe1a585d84d78a3 0xbfd853ba993b884e 0x3fdc1812c0d7b03e 0x3fef58650cac854f 0xbfe1696089607beb 0x3ff3b39de530980f 0x3ff9f2e93c3751aa 0x3ff143c5ae13ceba 0x3ff2a5bc5d13287a 0x3ff18c7a6e9919d1 0x4002094bc665a949 0x3fc7ca4a4584d712 0x3f6112a37606f98d 0x3fe34ca7b0f8a966 0xbfed0fef359ecc7b
out f64 - 0x3fe20f54ff1b861c
out f64 - 0x3fe632fde0179b61
jax_compile_ms 257.086
jax_run_us 44.383
