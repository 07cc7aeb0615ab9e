//! Fuzz target: command-line arguments (literals and generators) read against the parameters
//! of a few functions of different dtypes and shapes. Nothing may panic, and no argument may
//! make the reader allocate more than the tensor limits allow.
#![no_main]

use std::sync::OnceLock;

use graphjit::args::parse_args;
use graphjit::ir::parse::parse_module;
use graphjit::ir::Module;
use libfuzzer_sys::fuzz_target;

/// Functions whose parameters cover scalars, vectors and matrices of several dtypes.
const SIGNATURES: &str = "
func @a(%x: i32, %y: f32) -> i32 {
  return %x
}
func @b(%v: f64[4], %m: u8[2, 3]) -> f64[4] {
  return %v
}
func @c(%p: bool[3], %h: f16, %g: bf16[2], %k: i64) -> bool[3] {
  return %p
}
";

fn module() -> &'static Module {
    static M: OnceLock<Module> = OnceLock::new();
    M.get_or_init(|| parse_module(SIGNATURES).expect("the signatures parse"))
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The first byte picks the function; the rest is split into arguments at NUL bytes.
    let funcs = &module().funcs;
    let Some(first) = text.chars().next() else {
        return;
    };
    let f = &funcs[first as usize % funcs.len()];
    let args: Vec<String> = text[first.len_utf8()..]
        .split('\0')
        .map(str::to_string)
        .collect();
    if let Ok(tensors) = parse_args(f, &args) {
        assert_eq!(tensors.len(), f.params.len());
        for (t, &p) in tensors.iter().zip(&f.params) {
            assert!(f.ty(p).matches(t.dtype(), t.shape()), "{t} for {}", f.ty(p));
        }
    }
});
