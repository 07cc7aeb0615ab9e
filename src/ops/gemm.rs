//! The matrix products of `dot`: the integer one (sequential in k) and the float ones through
//! `matrixmultiply`, cut into fixed blocks of rows that run on the thread pool. Both
//! executors call these very functions (compiled code through `dot_f32` and the others,
//! by address), so they give the same bits; see `kernels::dot` for the order.

use crate::ops::scalar::{Arith, HalfFloat};

/// The `dot` of `f16`/`bf16`: operands widened to `f32` (exact), multiplied by the `f32`
/// kernel [`gemm_f32`], and each result rounded once to the 16-bit type, as XLA:CPU does.
pub fn dot_half<H: HalfFloat>(a: &[H], b: &[H], m: usize, k: usize, n: usize) -> Option<Vec<H>> {
    let wide = |v: &[H]| v.iter().map(|x| x.widen()).collect::<Vec<f32>>();
    let c = gemm_f32(&wide(a), &wide(b), m, k, n)?;
    Some(c.into_iter().map(H::narrow).collect())
}

/// The integer `dot`: each `C[i,j]` a wrapping sum over `p` ascending from 0.
pub(crate) fn dot_sequential<T: Arith>(
    av: &[T],
    bv: &[T],
    m: usize,
    k: usize,
    n: usize,
) -> Option<Vec<T>> {
    if av.len() != m * k || bv.len() != k * n {
        return None;
    }
    let mut c = vec![T::ZERO; m * n];
    if n == 0 {
        return Some(c);
    }
    // The i-p-j loop order keeps each C[i,j] a sequential sum over p while the inner loop
    // runs over contiguous rows of B and C.
    for (i, crow) in c.chunks_exact_mut(n).enumerate() {
        for p in 0..k {
            let aip = av[i * k + p];
            let brow = &bv[p * n..(p + 1) * n];
            for (cj, &bj) in crow.iter_mut().zip(brow) {
                *cj = T::add(*cj, T::mul(aip, bj));
            }
        }
    }
    Some(c)
}

/// Rows of A and C per block of a float `dot` large enough to split (see [`super::kernels::dot`]).
pub const DOT_ROWS: usize = 128;

/// The rows per block of an `[m,k] x [k,n]` float `dot`: [`DOT_ROWS`] when the product has
/// at least 2^20 multiply-adds and more than `DOT_ROWS` rows, else all of them (one block).
/// A function of the shape only: every thread count cuts the same blocks.
fn dot_row_blocks(m: usize, k: usize, n: usize) -> usize {
    let work = m.saturating_mul(k).saturating_mul(n);
    if m > DOT_ROWS && work >= 1 << 20 {
        DOT_ROWS
    } else {
        m.max(1)
    }
}

macro_rules! float_gemm {
    ($t:ty, $safe:ident, $ext:ident, $gemm:path) => {
        /// The float `dot` of row-major `a` (`[m,k]`) and `b` (`[k,n]`, or `[k]` with `n = 1`)
        /// through `matrixmultiply` (see [`super::kernels::dot`] for what that means for the float bits).
        /// `None` when a length does not fit the shape.
        pub fn $safe(a: &[$t], b: &[$t], m: usize, k: usize, n: usize) -> Option<Vec<$t>> {
            if a.len() != m.checked_mul(k)? || b.len() != k.checked_mul(n)? {
                return None;
            }
            let mut c = vec![0.0; m.checked_mul(n)?];
            // SAFETY: the lengths were checked against the row-major shapes just above.
            unsafe {
                $ext(
                    a.as_ptr(),
                    b.as_ptr(),
                    c.as_mut_ptr(),
                    m as u64,
                    k as u64,
                    n as u64,
                )
            };
            Some(c)
        }

        /// The float `dot` on raw row-major buffers, the one routine both executors call:
        /// the interpreter through the safe wrapper, compiled code by address (it is a
        /// runtime symbol whose arguments are all 64-bit integers). `C` is written, never
        /// read, so it may hold anything before. Always returns 0.
        ///
        /// # Safety
        /// `a` must point to `m*k` readable elements, `b` to `k*n`, `c` to `m*n` writable
        /// ones that overlap neither.
        pub(crate) unsafe extern "C" fn $ext(
            a: *const $t,
            b: *const $t,
            c: *mut $t,
            m: u64,
            k: u64,
            n: u64,
        ) -> u64 {
            let (m, k, n) = (m as usize, k as usize, n as usize);
            // beta = 0 means C is not read, and alpha = 1 leaves each accumulated sum as it
            // is. Each call is single-threaded (the crate's `threading` feature is off); a
            // large product is split into blocks of `DOT_ROWS` rows of A and C, one call
            // each, on the pool (see `dot_row_blocks`).
            let rows = dot_row_blocks(m, k, n);
            let (pa, pb, pc) = (a as usize, b as usize, c as usize);
            let block = |blk: usize| {
                let r0 = blk * rows;
                let mr = rows.min(m - r0);
                let (a, b, c) = (pa as *const $t, pb as *const $t, pc as *mut $t);
                // SAFETY: the caller guarantees the extents; block `blk` reads rows
                // `r0..r0 + mr` of A, all of B, and writes only rows `r0..r0 + mr` of C.
                unsafe {
                    $gemm(
                        mr,
                        k,
                        n,
                        1.0,
                        a.add(r0 * k),
                        k as isize,
                        1,
                        b,
                        n as isize,
                        1,
                        0.0,
                        c.add(r0 * n),
                        n as isize,
                        1,
                    )
                };
            };
            if rows >= m {
                block(0);
            } else {
                // A stop is recorded for the executor (`parallel::take_stopped`).
                let _ = crate::parallel::for_blocks_from(2, m.div_ceil(rows), &block);
            }
            0
        }
    };
}

float_gemm!(f32, gemm_f32, dot_f32, matrixmultiply::sgemm);
float_gemm!(f64, gemm_f64, dot_f64, matrixmultiply::dgemm);

macro_rules! half_dot {
    ($t:ty, $ext:ident) => {
        /// The `dot` of a 16-bit float ([`dot_half`]) for compiled code, with the calling
        /// convention of `dot_f32`.
        ///
        /// # Safety
        /// `a` must point to `m*k` readable elements, `b` to `k*n`, `c` to `m*n` writable
        /// ones that overlap neither.
        pub(crate) unsafe extern "C" fn $ext(
            a: *const $t,
            b: *const $t,
            c: *mut $t,
            m: u64,
            k: u64,
            n: u64,
        ) -> u64 {
            let (m, k, n) = (m as usize, k as usize, n as usize);
            // SAFETY: the caller guarantees the extents.
            let (a, b) = unsafe {
                (
                    std::slice::from_raw_parts(a, m * k),
                    std::slice::from_raw_parts(b, k * n),
                )
            };
            if let Some(r) = dot_half(a, b, m, k, n) {
                // SAFETY: `r` has `m*n` elements and `c` room for as many.
                unsafe { std::ptr::copy_nonoverlapping(r.as_ptr(), c, r.len()) };
            }
            0
        }
    };
}

half_dot!(half::f16, dot_f16);
half_dot!(half::bf16, dot_bf16);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::kernels::tests::noise;

    #[test]
    fn row_blocks_change_no_bit() {
        // 300 rows of 200 x 100: three row blocks (128, 128, 44), against one sgemm call over
        // all rows, at several thread counts.
        let (m, k, n) = (300, 200, 100);
        assert!(dot_row_blocks(m, k, n) < m);
        let (a, b) = (noise(m * k, 1), noise(k * n, 2));
        let mut whole = vec![0f32; m * n];
        // SAFETY: the buffers have exactly the row-major extents of the shapes.
        unsafe {
            matrixmultiply::sgemm(
                m,
                k,
                n,
                1.0,
                a.as_ptr(),
                k as isize,
                1,
                b.as_ptr(),
                n as isize,
                1,
                0.0,
                whole.as_mut_ptr(),
                n as isize,
                1,
            )
        };
        for threads in [1, 2, 3] {
            let _g = crate::parallel::enter(Some(threads), None, None);
            let c = gemm_f32(&a, &b, m, k, n).unwrap();
            let same = c
                .iter()
                .zip(&whole)
                .all(|(x, y)| x.to_bits() == y.to_bits());
            assert!(same, "{threads} threads");
        }
    }
}
