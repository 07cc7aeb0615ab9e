//! The parser of region ops (`reduce`, `reduce_window`, `sort`, `scatter`): the op's
//! operands, attributes and result types as for any op, then its region arguments
//! `(%a: f32, ...)`; the region itself is parsed by the caller like any other.

use super::attrs::{Attr, AttrValue};
use super::{Name, Parser};
use crate::error::ParseError;
use crate::ir::lexer::{Tok, Token};
use crate::ir::{Function, Inst, Region};
use crate::ops::region::{RegionOp, ScatterDims, Window};
use crate::ops::Op;
use crate::types::TensorType;

/// The region ops (see [`RegionOp`]).
#[derive(Clone, Copy)]
pub(super) enum RegionKind {
    Reduce,
    ReduceWindow,
    Sort,
    Scatter,
}

pub(super) fn region_kind(name: &str) -> Option<RegionKind> {
    Some(match name {
        "reduce" => RegionKind::Reduce,
        "reduce_window" => RegionKind::ReduceWindow,
        "sort" => RegionKind::Sort,
        "scatter" => RegionKind::Scatter,
        _ => return None,
    })
}

impl RegionKind {
    fn attr_names(self) -> &'static [&'static str] {
        match self {
            RegionKind::Reduce => &["dims"],
            RegionKind::ReduceWindow => &[
                "window",
                "strides",
                "base_dilations",
                "window_dilations",
                "pad_low",
                "pad_high",
            ],
            RegionKind::Sort => &["dim", "stable"],
            RegionKind::Scatter => &[
                "update_window_dims",
                "inserted_window_dims",
                "input_batching_dims",
                "scatter_indices_batching_dims",
                "scatter_dims_to_operand_dims",
                "index_vector_dim",
            ],
        }
    }
}

impl Parser<'_> {
    /// Parses `OP operands attributes : TYPES (%a: T, ...)` of a region op, up to its
    /// region, and creates the instruction, its results and its region arguments.
    #[inline(never)]
    pub(super) fn region_header(
        &mut self,
        f: &mut Function,
        region: Region,
        names: Vec<Name>,
        op_tok: Token,
    ) -> Result<Inst, ParseError> {
        let op_name = self.lex.text(op_tok).to_string();
        let kind = region_kind(&op_name).unwrap_or(RegionKind::Sort);
        let args = self.operands()?;
        let attrs = self.attributes(&op_name, kind.attr_names())?;
        let types = self.result_types(&names, &op_name)?;
        let op = self.build_region_op(kind, attrs, op_tok, &op_name)?;
        self.expect(
            Tok::LParen,
            &format!("'(' and the region arguments of '{op_name}' like (%a: f32, %b: f32)"),
        )?;
        let mut rargs = Vec::new();
        if !self.eat(Tok::RParen)? {
            loop {
                let t = self.expect(Tok::Value, "a region argument like %a")?;
                let name = self.value_name(t);
                self.expect(
                    Tok::Colon,
                    &format!("':' after region argument %{}", name.text),
                )?;
                let ty = self.ty(&format!("region argument %{}", name.text))?;
                rargs.push((name, ty));
                if self.eat(Tok::RParen)? {
                    break;
                }
                self.expect(Tok::Comma, "',' or ')' after a region argument")?;
            }
        }
        let inst = self.push(f, region, Op::Region(op), args, types, &names)?;
        let (rnames, rtypes): (Vec<Name>, Vec<TensorType>) = rargs.into_iter().unzip();
        let vals = f.add_region_args(
            inst,
            rtypes,
            rnames.iter().map(|n| Some(n.text.clone())).collect(),
        );
        for (n, &v) in rnames.iter().zip(&vals) {
            self.define(n, v)?;
        }
        Ok(inst)
    }

    /// Builds a region op from its attributes; list attributes that are left out take their
    /// neutral value (no dims, strides and dilations of 1, no padding).
    fn build_region_op(
        &self,
        kind: RegionKind,
        mut attrs: Vec<Attr>,
        op_tok: Token,
        op_name: &str,
    ) -> Result<RegionOp, ParseError> {
        let mut take = |key: &str| {
            attrs
                .iter()
                .position(|a| a.key == key)
                .map(|i| attrs.swap_remove(i))
        };
        let mut list = |key: &str, default: Option<Vec<usize>>| -> Result<Vec<usize>, ParseError> {
            match take(key) {
                Some(Attr {
                    value: AttrValue::List(l),
                    ..
                }) => Ok(l),
                Some(Attr {
                    value: AttrValue::Int(i),
                    ..
                }) => Ok(vec![i]),
                None => default.ok_or_else(|| {
                    self.err(op_tok, format!("'{op_name}' needs the attribute '{key}'"))
                }),
            }
        };
        Ok(match kind {
            RegionKind::Reduce => RegionOp::Reduce {
                dims: list("dims", None)?,
            },
            RegionKind::ReduceWindow => {
                let dims = list("window", None)?;
                let ones = Some(vec![1; dims.len()]);
                let zeros = Some(vec![0; dims.len()]);
                RegionOp::ReduceWindow(Window {
                    strides: list("strides", ones.clone())?,
                    base_dilations: list("base_dilations", ones.clone())?,
                    window_dilations: list("window_dilations", ones)?,
                    pad_low: list("pad_low", zeros.clone())?,
                    pad_high: list("pad_high", zeros)?,
                    dims,
                })
            }
            RegionKind::Sort => {
                let dim = list("dim", None)?;
                let stable = list("stable", Some(vec![0]))?;
                match (dim.as_slice(), stable.as_slice()) {
                    (&[dim], &[s @ (0 | 1)]) => RegionOp::Sort {
                        dim,
                        stable: s == 1,
                    },
                    _ => return Err(self.err(op_tok, "'sort' needs dim = N and stable = 0 or 1")),
                }
            }
            RegionKind::Scatter => {
                let ivd = list("index_vector_dim", None)?;
                let [index_vector_dim] = ivd[..] else {
                    return Err(self.err(op_tok, "'scatter' needs index_vector_dim = N"));
                };
                RegionOp::Scatter(ScatterDims {
                    update_window_dims: list("update_window_dims", Some(vec![]))?,
                    inserted_window_dims: list("inserted_window_dims", Some(vec![]))?,
                    input_batching_dims: list("input_batching_dims", Some(vec![]))?,
                    scatter_indices_batching_dims: list(
                        "scatter_indices_batching_dims",
                        Some(vec![]),
                    )?,
                    scatter_dims_to_operand_dims: list("scatter_dims_to_operand_dims", None)?,
                    index_vector_dim,
                })
            }
        })
    }
}
