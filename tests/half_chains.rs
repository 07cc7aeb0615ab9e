//! Chains of `f16`/`bf16` ops, which fused loops keep widened to `f32` between ops (rounding
//! after each one) and vectorize four lanes at a time: every executor must give the bits of
//! the semantics, "each op computes in `f32` and rounds its result to the storage type",
//! computed here by a plain Rust loop over the `half` crate. Edge values (NaN, infinities,
//! the largest finite values, sums and products that round up to overflow, subnormals, ties)
//! and random bit patterns, at lengths that leave every kind of scalar remainder after the
//! vector loop.

mod common;

use common::check_both;
use graphjit::filetest::load;
use graphjit::ir::Function;
use graphjit::{DType, Tensor};

/// The lengths: empty, shorter than one vector, whole vectors, and remainders of 1 to 7
/// after one or more 8-element steps.
const LENGTHS: [usize; 13] = [0, 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 33, 1027];

/// A 16-bit float type as the reference sees it.
trait Half: Copy {
    const DT: DType;
    fn from_bits(b: u16) -> Self;
    fn to_bits(self) -> u16;
    fn from_f32(x: f32) -> Self;
    fn to_f32(self) -> f32;
    fn tensor(v: Vec<Self>, n: usize) -> Tensor;
    fn bits_of(t: &Tensor) -> Vec<u16>;
    /// Edge values, as `f32`s that the type holds exactly.
    fn edges() -> Vec<f32>;
}

macro_rules! half_impl {
    ($t:ty, $dt:expr, $edges:expr) => {
        impl Half for $t {
            const DT: DType = $dt;
            fn from_bits(b: u16) -> Self {
                <$t>::from_bits(b)
            }
            fn to_bits(self) -> u16 {
                <$t>::to_bits(self)
            }
            fn from_f32(x: f32) -> Self {
                <$t>::from_f32(x)
            }
            fn to_f32(self) -> f32 {
                <$t>::to_f32(self)
            }
            fn tensor(v: Vec<Self>, n: usize) -> Tensor {
                Tensor::from_vec(v, [n]).expect("tensor")
            }
            fn bits_of(t: &Tensor) -> Vec<u16> {
                t.as_slice::<$t>()
                    .expect("a tensor of the type")
                    .iter()
                    .map(|h| h.to_bits())
                    .collect()
            }
            fn edges() -> Vec<f32> {
                $edges
            }
        }
    };
}

half_impl!(
    half::f16,
    DType::F16,
    vec![
        0.0,
        -0.0,
        1.0,
        -1.0,
        2.0,
        0.5,
        3.0,
        65504.0,
        -65504.0,
        65472.0,
        // Subnormals: the smallest, a middle one, the largest; the smallest normal.
        f32::powi(2.0, -24),
        -3.0 * f32::powi(2.0, -24),
        1023.0 * f32::powi(2.0, -24),
        f32::powi(2.0, -14),
        // Half an ulp of 1 and of 2048, for ties in sums.
        f32::powi(2.0, -11),
        1.0 + f32::powi(2.0, -10),
        2048.0,
        1.0,
        300.0,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
    ]
);

half_impl!(
    half::bf16,
    DType::BF16,
    vec![
        0.0,
        -0.0,
        1.0,
        -1.0,
        2.0,
        0.5,
        3.0,
        // The largest finite bf16 and its neighbour below.
        f32::from_bits(0x7f7f_0000),
        -f32::from_bits(0x7f7f_0000),
        f32::from_bits(0x7f7e_0000),
        // Subnormals of bf16 (f32's) and the smallest normal.
        f32::from_bits(0x0001_0000),
        -f32::from_bits(0x0003_0000),
        f32::from_bits(0x007f_0000),
        f32::from_bits(0x0080_0000),
        // Half an ulp of 1 (a tie in 1 + x) and of 256.
        f32::powi(2.0, -8),
        1.0 + f32::powi(2.0, -7),
        256.0,
        1.0,
        f32::from_bits(0x5f80_0000),
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
    ]
);

/// The semantics of one op on the 16-bit type: compute in `f32`, round once.
fn r<H: Half>(x: f32) -> f32 {
    H::from_f32(x).to_f32()
}

/// `max` as graphjit defines it for floats (IEEE 754-2019 maximum: NaN if either is NaN,
/// +0 above -0).
fn fmax(a: f32, b: f32) -> f32 {
    if a.is_nan() || b.is_nan() {
        f32::NAN
    } else if a == b {
        if a.is_sign_negative() {
            b
        } else {
            a
        }
    } else {
        a.max(b)
    }
}

/// The chain's program and its reference. Every intermediate value is one op's result.
const CHAIN: &str = "
  %a = mul %x, %y : T[N]
  %b = add %a, %x : T[N]
  %c = sub %b, %y : T[N]
  %d = div %c, %y : T[N]
  %e = max %d, %x : T[N]
  %f = abs %y : T[N]
  %g = sqrt %f : T[N]
  %h = add %e, %g : T[N]
  %i = neg %h : T[N]
  %j = mul %i, %i : T[N]
  %k = add %j, %y : T[N]
  return %k";

fn chain_ref<H: Half>(x: f32, y: f32) -> f32 {
    let a = r::<H>(x * y);
    let b = r::<H>(a + x);
    let c = r::<H>(b - y);
    let d = r::<H>(c / y);
    let e = r::<H>(fmax(d, x));
    let f = r::<H>(y.abs());
    let g = r::<H>(f.sqrt());
    let h = r::<H>(e + g);
    let i = r::<H>(-h);
    let j = r::<H>(i * i);
    r::<H>(j + y)
}

fn program(dt: DType, n: usize, body: &str) -> Function {
    let t = dt.name();
    let src = format!("func @f(%x: {t}[{n}], %y: {t}[{n}]) -> {t}[{n}] {{{body}\n}}\n")
        .replace("[N]", &format!("[{n}]"))
        .replace("T[", &format!("{t}["));
    load(&src)
        .unwrap_or_else(|e| panic!("{src}: {e}"))
        .func("f")
        .expect("@f")
        .clone()
}

/// Operand pairs: every edge value against every other (so each appears in every position
/// of a vector and of the remainder), then random bit patterns.
fn operands<H: Half>(n: usize, seed: u64) -> (Vec<H>, Vec<H>) {
    let e = H::edges();
    let mut s = seed;
    let mut next = move || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (s >> 48) as u16
    };
    let (mut xs, mut ys) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for k in 0..n {
        let pairs = e.len() * e.len();
        let (x, y) = if k < pairs {
            (H::from_f32(e[k / e.len()]), H::from_f32(e[k % e.len()]))
        } else {
            (H::from_bits(next()), H::from_bits(next()))
        };
        xs.push(x);
        ys.push(y);
    }
    (xs, ys)
}

/// In every executor the results' bits equal the reference's, a NaN for a NaN: NaN payloads
/// are excepted (GUARANTEES.md), since the NaN of an op on two NaNs depends on which operand
/// the hardware (or the Rust compiler, for the interpreter) puts first, and vector `max`
/// gives the canonical NaN.
fn check_chain<H: Half>(body: &str, reference: fn(f32, f32) -> f32) {
    for (i, &n) in LENGTHS.iter().enumerate() {
        let f = program(H::DT, n, body);
        let (xs, ys) = operands::<H>(n, 7 + i as u64);
        let want: Vec<u16> = xs
            .iter()
            .zip(&ys)
            .map(|(x, y)| H::from_f32(reference(x.to_f32(), y.to_f32())).to_bits())
            .collect();
        let inputs = [H::tensor(xs, n), H::tensor(ys, n)];
        let what = format!("{} chain of {n}", H::DT);
        let got = check_both(&f, &inputs, &what);
        let got_bits = H::bits_of(&got[0]);
        for (k, (&g, &w)) in got_bits.iter().zip(&want).enumerate() {
            let (gf, wf) = (H::from_bits(g).to_f32(), H::from_bits(w).to_f32());
            assert!(
                g == w || (gf.is_nan() && wf.is_nan()),
                "{what}: element {k} is {g:#06x}, the reference gives {w:#06x}"
            );
        }
    }
}

#[test]
fn f16_chains_round_after_every_op_in_every_executor() {
    check_chain::<half::f16>(CHAIN, chain_ref::<half::f16>);
}

#[test]
fn bf16_chains_round_after_every_op_in_every_executor() {
    check_chain::<half::bf16>(CHAIN, chain_ref::<half::bf16>);
}

/// Conversions between the two 16-bit floats inside a chain round to the target, and back.
const CONVERTS_F16: &str = "
  %a = add %x, %y : T[N]
  %b = convert %a : bf16[N]
  %c = mul %b, %b : bf16[N]
  %d = convert %c : f16[N]
  %k = sub %d, %x : T[N]
  return %k";

fn converts_f16_ref(x: f32, y: f32) -> f32 {
    let a = r::<half::f16>(x + y);
    let b = r::<half::bf16>(a);
    let c = r::<half::bf16>(b * b);
    let d = r::<half::f16>(c);
    r::<half::f16>(d - x)
}

#[test]
fn conversions_between_16_bit_floats_inside_a_chain() {
    check_chain::<half::f16>(CONVERTS_F16, converts_f16_ref);
}

/// Ops the vector code splits into lanes or computes with the inline math (`exp`, `log`,
/// `pow`), comparisons, selects and conversions to other types, mixed into chains: checked
/// against the interpreter in every compile variant.
#[test]
fn chains_with_calls_compares_and_selects_agree_with_the_interpreter() {
    for dt in [DType::F16, DType::BF16] {
        let t = dt.name();
        // The first chain has vector code (no bool in it); the second is scalar.
        let vector = "
  %a = exp %x : T[N]
  %b = log %y : T[N]
  %c = pow %a, %b : T[N]
  %d = tanh %c : T[N]
  %e = rem %d, %y : T[N]
  %k = mul %e, %x : T[N]
  return %k";
        let scalar = "
  %a = exp %x : T[N]
  %d = tanh %a : T[N]
  %p = lt %d, %x : bool[N]
  %e = select %p, %d, %y : T[N]
  %w = convert %e : f32[N]
  %v = convert %w : T[N]
  %u = convert %p : T[N]
  %i = convert %e : i32[N]
  %j = convert %i : T[N]
  %q = add %j, %u : T[N]
  %k = mul %v, %q : T[N]
  return %k";
        for (body, &n) in [vector, scalar]
            .into_iter()
            .flat_map(|b| LENGTHS.iter().map(move |n| (b, n)))
        {
            let f = program(dt, n, body);
            let inputs = match dt {
                DType::F16 => {
                    let (x, y) = operands::<half::f16>(n, n as u64);
                    [half::f16::tensor(x, n), half::f16::tensor(y, n)]
                }
                _ => {
                    let (x, y) = operands::<half::bf16>(n, n as u64);
                    [half::bf16::tensor(x, n), half::bf16::tensor(y, n)]
                }
            };
            check_both(&f, &inputs, &format!("{t} calls chain of {n}"));
        }
    }
}
