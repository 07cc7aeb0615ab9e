//! The text form of the IR: `Display` for [`Function`] and [`Module`], which
//! [`super::parse`] reads back, and [`canonicalize`], which renumbers a function into the
//! order the parser would create it in.
//!
//! The printed form is canonical: two-space indentation per region level, `%name` values,
//! result types after `:`, attributes as `key=INT` or `key=[INT,INT]`, a function's result
//! types always in parentheses (`-> (f32)`), one blank line between the functions of a module.
//! A constant prints as one atom when it is a splat of more than one element, otherwise as
//! nested lists; floats print in the shortest form that reads back to the same bits.
//!
//! Printing never fails and never panics, even for a function the verifier rejects (dangling
//! handles print as `%<invalid vN>`, shared regions and regions nested deeper than
//! [`MAX_REGION_DEPTH`] print as a comment), so that broken IR can be looked at.

use std::fmt::{self, Write};

use crate::ir::{Function, Inst, Module, Region, Value, MAX_REGION_DEPTH};
use crate::ops::region::RegionOp;
use crate::ops::Op;
use crate::tensor::Tensor;
use crate::types::TensorType;

impl fmt::Display for Module {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, func) in self.funcs.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{func}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut p = Printer {
            func: self,
            out: f,
            printed: vec![false; self.regions.len()],
        };
        p.function()
    }
}

/// The text of a constant: one atom for a splat of more than one element, else nested lists.
pub fn const_text(t: &Tensor) -> String {
    match t.get(0) {
        Some(first) if t.len() > 1 && t.is_splat() => first.to_string(),
        _ => t.to_string(),
    }
}

struct Printer<'a, 'b, 'c> {
    func: &'a Function,
    out: &'b mut fmt::Formatter<'c>,
    /// Regions already printed, so that a region shared by two instructions (invalid IR)
    /// cannot make the printer loop.
    printed: Vec<bool>,
}

fn join<T>(items: &[T], mut each: impl FnMut(&T) -> String) -> String {
    items.iter().map(&mut each).collect::<Vec<_>>().join(", ")
}

fn list(items: &[usize]) -> String {
    let inner = items
        .iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(",");
    format!("[{inner}]")
}

impl Printer<'_, '_, '_> {
    fn name(&self, v: Value) -> String {
        match self.func.values.get(v.index()) {
            Some(d) => format!("%{}", d.name),
            None => format!("%<invalid v{}>", v.0),
        }
    }

    fn names(&self, vs: &[Value]) -> String {
        join(vs, |&v| self.name(v))
    }

    fn ty_of(&self, v: Value) -> String {
        match self.func.values.get(v.index()) {
            Some(d) => d.ty.to_string(),
            None => "<invalid>".to_string(),
        }
    }

    fn types(&self, vs: &[Value]) -> String {
        join(vs, |&v| self.ty_of(v))
    }

    fn indent(&mut self, depth: usize) -> fmt::Result {
        for _ in 0..depth {
            self.out.write_str("  ")?;
        }
        Ok(())
    }

    fn function(&mut self) -> fmt::Result {
        let f = self.func;
        let params = join(&f.params, |&p| {
            format!("{}: {}", self.name(p), self.ty_of(p))
        });
        let results = join(&f.results, TensorType::to_string);
        writeln!(self.out, "func @{}({params}) -> ({results}) {{", f.name)?;
        self.region(f.body, 1)?;
        self.out.write_str("}\n")
    }

    /// Prints the instructions of a region at `depth` levels of indentation.
    fn region(&mut self, r: Region, depth: usize) -> fmt::Result {
        let Some(data) = self.func.regions.get(r.index()) else {
            self.indent(depth)?;
            return writeln!(self.out, "; <invalid region r{}>", r.0);
        };
        if depth > MAX_REGION_DEPTH + 1 {
            self.indent(depth)?;
            return writeln!(
                self.out,
                "; <region r{} is nested too deeply to print>",
                r.0
            );
        }
        if std::mem::replace(&mut self.printed[r.index()], true) {
            self.indent(depth)?;
            return writeln!(self.out, "; <region r{} is printed elsewhere>", r.0);
        }
        for &i in &data.insts {
            self.inst(i, depth)?;
        }
        Ok(())
    }

    fn inst(&mut self, i: Inst, depth: usize) -> fmt::Result {
        self.indent(depth)?;
        let Some(d) = self.func.insts.get(i.index()) else {
            return writeln!(self.out, "; <invalid inst i{}>", i.0);
        };
        if !d.results.is_empty() {
            write!(self.out, "{} = ", self.names(&d.results))?;
        }
        let types = if d.results.is_empty() {
            String::new()
        } else {
            format!(" : {}", self.types(&d.results))
        };
        let mut line = d.op.name();
        match &d.op {
            Op::While => {
                let n = d.args.len().max(d.region_args.len());
                let pairs = (0..n)
                    .map(|k| {
                        let side = |vs: &[Value]| {
                            vs.get(k)
                                .map_or("%<missing>".to_string(), |&v| self.name(v))
                        };
                        format!("{} = {}", side(&d.region_args), side(&d.args))
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                write!(line, " ({pairs})")?;
            }
            Op::Const(t) => write!(line, " {}", const_text(t))?,
            _ => {
                if !d.args.is_empty() {
                    write!(line, " {}", self.names(&d.args))?;
                }
                match &d.op {
                    Op::Broadcast { dims } | Op::Reverse { dims } => {
                        write!(line, " dims={}", list(dims))?
                    }
                    Op::Transpose { perm } => write!(line, " perm={}", list(perm))?,
                    Op::Slice {
                        start,
                        limit,
                        stride,
                    } => write!(
                        line,
                        " start={} limit={} stride={}",
                        list(start),
                        list(limit),
                        list(stride)
                    )?,
                    Op::Concat { axis } | Op::Iota { axis } => write!(line, " axis={axis}")?,
                    Op::Reduce { axes, .. } => write!(line, " axes={}", list(axes))?,
                    Op::DynamicSlice { sizes } => write!(line, " sizes={}", list(sizes))?,
                    Op::Region(r) => region_attrs(&mut line, r)?,
                    Op::Pad {
                        low,
                        high,
                        interior,
                    } => write!(
                        line,
                        " low={} high={} interior={}",
                        list(low),
                        list(high),
                        list(interior)
                    )?,
                    Op::Gather { dims: g } => write!(
                        line,
                        " offset_dims={} collapsed_slice_dims={} operand_batching_dims={} start_indices_batching_dims={} start_index_map={} index_vector_dim={} slice_sizes={}",
                        list(&g.offset_dims),
                        list(&g.collapsed_slice_dims),
                        list(&g.operand_batching_dims),
                        list(&g.start_indices_batching_dims),
                        list(&g.start_index_map),
                        g.index_vector_dim,
                        list(&g.slice_sizes)
                    )?,
                    Op::DotGeneral { dims: d } => write!(
                        line,
                        " lhs_batch={} rhs_batch={} lhs_contract={} rhs_contract={}",
                        list(&d.lhs_batch),
                        list(&d.rhs_batch),
                        list(&d.lhs_contract),
                        list(&d.rhs_contract)
                    )?,
                    _ => {}
                }
            }
        }
        write!(self.out, "{line}{types}")?;
        if matches!(d.op, Op::Region(_)) {
            let args = join(&d.region_args, |&a| {
                format!("{}: {}", self.name(a), self.ty_of(a))
            });
            write!(self.out, " ({args})")?;
        }
        if d.regions.is_empty() {
            return self.out.write_str("\n");
        }
        let keyword = match d.op {
            Op::While => "do",
            Op::Case => "or",
            _ => "else",
        };
        for (k, &r) in d.regions.iter().enumerate() {
            if k == 0 {
                self.out.write_str(" {\n")?;
            } else {
                self.indent(depth)?;
                writeln!(self.out, "}} {keyword} {{")?;
            }
            self.region(r, depth + 1)?;
        }
        self.indent(depth)?;
        self.out.write_str("}\n")
    }
}

/// Re-creates `f` in canonical order (see [`super::parse`]): values, instructions and regions
/// are renumbered in the order of the text form, and arena entries that no region reaches are
/// dropped, so `parse(print(canonicalize(f))) == canonicalize(f)`. Names, types and ops are
/// kept. For a verified function the result verifies and prints the same text as `f`; for
/// any other function it is unspecified (dangling operands become `Value(u32::MAX)`) but this
/// does not panic.
pub fn canonicalize(f: &Function) -> Function {
    let mut c = Canon {
        src: f,
        out: Function::new(f.name.clone(), f.results.clone()),
        map: vec![None; f.values.len()],
        copied: vec![false; f.regions.len()],
    };
    for &p in &f.params {
        if let Some(d) = f.values.get(p.index()) {
            let v = c.out.add_param(d.ty.clone(), Some(d.name.clone()));
            c.map[p.index()] = Some(v);
        }
    }
    let body = c.out.body;
    c.region(f.body, body, 0);
    c.out
}

struct Canon<'a> {
    src: &'a Function,
    out: Function,
    map: Vec<Option<Value>>,
    copied: Vec<bool>,
}

impl Canon<'_> {
    fn new_values(&mut self, old: &[Value]) -> (Vec<TensorType>, Vec<Option<String>>) {
        old.iter()
            .filter_map(|v| self.src.values.get(v.index()))
            .map(|d| (d.ty.clone(), Some(d.name.clone())))
            .unzip()
    }

    fn record(&mut self, old: &[Value], new: &[Value]) {
        let len = self.map.len();
        let valid = old.iter().filter(|v| v.index() < len);
        for (o, &n) in valid.zip(new) {
            self.map[o.index()] = Some(n);
        }
    }

    fn region(&mut self, from: Region, to: Region, depth: usize) {
        if depth > MAX_REGION_DEPTH || from.index() >= self.copied.len() {
            return;
        }
        if std::mem::replace(&mut self.copied[from.index()], true) {
            return;
        }
        let src = self.src;
        for &i in &src.regions[from.index()].insts {
            let Some(d) = src.insts.get(i.index()) else {
                continue;
            };
            let args = d
                .args
                .iter()
                .map(|a| {
                    self.map
                        .get(a.index())
                        .copied()
                        .flatten()
                        .unwrap_or(Value(u32::MAX))
                })
                .collect();
            let (types, names) = self.new_values(&d.results);
            let inst = self.out.push_inst(to, d.op.clone(), args, types, names);
            let new_results = self.out.results(inst).to_vec();
            self.record(&d.results, &new_results);
            if matches!(d.op, Op::While) || !d.region_args.is_empty() {
                let (types, names) = self.new_values(&d.region_args);
                let new_args = self.out.add_region_args(inst, types, names);
                self.record(&d.region_args, &new_args);
            }
            let mut regions = Vec::with_capacity(d.regions.len());
            for &r in &d.regions {
                let nr = self.out.add_region();
                regions.push(nr);
                self.region(r, nr, depth + 1);
            }
            self.out.set_regions(inst, regions);
        }
    }
}

/// The attributes of a region op, in the order the parser documents.
fn region_attrs(line: &mut String, r: &RegionOp) -> fmt::Result {
    match r {
        RegionOp::Reduce { dims } => write!(line, " dims={}", list(dims)),
        RegionOp::ReduceWindow(w) => write!(
            line,
            " window={} strides={} base_dilations={} window_dilations={} pad_low={} pad_high={}",
            list(&w.dims),
            list(&w.strides),
            list(&w.base_dilations),
            list(&w.window_dilations),
            list(&w.pad_low),
            list(&w.pad_high)
        ),
        RegionOp::Sort { dim, stable } => write!(line, " dim={dim} stable={}", u8::from(*stable)),
        RegionOp::Scatter(d) => write!(
            line,
            " update_window_dims={} inserted_window_dims={} input_batching_dims={} scatter_indices_batching_dims={} scatter_dims_to_operand_dims={} index_vector_dim={}",
            list(&d.update_window_dims),
            list(&d.inserted_window_dims),
            list(&d.input_batching_dims),
            list(&d.scatter_indices_batching_dims),
            list(&d.scatter_dims_to_operand_dims),
            d.index_vector_dim
        ),
    }
}
