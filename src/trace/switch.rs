//! `switch`, StableHLO's `case`, for the dynamic APIs: `Tensor::switch` runs the selected branch
//! at once; `Traced::switch` traces every branch into a region of one `case` op (so the compiled
//! function branches at run time on the index it is given), and the call's own values come from
//! the branch the index selects. Both pick the branch by [`case_branch`].

use std::panic::Location;
use std::rc::Rc;

use super::{GraphBreak, Loc, Traced};
use crate::error::Result;
use crate::graph::promote::op_error;
use crate::ir::Value;
use crate::ops::Op;
use crate::tensor::Tensor;
use crate::types::{DType, TensorType};

/// The branch `case` runs for `index` among `n`: the index itself when in range, else the last
/// branch (StableHLO's rule, which the interpreter and compiled code follow).
pub fn case_branch(index: i32, n: usize) -> usize {
    usize::try_from(index)
        .ok()
        .filter(|&k| k < n)
        .unwrap_or(n - 1)
}

impl Tensor {
    /// `lax.switch` on eager tensors with StableHLO's `case` rule: runs `branches[index]` on
    /// `operands` (an index out of range runs the last branch). `index` is a scalar `i32`.
    #[track_caller]
    pub fn switch<F>(index: &Tensor, operands: &[Tensor], branches: &[F]) -> Result<Vec<Tensor>>
    where
        F: Fn(&[Tensor]) -> Result<Vec<Tensor>>,
    {
        let loc: Loc = Location::caller();
        if index.ty() != TensorType::scalar(DType::I32) {
            let m = format!("the index must be a scalar i32, got {}", index.ty());
            return Err(op_error("eager", "case", loc, m));
        }
        if branches.is_empty() {
            return Err(op_error(
                "eager",
                "case",
                loc,
                "needs at least one branch".into(),
            ));
        }
        branches[case_branch(index.item::<i32>()?, branches.len())](operands)
    }
}

impl Traced {
    /// `lax.switch` with StableHLO's `case` rule: runs `branches[index]` on `operands` and
    /// gives its values; an index out of range runs the last branch. `index` is a scalar `i32`.
    /// Every branch must give as many values, of the same types.
    ///
    /// The trace stays static: each branch is traced once into its own region of a `case` op,
    /// and the compiled function picks the branch from the index of each call. (Reading the
    /// index with `to_scalar` and choosing in Rust would make the trace dynamic instead.)
    /// Values made inside a branch belong to it: use them only through its results.
    #[track_caller]
    pub fn switch<F>(index: &Traced, operands: &[Traced], branches: &[F]) -> Result<Vec<Traced>>
    where
        F: Fn(&[Traced]) -> Result<Vec<Traced>>,
    {
        let loc: Loc = Location::caller();
        let tape = Rc::clone(&index.tape);
        let fail = |m: String| Err(op_error(&tape.name, "case", loc, m));
        if index.value.ty() != TensorType::scalar(DType::I32) {
            return fail(format!(
                "the index must be a scalar i32, got {}",
                index.value.ty()
            ));
        }
        if branches.is_empty() {
            return fail("needs at least one branch".into());
        }
        for x in operands {
            if !Rc::ptr_eq(&x.tape, &tape) {
                return fail("an operand is a traced value of another call".into());
            }
        }
        let k = index.value.item::<i32>()?;
        let chosen = case_branch(k, branches.len());
        let (recording, outer) = {
            let st = tape.state.borrow();
            (st.recording && index.node.is_some(), st.current)
        };
        if !recording {
            return branches[chosen](operands);
        }
        let mut regions = Vec::with_capacity(branches.len());
        let mut chosen_values = Vec::new();
        let mut types: Option<Vec<TensorType>> = None;
        let mut complete = true;
        for (b, branch) in branches.iter().enumerate() {
            let r = {
                let mut st = tape.state.borrow_mut();
                let r = st.func.add_region();
                st.current = r;
                r
            };
            let out = branch(operands);
            tape.state.borrow_mut().current = outer;
            let out = out?;
            let tys: Vec<TensorType> = out.iter().map(|v| v.value.ty()).collect();
            match &types {
                Some(t) if *t != tys => {
                    return fail(format!(
                        "the branches give different types: {t:?} and {tys:?}"
                    ))
                }
                _ => types = Some(tys),
            }
            let nodes: Option<Vec<Value>> = out.iter().map(|v| v.node).collect();
            let mut st = tape.state.borrow_mut();
            match nodes {
                Some(nodes) if st.recording => {
                    st.func
                        .push_inst(r, Op::Yield, nodes, Vec::new(), Vec::new());
                }
                _ => {
                    // Only a stopped recording leaves values without nodes; make sure of it,
                    // so that a trace missing a branch's values is never compiled.
                    if st.recording {
                        st.recording = false;
                        st.graph_break.get_or_insert(GraphBreak {
                            what: "switch (a branch's values were not recorded)".into(),
                            location: loc,
                        });
                    }
                    complete = false;
                }
            }
            regions.push(r);
            if b == chosen {
                chosen_values = out;
            }
        }
        let types = types.unwrap_or_default();
        let mut st = tape.state.borrow_mut();
        // A branch that read a value into Rust stopped the recording: the trace is dynamic,
        // and the call's values are all that matter.
        let nodes: Vec<Option<Value>> = match (complete && st.recording, index.node) {
            (true, Some(i)) => {
                let n = types.len();
                let inst = st
                    .func
                    .push_inst(outer, Op::Case, vec![i], types, vec![None; n]);
                st.func.set_regions(inst, regions);
                st.func.results(inst).iter().map(|&v| Some(v)).collect()
            }
            _ => vec![None; chosen_values.len()],
        };
        Ok(chosen_values
            .into_iter()
            .zip(nodes)
            .map(|(v, node)| Traced {
                value: v.value,
                node,
                tape: Rc::clone(&tape),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::case_branch;
    use crate::trace::{self, Traced};
    use crate::Tensor;

    /// A branch as the tests write them: a closure over the operands.
    type Branch<V> = dyn Fn(&[V]) -> crate::Result<Vec<V>>;

    #[test]
    fn out_of_range_indices_run_the_last_branch() {
        assert_eq!(case_branch(0, 3), 0);
        assert_eq!(case_branch(2, 3), 2);
        assert_eq!(case_branch(3, 3), 2);
        assert_eq!(case_branch(-1, 3), 2);
        assert_eq!(case_branch(i32::MIN, 1), 0);
    }

    /// One trace serves every index: the compiled `case` picks the branch per call, and each
    /// call's values are those of the selected branch (negation, doubling, or the last branch,
    /// plus one, for an index out of range).
    #[test]
    fn a_switch_on_a_traced_index_compiles_once_and_picks_per_call() {
        let f = trace::function(|xs: &[Traced]| {
            let branches: [&Branch<Traced>; 3] = [
                &|v| Ok(vec![v[0].unary(crate::ops::UnaryOp::Neg)?]),
                &|v| Ok(vec![(&v[0] * 2.0)?]),
                &|v| Ok(vec![(&v[0] + 1.0)?]),
            ];
            Traced::switch(&xs[0], &xs[1..], &branches)
        });
        let x = Tensor::from(vec![1.5f32, -2.0]);
        for (k, want) in [
            (0, vec![-1.5f32, 2.0]),
            (1, vec![3.0, -4.0]),
            (2, vec![2.5, -1.0]),
            (7, vec![2.5, -1.0]),
            (-1, vec![2.5, -1.0]),
        ] {
            let out = f.call(&[Tensor::scalar(k), x.clone()]).unwrap();
            assert_eq!(out, vec![Tensor::from(want)], "index {k}");
        }
        let s = f.stats();
        assert_eq!(
            (s.traces, s.compilations, s.cache_hits, s.fallbacks),
            (1, 1, 4, 0)
        );
    }

    #[test]
    fn eager_switch_runs_the_selected_branch() {
        let branches: [&Branch<Tensor>; 2] = [&|v| Ok(vec![(&v[0] + 1i32)?]), &|v| {
            Ok(vec![(&v[0] * 3i32)?])
        }];
        let x = [Tensor::from(vec![2i32, 5])];
        let run = |k: i32| Tensor::switch(&Tensor::scalar(k), &x, &branches).unwrap();
        assert_eq!(run(0), vec![Tensor::from(vec![3i32, 6])]);
        assert_eq!(run(1), vec![Tensor::from(vec![6i32, 15])]);
        assert_eq!(run(-4), vec![Tensor::from(vec![6i32, 15])]);
        let e = Tensor::switch(&Tensor::scalar(0i64), &x, &branches).unwrap_err();
        assert!(e.to_string().contains("scalar i32"), "{e}");
    }

    #[test]
    fn branches_of_different_types_are_an_error() {
        let f = trace::function(|xs: &[Traced]| {
            let branches: [&Branch<Traced>; 2] = [&|v| Ok(vec![v[0].clone()]), &|v| {
                Ok(vec![v[0].reduce(crate::ops::ReduceOp::Sum, &[0])?])
            }];
            Traced::switch(&xs[0], &xs[1..], &branches)
        });
        let err = f
            .call(&[Tensor::scalar(0i32), Tensor::from(vec![1.0f32, 2.0])])
            .unwrap_err()
            .to_string();
        assert!(err.contains("different types"), "{err}");
    }
}
