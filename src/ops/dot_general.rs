//! StableHLO's `dot_general`: batch and contracting dimensions, a result dtype that may
//! differ from the operands', the type rule and the one definition both executors run.
//!
//! Semantics: both operands are converted to the result's dtype (graphjit's `convert`), so
//! `bf16 x bf16 -> f32` and `i8 x i8 -> i32` accumulate in the result type. Each operand is
//! then arranged as `[batch, free, contracting]` (lhs) and `[batch, contracting, free]` (rhs)
//! in row-major order of the listed dimensions, and every batch is one `dot` of
//! `[m, k] x [k, n]` with that op's documented accumulation order (sequential in `k` for
//! integers, the `matrixmultiply` kernel for floats). Compiled code calls [`dot_general_rt`],
//! which runs this very function, so the bits agree.

use super::kernels::{convert_data, gather_data};
use super::scalar::Elem;
use super::TypeError;
use crate::tensor::{Data, Element};
use crate::types::{strides, DType, TensorType};

/// The dimension numbers of `dot_general`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct DotDims {
    pub lhs_batch: Vec<usize>,
    pub rhs_batch: Vec<usize>,
    pub lhs_contract: Vec<usize>,
    pub rhs_contract: Vec<usize>,
}

fn err<T>(m: String) -> Result<T, TypeError> {
    Err(TypeError(m))
}

/// The free dimensions of an operand of rank `rank`: those neither batch nor contracting.
fn free(rank: usize, batch: &[usize], contract: &[usize]) -> Vec<usize> {
    (0..rank)
        .filter(|d| !batch.contains(d) && !contract.contains(d))
        .collect()
}

/// The type rule of `dot_general(lhs, rhs)` with the declared result dtype.
pub fn infer_dot_general(
    args: &[&TensorType],
    dims: &DotDims,
    declared: Option<&TensorType>,
) -> Result<TensorType, TypeError> {
    let [a, b] = args else {
        return err(format!(
            "'dot_general' takes two operands, got {}",
            args.len()
        ));
    };
    let Some(d) = declared else {
        return err("'dot_general' needs a declared result type".into());
    };
    if a.dtype != b.dtype || !a.dtype.is_numeric() || !d.dtype.is_numeric() {
        return err(format!(
            "'dot_general' needs numeric operands of one dtype and a numeric result, got {a} and {b} to {d}"
        ));
    }
    let DotDims {
        lhs_batch,
        rhs_batch,
        lhs_contract,
        rhs_contract,
    } = dims;
    if lhs_batch.len() != rhs_batch.len() || lhs_contract.len() != rhs_contract.len() {
        return err(format!(
            "'dot_general' needs as many lhs as rhs batch and contracting dimensions, got {dims:?}"
        ));
    }
    for (t, ds) in [
        (a, [lhs_batch, lhs_contract]),
        (b, [rhs_batch, rhs_contract]),
    ] {
        let all: Vec<usize> = ds.iter().flat_map(|v| v.iter().copied()).collect();
        for (k, &x) in all.iter().enumerate() {
            if x >= t.rank() || all[..k].contains(&x) {
                return err(format!(
                    "'dot_general' dimensions {all:?} must be distinct dimensions of {t}"
                ));
            }
        }
    }
    for (&i, &j) in lhs_batch
        .iter()
        .zip(rhs_batch)
        .chain(lhs_contract.iter().zip(rhs_contract))
    {
        if a.shape[i] != b.shape[j] {
            return err(format!(
                "'dot_general' dimension {i} of {a} and {j} of {b} differ in size"
            ));
        }
    }
    let mut shape: Vec<usize> = lhs_batch.iter().map(|&i| a.shape[i]).collect();
    shape.extend(
        free(a.rank(), lhs_batch, lhs_contract)
            .iter()
            .map(|&i| a.shape[i]),
    );
    shape.extend(
        free(b.rank(), rhs_batch, rhs_contract)
            .iter()
            .map(|&i| b.shape[i]),
    );
    let t = TensorType::new(d.dtype, shape);
    t.check_size().map_err(TypeError)?;
    Ok(t)
}

/// The elements of an operand of `shape` read in the order of the dimensions `order` (a
/// permutation), as a row-major buffer.
fn arrange(x: &Data, shape: &[usize], order: &[usize]) -> Data {
    let st = strides(shape);
    let new_shape: Vec<usize> = order.iter().map(|&d| shape[d]).collect();
    let new_strides: Vec<usize> = order.iter().map(|&d| st[d]).collect();
    gather_data(x, 0, &new_shape, &new_strides)
}

/// `dot_general` on checked operands of the shapes given, to `out_dtype`.
pub(crate) fn dot_general_data(
    lhs: &Data,
    lshape: &[usize],
    rhs: &Data,
    rshape: &[usize],
    dims: &DotDims,
    out_dtype: DType,
) -> Option<Data> {
    let lf = free(lshape.len(), &dims.lhs_batch, &dims.lhs_contract);
    let rf = free(rshape.len(), &dims.rhs_batch, &dims.rhs_contract);
    let size = |s: &[usize], d: &[usize]| d.iter().map(|&i| s[i]).product::<usize>();
    let nb = size(lshape, &dims.lhs_batch);
    let m = size(lshape, &lf);
    let k = size(lshape, &dims.lhs_contract);
    let n = size(rshape, &rf);
    let lo: Vec<usize> = dims
        .lhs_batch
        .iter()
        .chain(&lf)
        .chain(&dims.lhs_contract)
        .copied()
        .collect();
    let ro: Vec<usize> = dims
        .rhs_batch
        .iter()
        .chain(&dims.rhs_contract)
        .chain(&rf)
        .copied()
        .collect();
    let a = arrange(&convert_data(lhs, out_dtype), lshape, &lo);
    let b = arrange(&convert_data(rhs, out_dtype), rshape, &ro);
    fn go<T: Elem + Element>(a: &Data, b: &Data, [nb, m, k, n]: [usize; 4]) -> Option<Vec<T>> {
        let (a, b) = (T::slice(a)?, T::slice(b)?);
        let mut out = Vec::with_capacity(nb.checked_mul(m)?.checked_mul(n)?);
        for i in 0..nb {
            let ab = a.get(i * m * k..(i + 1) * m * k)?;
            let bb = b.get(i * k * n..(i + 1) * k * n)?;
            if m * n == 0 {
                continue;
            }
            out.extend(T::dot(ab, bb, m, k, n)?);
        }
        Some(out)
    }
    crate::dispatch_dtype!(out_dtype, |T| go::<T>(&a, &b, [nb, m, k, n])
        .map(<T as Element>::into_data))
}

/// The descriptor compiled code hands to [`dot_general_rt`]: the operand dtype, the result
/// dtype, both shapes and the dimension numbers, as `u64` words.
pub fn encode(lhs: &TensorType, rhs: &TensorType, out: DType, dims: &DotDims) -> Vec<u64> {
    let code = |d: DType| DType::ALL.iter().position(|&x| x == d).unwrap_or(0) as u64;
    let mut w = vec![code(lhs.dtype), code(out)];
    let mut list = |v: &[usize]| {
        w.push(v.len() as u64);
        w.extend(v.iter().map(|&x| x as u64));
    };
    list(&lhs.shape);
    list(&rhs.shape);
    list(&dims.lhs_batch);
    list(&dims.rhs_batch);
    list(&dims.lhs_contract);
    list(&dims.rhs_contract);
    w
}

struct Decoded {
    lhs: TensorType,
    rhs: TensorType,
    out: DType,
    dims: DotDims,
}

fn decode(words: &[u64]) -> Option<Decoded> {
    let mut it = words.iter().map(|&w| w as usize);
    let dt = |i: usize| DType::ALL.get(i).copied();
    let (ld, od) = (dt(it.next()?)?, dt(it.next()?)?);
    let mut list = || -> Option<Vec<usize>> {
        let n = it.next()?;
        (0..n).map(|_| it.next()).collect()
    };
    let (ls, rs) = (list()?, list()?);
    let dims = DotDims {
        lhs_batch: list()?,
        rhs_batch: list()?,
        lhs_contract: list()?,
        rhs_contract: list()?,
    };
    Some(Decoded {
        lhs: TensorType::new(ld, ls),
        rhs: TensorType::new(ld, rs),
        out: od,
        dims,
    })
}

/// `dot_general` called from compiled code: `desc` is [`encode`]'s descriptor of `len`
/// words, `lhs`, `rhs` and `out` are row-major buffers of the types it describes. Returns 0,
/// or 1 if the descriptor does not decode (a graphjit bug; `out` is then left as it is).
///
/// # Safety
/// The pointers must be valid for the sizes the descriptor gives, as compiled code makes them.
pub unsafe extern "C" fn dot_general_rt(
    desc: *const u64,
    len: u64,
    lhs: *const u8,
    rhs: *const u8,
    out: *mut u8,
) -> u64 {
    // SAFETY: the descriptor is a constant data object of `len` words made by `encode`.
    let words = unsafe { std::slice::from_raw_parts(desc, len as usize) };
    let Some(d) = decode(words) else { return 1 };
    let bytes = |t: &TensorType| t.num_elements() * t.dtype.size_bytes();
    // SAFETY: compiled code passes operand buffers of exactly these types.
    let (lb, rb) = unsafe {
        (
            std::slice::from_raw_parts(lhs, bytes(&d.lhs)),
            std::slice::from_raw_parts(rhs, bytes(&d.rhs)),
        )
    };
    let (Some(l), Some(r)) = (
        Data::from_bytes(d.lhs.dtype, lb),
        Data::from_bytes(d.rhs.dtype, rb),
    ) else {
        return 1;
    };
    let Some(res) = dot_general_data(&l, &d.lhs.shape, &r, &d.rhs.shape, &d.dims, d.out) else {
        return 1;
    };
    let src = res.as_bytes();
    // SAFETY: `out` is the result buffer, of the result type's size, which `src` has.
    unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), out, src.len()) };
    0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::kernels::eval;
    use crate::ops::Op;
    use crate::tensor::Tensor;

    fn run(a: &Tensor, b: &Tensor, dims: DotDims, out: DType) -> Tensor {
        let decl = TensorType::new(out, vec![]);
        let ty = infer_dot_general(&[&a.ty(), &b.ty()], &dims, Some(&decl)).unwrap();
        eval(&Op::DotGeneral { dims }, &[a, b], &ty).unwrap()
    }

    /// A plain loop over the einsum `bij,bjk->bik`, the independent reference.
    fn batched_ref(a: &[i32], b: &[i32], nb: usize, m: usize, k: usize, n: usize) -> Vec<i32> {
        let mut c = vec![0i32; nb * m * n];
        for q in 0..nb {
            for i in 0..m {
                for j in 0..n {
                    for p in 0..k {
                        c[(q * m + i) * n + j] += a[(q * m + i) * k + p] * b[(q * k + p) * n + j];
                    }
                }
            }
        }
        c
    }

    #[test]
    fn batched_matmul_matches_a_plain_loop() {
        let (nb, m, k, n) = (3, 2, 4, 5);
        let av: Vec<i32> = (0..nb * m * k).map(|x| x as i32 - 7).collect();
        let bv: Vec<i32> = (0..nb * k * n).map(|x| (x as i32 * 3) % 11 - 5).collect();
        let a = Tensor::from_vec(av.clone(), vec![nb, m, k]).unwrap();
        let b = Tensor::from_vec(bv.clone(), vec![nb, k, n]).unwrap();
        let dims = DotDims {
            lhs_batch: vec![0],
            rhs_batch: vec![0],
            lhs_contract: vec![2],
            rhs_contract: vec![1],
        };
        let got = run(&a, &b, dims, DType::I32);
        let want = batched_ref(&av, &bv, nb, m, k, n);
        assert_eq!(got, Tensor::from_vec(want, vec![nb, m, n]).unwrap());
    }

    #[test]
    fn vector_dot_and_widening_accumulation() {
        // i8 x i8 -> i32: 100 * 100 * 4 overflows i8 but not i32.
        let a = Tensor::from_vec(vec![100i8; 4], vec![4]).unwrap();
        let dims = DotDims {
            lhs_contract: vec![0],
            rhs_contract: vec![0],
            ..DotDims::default()
        };
        let got = run(&a, &a, dims, DType::I32);
        assert_eq!(got, Tensor::scalar(40000i32));
    }

    #[test]
    fn contracting_the_first_lhs_dimension() {
        // [k, m] x [k, n] -> [m, n]: A^T B.
        let a = Tensor::from_vec(vec![1i64, 2, 3, 4, 5, 6], vec![2, 3]).unwrap();
        let b = Tensor::from_vec(vec![1i64, 0, 0, 1], vec![2, 2]).unwrap();
        let dims = DotDims {
            lhs_contract: vec![0],
            rhs_contract: vec![0],
            ..DotDims::default()
        };
        let got = run(&a, &b, dims, DType::I64);
        // Row i of the result is (a[0][i], a[1][i]).
        let want = vec![1i64, 4, 2, 5, 3, 6];
        assert_eq!(got, Tensor::from_vec(want, vec![3, 2]).unwrap());
    }

    #[test]
    fn type_errors() {
        let a = TensorType::new(DType::F32, vec![2, 3]);
        let b = TensorType::new(DType::F32, vec![4, 2]);
        let d = TensorType::scalar(DType::F32);
        let dims = DotDims {
            lhs_contract: vec![1],
            rhs_contract: vec![0],
            ..DotDims::default()
        };
        assert!(infer_dot_general(&[&a, &b], &dims, Some(&d)).is_err());
        let bad = DotDims {
            lhs_contract: vec![1, 1],
            rhs_contract: vec![0, 1],
            ..DotDims::default()
        };
        assert!(infer_dot_general(&[&a, &a], &bad, Some(&d)).is_err());
        assert!(infer_dot_general(&[&a, &b], &DotDims::default(), None).is_err());
    }

    #[test]
    fn descriptor_round_trips() {
        let a = TensorType::new(DType::BF16, vec![2, 3, 4]);
        let b = TensorType::new(DType::BF16, vec![2, 4]);
        let dims = DotDims {
            lhs_batch: vec![0],
            rhs_batch: vec![0],
            lhs_contract: vec![2],
            rhs_contract: vec![1],
        };
        let w = encode(&a, &b, DType::F32, &dims);
        let d = decode(&w).unwrap();
        assert_eq!((d.lhs, d.rhs, d.out, d.dims), (a, b, DType::F32, dims));
    }
}
