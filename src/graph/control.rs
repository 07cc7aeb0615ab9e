//! Structured control flow in the builder: `while_loop` and `cond`, whose closures build the
//! nested regions of an IR `while` or `if`.

use std::panic::Location;

use super::promote::types_list;
use super::{Graph, State, Var};
use crate::ir::{Inst, Region, Value};
use crate::ops::Op;
use crate::types::{DType, TensorType};

impl Graph {
    /// A loop, as TensorFlow's `tf.while_loop(cond, body, loop_vars)`: while `cond(vars)`
    /// holds, `vars = body(vars)`. Returns the final values of the loop variables.
    ///
    /// `cond` must give a scalar `bool`; `body` must give one value per loop variable, of
    /// the same type. Both closures may use values from enclosing scopes and may nest
    /// further loops and conds. Values built inside a closure are not visible after it.
    #[track_caller]
    pub fn while_loop<'g, C, B, R>(
        &'g self,
        cond: C,
        body: B,
        loop_vars: &[Var<'g>],
    ) -> Vec<Var<'g>>
    where
        C: FnOnce(&[Var<'g>]) -> Var<'g>,
        B: FnOnce(&[Var<'g>]) -> R,
        R: Into<Vec<Var<'g>>>,
    {
        let loc = Location::caller();
        let poisoned = vec![
            Var {
                graph: self,
                value: None
            };
            loop_vars.len()
        ];
        // Open the `while` and its two regions; the closures run with no borrow held, so they
        // may build freely.
        let (inst, args, regions) = {
            let mut s = self.state.borrow_mut();
            let Some(init) = s.operands(self, "while", loop_vars, loc) else {
                return poisoned;
            };
            let types: Vec<TensorType> = init.iter().map(|&v| s.func.ty(v).clone()).collect();
            let region = s.current();
            let names = (0..init.len()).map(|_| Some(s.auto_name())).collect();
            let inst = s
                .func
                .push_inst(region, Op::While, init, types.clone(), names);
            for _ in 0..types.len() {
                s.scope.push([region, region]);
            }
            let names = (0..types.len()).map(|_| Some(s.auto_name())).collect();
            let args = s.func.add_region_args(inst, types, names);
            let cond_r = s.open_region(region);
            let body_r = s.open_region(region);
            for _ in &args {
                s.scope.push([cond_r, body_r]);
            }
            s.func.set_regions(inst, vec![cond_r, body_r]);
            (inst, args, [cond_r, body_r])
        };
        let vars: Vec<Var<'g>> = args
            .iter()
            .map(|&v| Var {
                graph: self,
                value: Some(v),
            })
            .collect();

        self.state.borrow_mut().stack.push(regions[0]);
        let c = cond(&vars);
        let cond_ok = self.close_region(regions[0], &[c], "while", loc, |s, yielded| {
            let t = s.func.ty(yielded[0]);
            if *t != TensorType::scalar(DType::Bool) {
                return Err(format!("the condition must be a scalar bool, got {t}"));
            }
            Ok(())
        });

        self.state.borrow_mut().stack.push(regions[1]);
        let next: Vec<Var<'g>> = body(&vars).into();
        let body_ok = self.close_region(regions[1], &next, "while", loc, |s, yielded| {
            check_loop_types(s, inst, yielded)
        });

        if !(cond_ok && body_ok) {
            return poisoned;
        }
        let s = self.state.borrow();
        s.func
            .results(inst)
            .iter()
            .map(|&v| Var {
                graph: self,
                value: Some(v),
            })
            .collect()
    }

    /// A conditional, as TensorFlow's `tf.cond(pred, true_fn, false_fn)`: runs one branch
    /// and gives its values. `pred` must be a scalar `bool`; both branches must give the
    /// same number of values of the same types.
    #[track_caller]
    pub fn cond<'g, T, E, R1, R2>(
        &'g self,
        pred: Var<'g>,
        then_branch: T,
        else_branch: E,
    ) -> Vec<Var<'g>>
    where
        T: FnOnce() -> R1,
        E: FnOnce() -> R2,
        R1: Into<Vec<Var<'g>>>,
        R2: Into<Vec<Var<'g>>>,
    {
        let loc = Location::caller();
        let poison = Var {
            graph: self,
            value: None,
        };
        // A bad predicate is recorded, but the branches are still built so that the caller
        // gets as many (poisoned) results as it expects.
        let (region, then_r, else_r, p) = {
            let mut s = self.state.borrow_mut();
            let mut p = s.operands(self, "if", &[pred], loc).map(|p| p[0]);
            if let Some(v) = p {
                let t = s.func.ty(v).clone();
                if t != TensorType::scalar(DType::Bool) {
                    let m = format!("the predicate must be a scalar bool, got {t}");
                    s.fail(self, "if", loc, m);
                    p = None;
                }
            }
            let region = s.current();
            let then_r = s.open_region(region);
            let else_r = s.open_region(region);
            (region, then_r, else_r, p)
        };

        self.state.borrow_mut().stack.push(then_r);
        let then_vals: Vec<Var<'g>> = then_branch().into();
        let then_ok = self.close_region(then_r, &then_vals, "if", loc, |_, _| Ok(()));

        self.state.borrow_mut().stack.push(else_r);
        let else_vals: Vec<Var<'g>> = else_branch().into();
        let else_ok = self.close_region(else_r, &else_vals, "if", loc, |s, yielded| {
            let then_types: Vec<&TensorType> = then_vals
                .iter()
                .filter_map(|v| v.value)
                .map(|v| s.func.ty(v))
                .collect();
            let else_types: Vec<&TensorType> = yielded.iter().map(|&v| s.func.ty(v)).collect();
            if then_types != else_types {
                return Err(format!(
                    "the branches give different types: then gives {}, else gives {}",
                    types_list(&then_types),
                    types_list(&else_types)
                ));
            }
            Ok(())
        });
        let Some(p) = p.filter(|_| then_ok && else_ok) else {
            return vec![poison; then_vals.len()];
        };

        let mut s = self.state.borrow_mut();
        let types: Vec<TensorType> = then_vals
            .iter()
            .filter_map(|v| v.value)
            .map(|v| s.func.ty(v).clone())
            .collect();
        let names = (0..types.len()).map(|_| Some(s.auto_name())).collect();
        let inst = s.func.push_inst(region, Op::If, vec![p], types, names);
        s.func.set_regions(inst, vec![then_r, else_r]);
        let results = s.func.results(inst).to_vec();
        for _ in &results {
            s.scope.push([region, region]);
        }
        results
            .into_iter()
            .map(|v| Var {
                graph: self,
                value: Some(v),
            })
            .collect()
    }

    /// `lax.switch`: runs branch `index` (a scalar `i32`) and gives its values; an index out
    /// of range runs the last branch (StableHLO's `case`). Every branch must give the same
    /// number of values of the same types.
    #[track_caller]
    pub fn switch<'g, R>(
        &'g self,
        index: Var<'g>,
        branches: Vec<Box<dyn FnOnce() -> R + 'g>>,
    ) -> Vec<Var<'g>>
    where
        R: Into<Vec<Var<'g>>>,
    {
        let loc = Location::caller();
        let poison = Var {
            graph: self,
            value: None,
        };
        let (region, mut idx) = {
            let mut s = self.state.borrow_mut();
            let mut p = s.operands(self, "case", &[index], loc).map(|p| p[0]);
            if let Some(v) = p {
                let t = s.func.ty(v).clone();
                if t != TensorType::scalar(DType::I32) {
                    let m = format!("the index must be a scalar i32, got {t}");
                    s.fail(self, "case", loc, m);
                    p = None;
                }
            }
            if branches.is_empty() {
                s.fail(self, "case", loc, "needs at least one branch".into());
                p = None;
            }
            (s.current(), p)
        };
        let mut regions = Vec::with_capacity(branches.len());
        let mut first: Option<Vec<TensorType>> = None;
        let mut n_vals = 0;
        for branch in branches {
            let r = self.state.borrow_mut().open_region(region);
            self.state.borrow_mut().stack.push(r);
            let vals: Vec<Var<'g>> = branch().into();
            n_vals = vals.len();
            let ok = self.close_region(r, &vals, "case", loc, |s, yielded| {
                let tys: Vec<TensorType> = yielded.iter().map(|&v| s.func.ty(v).clone()).collect();
                match &first {
                    Some(f) if *f != tys => Err(format!(
                        "the branches give different types: {} and {}",
                        types_list(&f.iter().collect::<Vec<_>>()),
                        types_list(&tys.iter().collect::<Vec<_>>())
                    )),
                    _ => Ok(()),
                }
            });
            if !ok {
                idx = None;
            }
            if first.is_none() {
                let s = self.state.borrow();
                first = Some(
                    vals.iter()
                        .filter_map(|v| v.value)
                        .map(|v| s.func.ty(v).clone())
                        .collect(),
                );
            }
            regions.push(r);
        }
        let (Some(p), Some(types)) = (idx, first) else {
            return vec![poison; n_vals];
        };
        let mut s = self.state.borrow_mut();
        let names = (0..types.len()).map(|_| Some(s.auto_name())).collect();
        let inst = s.func.push_inst(region, Op::Case, vec![p], types, names);
        s.func.set_regions(inst, regions);
        let results = s.func.results(inst).to_vec();
        for _ in &results {
            s.scope.push([region, region]);
        }
        results
            .into_iter()
            .map(|v| Var {
                graph: self,
                value: Some(v),
            })
            .collect()
    }

    /// Ends the innermost region (`region`, which the closure just filled) with a `yield`
    /// of `vals`, after checking them with `check`. Returns whether all went well; on
    /// failure the error is recorded.
    fn close_region(
        &self,
        region: Region,
        vals: &[Var<'_>],
        op: &str,
        loc: &'static Location<'static>,
        check: impl FnOnce(&State, &[Value]) -> Result<(), String>,
    ) -> bool {
        let mut s = self.state.borrow_mut();
        // The closure opened and closed its own regions, so `region` is on top again.
        if s.stack.last() != Some(&region) {
            s.fail(
                self,
                op,
                loc,
                "regions were left open (a closure panicked?)".into(),
            );
            return false;
        }
        let yielded = s.operands(self, op, vals, loc);
        s.stack.pop();
        let Some(yielded) = yielded else {
            return false;
        };
        if let Err(m) = check(&s, &yielded) {
            s.fail(self, op, loc, m);
            return false;
        }
        s.func
            .push_inst(region, Op::Yield, yielded, Vec::new(), Vec::new());
        s.error.is_none()
    }
}

impl State {
    /// A new region nested in `parent`.
    fn open_region(&mut self, parent: Region) -> Region {
        let r = self.func.add_region();
        debug_assert_eq!(r.index(), self.parent.len());
        self.parent.push(Some(parent));
        r
    }
}

/// The body of a `while` must give back one value per loop variable, of the same type.
fn check_loop_types(s: &State, inst: Inst, yielded: &[Value]) -> Result<(), String> {
    let vars = &s.func.inst(inst).region_args;
    if yielded.len() != vars.len() {
        return Err(format!(
            "the body gives {} value(s) for {} loop variable(s)",
            yielded.len(),
            vars.len()
        ));
    }
    for (i, (&v, &y)) in vars.iter().zip(yielded).enumerate() {
        let (tv, ty) = (s.func.ty(v), s.func.ty(y));
        if tv != ty {
            return Err(format!(
                "the body changes the type of loop variable {i} from {tv} to {ty}"
            ));
        }
    }
    Ok(())
}
