//! Vectorized integer `dot`: the documented order (each `C[i,j]` sums `A[i,k]*B[k,j]` for `k`
//! ascending, from zero, wrapping) computed for four or two columns at once in 128-bit lanes,
//! with blocks of rows and columns kept in registers. Float `dot` does not come here: it calls
//! the runtime's `matrixmultiply` routine, like the interpreter (see `Lowerer::lower_dot`).
//!
//! Lane `c` of an accumulator holds exactly the scalar accumulator of its column, updated by
//! the same multiply and add per `k`, so the bits equal the scalar code's.

use cranelift_codegen::ir::{self as clir, types, InstBuilder, MemFlagsData};

use super::{Lowerer, Result};
use crate::jit::isel::cl_type;
use crate::jit::plan::EwOp;
use crate::ops::BinaryOp;
use crate::types::DType;

/// Rows of a register block.
const ROWS: usize = 4;
/// Vectors (of columns) of a register block: 4 x 2 accumulators, 2 loads of `B` and one
/// broadcast of `A` fit the 16 vector registers.
const VECS: usize = 2;

/// The shape of one `dot`, in elements.
#[derive(Clone, Copy)]
pub(super) struct DotShape {
    pub m: usize,
    pub k: usize,
    pub n: usize,
    pub dt: DType,
}

impl DotShape {
    fn lanes(&self) -> usize {
        16 / self.dt.size_bytes()
    }
    fn es(&self) -> i64 {
        self.dt.size_bytes() as i64
    }
}

impl Lowerer<'_, '_> {
    /// Whether `dot` of this shape has a vector form: a numeric dtype and at least one vector
    /// of columns.
    pub(super) fn dot_vectorizable(&self, s: &DotShape) -> bool {
        // 8- and 16-bit lanes lack a vector multiply (and the 16-bit floats call the runtime).
        self.simd && s.dt != DType::Bool && s.dt.size_bytes() >= 4 && s.n >= s.lanes()
    }

    /// Emits `C = A x B` with vectors across the columns of `C`.
    pub(super) fn emit_dot_simd(
        &mut self,
        a: clir::Value,
        b: clir::Value,
        c: clir::Value,
        s: DotShape,
    ) -> Result<()> {
        let blocks = (s.m / ROWS) as u64;
        self.counted_loop(blocks, &mut |l, ib| {
            let i0 = l.b.ins().imul_imm_s(ib, ROWS as i64);
            l.dot_rows(a, b, c, s, i0, ROWS)
        })?;
        for i in (s.m / ROWS) * ROWS..s.m {
            let i0 = self.b.ins().iconst(types::I64, i as i64);
            self.dot_rows(a, b, c, s, i0, 1)?;
        }
        Ok(())
    }

    /// All columns of `rows` rows starting at row `i0`.
    fn dot_rows(
        &mut self,
        a: clir::Value,
        b: clir::Value,
        c: clir::Value,
        s: DotShape,
        i0: clir::Value,
        rows: usize,
    ) -> Result<()> {
        let lanes = s.lanes();
        let per_block = VECS * lanes;
        let col_blocks = (s.n / per_block) as u64;
        self.counted_loop(col_blocks, &mut |l, jb| {
            let j0 = l.b.ins().imul_imm_s(jb, per_block as i64);
            l.dot_block(a, b, c, s, i0, rows, j0, VECS)
        })?;
        let mut j = (s.n / per_block) * per_block;
        while s.n - j >= lanes {
            let j0 = self.b.ins().iconst(types::I64, j as i64);
            self.dot_block(a, b, c, s, i0, rows, j0, 1)?;
            j += lanes;
        }
        for jj in j..s.n {
            for r in 0..rows {
                let i = self.b.ins().iadd_imm_s(i0, r as i64);
                self.dot_scalar(a, b, c, s, i, jj)?;
            }
        }
        Ok(())
    }

    /// The zero of the dot's dtype, from `ops::scalar`.
    pub(super) fn dot_zero(&mut self, dt: DType) -> Result<clir::Value> {
        let r = self.isel().dot_zero(dt);
        self.selected(r, "the zero of 'dot'")
    }

    /// `acc + x * y` with the wrapping integer (or IEEE) instructions of `add` and `mul`, on
    /// scalars or lanewise on vectors.
    pub(super) fn mul_add(
        &mut self,
        dt: DType,
        acc: clir::Value,
        x: clir::Value,
        y: clir::Value,
    ) -> Result<clir::Value> {
        let ty = self.b.func.dfg.value_type(acc);
        let p = self
            .isel()
            .emit(EwOp::Binary(BinaryOp::Mul), dt, dt, ty, &[x, y]);
        let p = self.selected(p, "the product of 'dot'")?;
        let s = self
            .isel()
            .emit(EwOp::Binary(BinaryOp::Add), dt, dt, ty, &[acc, p]);
        self.selected(s, "the sum of 'dot'")
    }

    /// A block of `rows` rows from `i0` and `vecs` vectors of columns from `j0`, accumulated
    /// in registers over every `k`, then stored.
    #[allow(clippy::too_many_arguments)]
    fn dot_block(
        &mut self,
        a: clir::Value,
        b: clir::Value,
        c: clir::Value,
        s: DotShape,
        i0: clir::Value,
        rows: usize,
        j0: clir::Value,
        vecs: usize,
    ) -> Result<()> {
        let es = s.es();
        let vt = cl_type(s.dt)
            .by(s.lanes() as u32)
            .expect("a 128-bit vector type");
        let zero = self.dot_zero(s.dt)?;
        let vzero = self.b.ins().splat(vt, zero);
        let accs: Vec<_> = (0..rows * vecs)
            .map(|_| {
                let v = self.b.declare_var(vt);
                self.b.def_var(v, vzero);
                v
            })
            .collect();
        // Row starts of A and the column start of B, in bytes.
        let a_rows: Vec<clir::Value> = (0..rows)
            .map(|r| {
                let i = self.b.ins().iadd_imm_s(i0, r as i64);
                let e = self.b.ins().imul_imm_s(i, s.k as i64 * es);
                self.b.ins().iadd(a, e)
            })
            .collect();
        let jb = self.b.ins().imul_imm_s(j0, es);
        let b_col = self.b.ins().iadd(b, jb);
        self.counted_loop(s.k as u64, &mut |l, kk| {
            let ka = l.b.ins().imul_imm_s(kk, es);
            let kb = l.b.ins().imul_imm_s(kk, s.n as i64 * es);
            let brow = l.b.ins().iadd(b_col, kb);
            let bv: Vec<clir::Value> = (0..vecs)
                .map(|v| {
                    l.b.ins()
                        .load(vt, MemFlagsData::new().with_notrap(), brow, (v * 16) as i32)
                })
                .collect();
            for (r, &arow) in a_rows.iter().enumerate() {
                let p = l.b.ins().iadd(arow, ka);
                let x = l.b.ins().load(cl_type(s.dt), MemFlagsData::trusted(), p, 0);
                let xv = l.b.ins().splat(vt, x);
                for (v, &y) in bv.iter().enumerate() {
                    let acc = accs[r * vecs + v];
                    let cur = l.b.use_var(acc);
                    let next = l.mul_add(s.dt, cur, xv, y)?;
                    l.b.def_var(acc, next);
                }
            }
            Ok(())
        })?;
        for r in 0..rows {
            let i = self.b.ins().iadd_imm_s(i0, r as i64);
            let e = self.b.ins().imul_imm_s(i, s.n as i64);
            let e = self.b.ins().iadd(e, j0);
            let e = self.b.ins().imul_imm_s(e, es);
            let p = self.b.ins().iadd(c, e);
            for v in 0..vecs {
                let x = self.b.use_var(accs[r * vecs + v]);
                self.b
                    .ins()
                    .store(MemFlagsData::new().with_notrap(), x, p, (v * 16) as i32);
            }
        }
        Ok(())
    }

    /// One element `C[i, j]` (row `i` dynamic, column `j` constant) in the scalar order.
    fn dot_scalar(
        &mut self,
        a: clir::Value,
        b: clir::Value,
        c: clir::Value,
        s: DotShape,
        i: clir::Value,
        j: usize,
    ) -> Result<()> {
        let es = s.es();
        let ty = cl_type(s.dt);
        let acc = self.b.declare_var(ty);
        let z = self.dot_zero(s.dt)?;
        self.b.def_var(acc, z);
        let e = self.b.ins().imul_imm_s(i, s.k as i64 * es);
        let arow = self.b.ins().iadd(a, e);
        let bcol = self.b.ins().iadd_imm_s(b, j as i64 * es);
        self.counted_loop(s.k as u64, &mut |l, kk| {
            let ka = l.b.ins().imul_imm_s(kk, es);
            let pa = l.b.ins().iadd(arow, ka);
            let x = l.b.ins().load(ty, MemFlagsData::trusted(), pa, 0);
            let kb = l.b.ins().imul_imm_s(kk, s.n as i64 * es);
            let pb = l.b.ins().iadd(bcol, kb);
            let y = l.b.ins().load(ty, MemFlagsData::trusted(), pb, 0);
            let cur = l.b.use_var(acc);
            let next = l.mul_add(s.dt, cur, x, y)?;
            l.b.def_var(acc, next);
            Ok(())
        })?;
        let e = self.b.ins().imul_imm_s(i, s.n as i64 * es);
        let p = self.b.ins().iadd(c, e);
        let v = self.b.use_var(acc);
        self.b
            .ins()
            .store(MemFlagsData::trusted(), v, p, (j as i64 * es) as i32);
        Ok(())
    }
}
