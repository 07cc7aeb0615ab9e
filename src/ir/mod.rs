//! The IR: structured SSA functions whose values are typed tensors.
//!
//! A [`Function`] owns three arenas (values, instructions, regions) addressed by typed `u32`
//! handles, so that passes can refer to things without borrowing and the interpreter can use a
//! value's index as its register. *What* an instruction is ([`InstData`]) is kept apart from
//! *where* it is: the order of instructions is the `insts` list of their [`RegionData`].
//!
//! Control flow is structured: `while` and `if` own nested regions (see [`Op::While`],
//! [`Op::If`]). A value defined in a region is visible in that region after its definition and
//! in the regions nested in it, never outside; region arguments of a `while` are visible in both
//! of its regions.

pub mod body;
mod lexer;
pub mod parse;
pub mod print;
pub mod verify;

use crate::ops::Op;
use crate::types::TensorType;

/// The deepest nesting of regions below a function body that the parser, the verifier and the
/// printer accept. Bounding it keeps their recursion (and that of every pass and executor
/// that walks a verified function) far from the end of the stack, whatever the input: even
/// unoptimized builds use a few kilobytes per level, and test threads have 2 MiB. Real
/// programs nest a handful of levels.
pub const MAX_REGION_DEPTH: usize = 64;

/// An SSA value: a function parameter, an instruction result or a region argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Value(pub u32);

/// An instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Inst(pub u32);

/// A region: an ordered list of instructions ending in a terminator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Region(pub u32);

impl Value {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl Inst {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl Region {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Where a value comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValueDef {
    /// The function's parameter number `n`.
    Param(usize),
    /// Result number `n` of an instruction.
    Result(Inst, usize),
    /// Region argument number `n` of a `while` or region op (`reduce`, `sort`, ...).
    RegionArg(Inst, usize),
}

#[derive(Clone, Debug, PartialEq)]
pub struct ValueData {
    pub ty: TensorType,
    /// The name in the text form, without `%`; unique within the function.
    pub name: String,
    pub def: ValueDef,
}

#[derive(Clone, Debug, PartialEq)]
pub struct InstData {
    pub op: Op,
    pub args: Vec<Value>,
    pub results: Vec<Value>,
    /// `while`: [cond, body]; `if`: [then, else]; a region op: its one region; empty for
    /// other ops.
    pub regions: Vec<Region>,
    /// `while`: the loop-carried values seen by both regions; a region op: its region's
    /// scalar arguments; empty for other ops.
    pub region_args: Vec<Value>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct RegionData {
    pub insts: Vec<Inst>,
}

/// One function: typed parameters, a body region ending in `return`, result types.
#[derive(Clone, Debug, PartialEq)]
pub struct Function {
    pub name: String,
    pub params: Vec<Value>,
    pub results: Vec<TensorType>,
    pub values: Vec<ValueData>,
    pub insts: Vec<InstData>,
    pub regions: Vec<RegionData>,
    pub body: Region,
}

/// The functions of one IR file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Module {
    pub funcs: Vec<Function>,
}

impl Module {
    pub fn func(&self, name: &str) -> Option<&Function> {
        self.funcs.iter().find(|f| f.name == name)
    }
}

impl Function {
    /// An empty function with the given name and result types; its body region exists and is
    /// empty.
    pub fn new(name: impl Into<String>, results: Vec<TensorType>) -> Function {
        Function {
            name: name.into(),
            params: Vec::new(),
            results,
            values: Vec::new(),
            insts: Vec::new(),
            regions: vec![RegionData::default()],
            body: Region(0),
        }
    }

    pub fn value(&self, v: Value) -> &ValueData {
        &self.values[v.index()]
    }

    pub fn ty(&self, v: Value) -> &TensorType {
        &self.values[v.index()].ty
    }

    pub fn inst(&self, i: Inst) -> &InstData {
        &self.insts[i.index()]
    }

    pub fn region(&self, r: Region) -> &RegionData {
        &self.regions[r.index()]
    }

    /// The types of the parameters, in order: the function's input signature.
    pub fn param_types(&self) -> Vec<TensorType> {
        self.params.iter().map(|&p| self.ty(p).clone()).collect()
    }

    /// Adds a value; its name is `name`, or `v<index>` when `None`.
    pub fn add_value(&mut self, ty: TensorType, name: Option<String>, def: ValueDef) -> Value {
        let v = Value(self.values.len() as u32);
        let name = name.unwrap_or_else(|| format!("v{}", v.0));
        self.values.push(ValueData { ty, name, def });
        v
    }

    /// Adds a parameter of type `ty`.
    pub fn add_param(&mut self, ty: TensorType, name: Option<String>) -> Value {
        let n = self.params.len();
        let v = self.add_value(ty, name, ValueDef::Param(n));
        self.params.push(v);
        v
    }

    /// Adds an empty region (to be filled and attached to a `while` or `if`).
    pub fn add_region(&mut self) -> Region {
        let r = Region(self.regions.len() as u32);
        self.regions.push(RegionData::default());
        r
    }

    /// Appends an instruction to `region`, creating its result values with the given types
    /// and names. Regions and region arguments are attached afterwards with
    /// [`Function::set_regions`].
    pub fn push_inst(
        &mut self,
        region: Region,
        op: Op,
        args: Vec<Value>,
        result_types: Vec<TensorType>,
        names: Vec<Option<String>>,
    ) -> Inst {
        let inst = Inst(self.insts.len() as u32);
        let mut names = names.into_iter();
        let results = result_types
            .into_iter()
            .enumerate()
            .map(|(i, ty)| self.add_value(ty, names.next().flatten(), ValueDef::Result(inst, i)))
            .collect();
        self.insts.push(InstData {
            op,
            args,
            results,
            regions: Vec::new(),
            region_args: Vec::new(),
        });
        self.regions[region.index()].insts.push(inst);
        inst
    }

    /// Creates the region arguments of a `while` instruction (one per type).
    pub fn add_region_args(
        &mut self,
        inst: Inst,
        types: Vec<TensorType>,
        names: Vec<Option<String>>,
    ) -> Vec<Value> {
        let mut names = names.into_iter();
        let args: Vec<Value> = types
            .into_iter()
            .enumerate()
            .map(|(i, ty)| self.add_value(ty, names.next().flatten(), ValueDef::RegionArg(inst, i)))
            .collect();
        self.insts[inst.index()].region_args = args.clone();
        args
    }

    /// Attaches regions to an instruction.
    pub fn set_regions(&mut self, inst: Inst, regions: Vec<Region>) {
        self.insts[inst.index()].regions = regions;
    }

    /// The results of an instruction.
    pub fn results(&self, i: Inst) -> &[Value] {
        &self.insts[i.index()].results
    }
}
