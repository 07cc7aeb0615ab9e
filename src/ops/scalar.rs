//! The scalar meaning of every elementwise op: the one definition both executors use.
//!
//! The interpreter and constant folding call these functions; the JIT emits inline code for
//! the cheap ops (tested against these functions on edge values) and calls the
//! `extern "C"` functions below for the transcendental ones, so both sides compute the very
//! same bits.

/// Transcendental and libm-backed functions, callable from compiled code by address.
/// Each is the Rust standard library's function, so the interpreter and the JIT agree.
macro_rules! extern_unary {
    ($($name:ident: $t:ty => $f:expr;)*) => {
        $(
            #[doc = concat!("`", stringify!($name), "`, called by the interpreter and by compiled code.")]
            pub extern "C" fn $name(x: $t) -> $t {
                let f: fn($t) -> $t = $f;
                f(x)
            }
        )*
    };
}

extern_unary! {
    exp_f32: f32 => f32::exp;
    exp_f64: f64 => f64::exp;
    log_f32: f32 => f32::ln;
    log_f64: f64 => f64::ln;
    tanh_f32: f32 => f32::tanh;
    tanh_f64: f64 => f64::tanh;
    sin_f32: f32 => f32::sin;
    sin_f64: f64 => f64::sin;
    cos_f32: f32 => f32::cos;
    cos_f64: f64 => f64::cos;
}

/// C99 `pow`, with its special cases (`pow(x, 0) = 1` even for NaN `x`, `pow(1, y) = 1`).
pub extern "C" fn pow_f32(a: f32, b: f32) -> f32 {
    a.powf(b)
}

/// C99 `pow`, with its special cases.
pub extern "C" fn pow_f64(a: f64, b: f64) -> f64 {
    a.powf(b)
}

/// C `fmod`: the remainder has the sign of the dividend.
pub extern "C" fn rem_f32(a: f32, b: f32) -> f32 {
    a % b
}

/// C `fmod`: the remainder has the sign of the dividend.
pub extern "C" fn rem_f64(a: f64, b: f64) -> f64 {
    a % b
}
