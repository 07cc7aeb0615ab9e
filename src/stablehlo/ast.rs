//! The syntax tree of StableHLO text: what the parser reads, before any op is given meaning.
//!
//! The pretty and the generic forms of an op parse to the same [`OpAst`]: operands, named
//! attributes, bare enum words (`LT`, `SIGNED`), regions and declared types. The builders in
//! `super::ops` read attributes under either form's name (`dims` or `broadcast_dimensions`).

use crate::types::TensorType;

/// A whole module: its functions in text order.
#[derive(Clone, Debug)]
pub struct ModuleAst {
    pub funcs: Vec<FuncAst>,
}

#[derive(Clone, Debug)]
pub struct FuncAst {
    pub name: String,
    /// Byte offset of the function's name.
    pub pos: usize,
    /// `func.func private`: a helper, imported only where it is called.
    pub private: bool,
    pub params: Vec<(String, TensorType)>,
    pub results: Vec<TensorType>,
    pub body: BlockAst,
}

/// A region's single block: its arguments and ops.
#[derive(Clone, Debug, Default)]
pub struct BlockAst {
    pub pos: usize,
    pub args: Vec<(String, TensorType)>,
    pub ops: Vec<OpAst>,
}

/// A use of a value: `%x` (index 0) or `%x#2`.
#[derive(Clone, Debug)]
pub struct ValRef {
    pub name: String,
    pub index: Option<usize>,
    pub pos: usize,
}

/// Result names of an op: `%0` (count 1) or `%0:2`.
#[derive(Clone, Debug)]
pub struct ResultDef {
    pub name: String,
    pub count: usize,
}

#[derive(Clone, Debug)]
pub struct OpAst {
    /// Byte offset of the op's name.
    pub pos: usize,
    /// `stablehlo.add`, `func.return`, `call`.
    pub name: String,
    pub results: Vec<ResultDef>,
    pub operands: Vec<ValRef>,
    pub attrs: Vec<(String, Attr)>,
    /// Bare words in the pretty form: `LT` and `SIGNED` in `compare LT, %a, %b, SIGNED`.
    pub words: Vec<String>,
    pub regions: Vec<BlockAst>,
    /// The callee of `call @f(...)` or `custom_call @target(...)`.
    pub callee: Option<String>,
    /// The reducer of the pretty `reduce ... applies stablehlo.add`.
    pub applies: Option<String>,
    /// Operand types, when the text declares them (`(tensor<f32>) -> ...`).
    pub operand_types: Option<Vec<TensorType>>,
    /// The declared result types.
    pub result_types: Vec<TensorType>,
}

impl OpAst {
    /// The number of values the op defines.
    pub fn num_results(&self) -> usize {
        self.results.iter().map(|r| r.count).sum()
    }

    /// The first attribute found under any of `names` (pretty and generic spellings).
    pub fn attr(&self, names: &[&str]) -> Option<&Attr> {
        names
            .iter()
            .find_map(|n| self.attrs.iter().find(|(k, _)| k == n).map(|(_, a)| a))
    }
}

/// An attribute value.
#[derive(Clone, Debug, PartialEq)]
pub enum Attr {
    /// An integer, with its type if written (`0 : i64`).
    Int(i128),
    Float(f64),
    Bool(bool),
    Str(String),
    /// A bare word or the value of `#stablehlo<comparison_direction LT>`.
    Word(String),
    List(Vec<Attr>),
    /// `array<i64: 1, 2>`.
    Array(Vec<i64>),
    /// `[1] x [0]` (the pretty `dot_general` dimension pairs).
    Pair(Vec<i64>, Vec<i64>),
    /// `dense<...>` with its type when written after it.
    Dense(Dense, Option<TensorType>),
    /// `#stablehlo.gather<offset_dims = [1], ...>`: a named record of fields.
    Record(String, Vec<(String, Attr)>),
    Symbol(String),
    /// Anything graphjit has no use for (`loc(...)`, dictionaries, unknown dialect attributes).
    Other,
}

/// The contents of `dense<...>`: a nested list of atoms, or a hex string of raw bytes.
#[derive(Clone, Debug, PartialEq)]
pub enum Dense {
    /// `(offset, text)` atoms; `shape` is the nesting of the brackets (empty for a splat).
    Elems {
        atoms: Vec<(usize, String)>,
        shape: Vec<usize>,
    },
    /// `dense<"0x0000803F...">`: the elements' bytes, little-endian, back to back.
    Hex(usize, Vec<u8>),
}

impl Attr {
    /// The attribute as a list of integers: `[0, 1]`, `array<i64: 0, 1>`, `dense<[0, 1]>`.
    pub fn ints(&self) -> Option<Vec<i64>> {
        match self {
            Attr::Array(v) => Some(v.clone()),
            Attr::List(items) => items
                .iter()
                .map(|a| match a {
                    Attr::Int(i) => i64::try_from(*i).ok(),
                    _ => None,
                })
                .collect(),
            Attr::Dense(Dense::Elems { atoms, .. }, _) => {
                atoms.iter().map(|(_, s)| s.parse::<i64>().ok()).collect()
            }
            Attr::Int(i) => i64::try_from(*i).ok().map(|i| vec![i]),
            _ => None,
        }
    }

    /// The attribute as one integer.
    pub fn int(&self) -> Option<i64> {
        match self {
            Attr::Int(i) => i64::try_from(*i).ok(),
            _ => None,
        }
    }

    /// The attribute as a word: `LT`, or `#stablehlo<comparison_direction LT>`.
    pub fn word(&self) -> Option<&str> {
        match self {
            Attr::Word(w) => Some(w),
            _ => None,
        }
    }

    pub fn field(&self, name: &str) -> Option<&Attr> {
        match self {
            Attr::Record(_, fields) => fields.iter().find(|(k, _)| k == name).map(|(_, a)| a),
            _ => None,
        }
    }
}
