//! Op names and attributes: what an op name denotes (`OpKind`), the `key = value` attributes
//! written after its operands, and the [`Op`] built from the two.

use super::Parser;
use crate::error::ParseError;
use crate::ir::lexer::{Tok, Token};
use crate::ops::{BinaryOp, CmpOp, Op, ReduceOp, UnaryOp};

/// What an op name denotes, before its operands and attributes are read.
#[derive(Clone, Copy)]
pub(super) enum OpKind {
    /// An op without attributes.
    Plain(fn() -> Op),
    Unary(UnaryOp),
    Binary(BinaryOp),
    Compare(CmpOp),
    Broadcast,
    Transpose,
    Slice,
    Concat,
    Iota,
    Reduce(ReduceOp),
    DynamicSlice,
    Reverse,
    Pad,
    Gather,
    DotGeneral,
}

impl OpKind {
    pub(super) fn from_name(name: &str) -> Option<OpKind> {
        if let Some(r) = name.strip_prefix("reduce.") {
            return ReduceOp::ALL
                .into_iter()
                .find(|o| o.name() == r)
                .map(OpKind::Reduce);
        }
        if let Some(u) = UnaryOp::ALL.into_iter().find(|o| o.name() == name) {
            return Some(OpKind::Unary(u));
        }
        if let Some(b) = BinaryOp::ALL.into_iter().find(|o| o.name() == name) {
            return Some(OpKind::Binary(b));
        }
        if let Some(c) = CmpOp::ALL.into_iter().find(|o| o.name() == name) {
            return Some(OpKind::Compare(c));
        }
        Some(match name {
            "select" => OpKind::Plain(|| Op::Select),
            "clamp" => OpKind::Plain(|| Op::Clamp),
            "convert" => OpKind::Plain(|| Op::Convert),
            "bitcast_convert" => OpKind::Plain(|| Op::BitcastConvert),
            "reshape" => OpKind::Plain(|| Op::Reshape),
            "dot" => OpKind::Plain(|| Op::Dot),
            "yield" => OpKind::Plain(|| Op::Yield),
            "return" => OpKind::Plain(|| Op::Return),
            "broadcast" => OpKind::Broadcast,
            "transpose" => OpKind::Transpose,
            "slice" => OpKind::Slice,
            "concat" => OpKind::Concat,
            "iota" => OpKind::Iota,
            "dynamic_slice" => OpKind::DynamicSlice,
            "reverse" => OpKind::Reverse,
            "dynamic_update_slice" => OpKind::Plain(|| Op::DynamicUpdateSlice),
            "pad" => OpKind::Pad,
            "gather" => OpKind::Gather,
            "dot_general" => OpKind::DotGeneral,
            _ => return None,
        })
    }

    /// The attribute names the op takes, in printing order.
    pub(super) fn attr_names(self) -> &'static [&'static str] {
        match self {
            OpKind::Broadcast | OpKind::Reverse => &["dims"],
            OpKind::Transpose => &["perm"],
            OpKind::Slice => &["start", "limit", "stride"],
            OpKind::Concat | OpKind::Iota => &["axis"],
            OpKind::Reduce(_) => &["axes"],
            OpKind::DynamicSlice => &["sizes"],
            OpKind::Pad => &["low", "high", "interior"],
            OpKind::Gather => &[
                "offset_dims",
                "collapsed_slice_dims",
                "operand_batching_dims",
                "start_indices_batching_dims",
                "start_index_map",
                "index_vector_dim",
                "slice_sizes",
            ],
            OpKind::DotGeneral => &["lhs_batch", "rhs_batch", "lhs_contract", "rhs_contract"],
            _ => &[],
        }
    }
}

/// An attribute value as written.
pub(super) enum AttrValue {
    Int(usize),
    List(Vec<usize>),
}

/// An attribute `key = value` as written, with where its key was.
pub(super) struct Attr {
    pub(super) key: &'static str,
    pub(super) value: AttrValue,
    pub(super) at: Token,
}

impl Parser<'_> {
    /// Parses the attributes `key = value` of an op that takes those in `allowed`.
    pub(super) fn attributes(
        &mut self,
        op_name: &str,
        allowed: &[&'static str],
    ) -> Result<Vec<Attr>, ParseError> {
        let mut attrs: Vec<Attr> = Vec::new();
        while !allowed.is_empty() && self.lex.peek()?.kind == Tok::Ident {
            let t = self.lex.next()?;
            let text = self.lex.text(t);
            let Some(&key) = allowed.iter().find(|&&k| k == text) else {
                return Err(self.err(
                    t,
                    format!(
                        "unknown attribute '{text}' for '{op_name}' (it takes {})",
                        allowed.join(", ")
                    ),
                ));
            };
            if attrs.iter().any(|a| a.key == key) {
                return Err(self.err(t, format!("attribute '{key}' is given twice")));
            }
            self.expect(Tok::Equals, &format!("'=' after attribute '{key}'"))?;
            let value = if self.eat(Tok::LBracket)? {
                let mut items = Vec::new();
                if !self.eat(Tok::RBracket)? {
                    loop {
                        items.push(self.int(&format!("an entry of attribute '{key}'"))?);
                        if self.eat(Tok::RBracket)? {
                            break;
                        }
                        self.expect(Tok::Comma, &format!("',' or ']' in attribute '{key}'"))?;
                    }
                }
                AttrValue::List(items)
            } else {
                AttrValue::Int(self.int(&format!(
                    "an integer or a list like [0, 1] for attribute '{key}'"
                ))?)
            };
            attrs.push(Attr { key, value, at: t });
        }
        Ok(attrs)
    }

    /// Builds an op from its kind and attributes, checking that each required attribute is
    /// present and has the right form.
    pub(super) fn build_op(
        &self,
        kind: OpKind,
        mut attrs: Vec<Attr>,
        op_tok: Token,
        op_name: &str,
    ) -> Result<Op, ParseError> {
        let mut take = |key: &str, list: bool| -> Result<AttrValue, ParseError> {
            let Some(i) = attrs.iter().position(|a| a.key == key) else {
                return Err(self.err(op_tok, format!("'{op_name}' needs the attribute '{key}'")));
            };
            let a = attrs.swap_remove(i);
            match (&a.value, list) {
                (AttrValue::List(_), true) | (AttrValue::Int(_), false) => Ok(a.value),
                (_, true) => Err(self.err(
                    a.at,
                    format!("attribute '{key}' of '{op_name}' must be a list like [0, 1]"),
                )),
                (_, false) => Err(self.err(
                    a.at,
                    format!("attribute '{key}' of '{op_name}' must be one integer"),
                )),
            }
        };
        let list = |v: AttrValue| match v {
            AttrValue::List(l) => l,
            AttrValue::Int(i) => vec![i],
        };
        let int = |v: AttrValue| match v {
            AttrValue::Int(i) => i,
            AttrValue::List(l) => l.first().copied().unwrap_or(0),
        };
        Ok(match kind {
            OpKind::Plain(make) => make(),
            OpKind::Unary(u) => Op::Unary(u),
            OpKind::Binary(b) => Op::Binary(b),
            OpKind::Compare(c) => Op::Compare(c),
            OpKind::Broadcast => Op::Broadcast {
                dims: list(take("dims", true)?),
            },
            OpKind::Transpose => Op::Transpose {
                perm: list(take("perm", true)?),
            },
            OpKind::Slice => Op::Slice {
                start: list(take("start", true)?),
                limit: list(take("limit", true)?),
                stride: list(take("stride", true)?),
            },
            OpKind::Concat => Op::Concat {
                axis: int(take("axis", false)?),
            },
            OpKind::Iota => Op::Iota {
                axis: int(take("axis", false)?),
            },
            OpKind::Reduce(op) => Op::Reduce {
                op,
                axes: list(take("axes", true)?),
            },
            OpKind::DynamicSlice => Op::DynamicSlice {
                sizes: list(take("sizes", true)?),
            },
            OpKind::Reverse => Op::Reverse {
                dims: list(take("dims", true)?),
            },
            OpKind::Pad => Op::Pad {
                low: list(take("low", true)?),
                high: list(take("high", true)?),
                interior: list(take("interior", true)?),
            },
            OpKind::Gather => Op::Gather {
                dims: crate::ops::gather::GatherDims {
                    offset_dims: list(take("offset_dims", true)?),
                    collapsed_slice_dims: list(take("collapsed_slice_dims", true)?),
                    operand_batching_dims: list(take("operand_batching_dims", true)?),
                    start_indices_batching_dims: list(take("start_indices_batching_dims", true)?),
                    start_index_map: list(take("start_index_map", true)?),
                    index_vector_dim: int(take("index_vector_dim", false)?),
                    slice_sizes: list(take("slice_sizes", true)?),
                },
            },
            OpKind::DotGeneral => Op::DotGeneral {
                dims: crate::ops::dot_general::DotDims {
                    lhs_batch: list(take("lhs_batch", true)?),
                    rhs_batch: list(take("rhs_batch", true)?),
                    lhs_contract: list(take("lhs_contract", true)?),
                    rhs_contract: list(take("rhs_contract", true)?),
                },
            },
        })
    }
}
