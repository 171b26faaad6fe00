//! Products written out in elementary operators: a chain of `Mul`s, a `Div` by a constant, a
//! `Pow` by 2 or 3, read as one constant coefficient times a list of factors. Fusions that
//! match a formula (the Gelu family) use it to accept whatever order an exporter wrote the
//! formula in.

use super::node::is_onnx;
use super::uses::{constant, Uses};
use super::value::dtype;
use super::Model;
use crate::model::onnx::GraphProto;
use std::collections::HashMap;

/// A value read as a product.
#[derive(Debug, Default)]
pub(super) struct Product<'g> {
    /// The product of the scalar constants.
    pub coefficient: f64,
    /// The other factors (values), a value as often as it is multiplied in.
    pub factors: Vec<&'g str>,
    /// The nodes the product was read through.
    pub nodes: Vec<usize>,
    /// Whether a constant of rank 1 took part: it broadcasts a rank-0 operand up.
    pub widens: bool,
}

impl Product<'_> {
    /// Whether the factors are exactly `expected`, in any order.
    pub fn factors_are(&self, expected: &[&str]) -> bool {
        let mut a = self.factors.clone();
        let mut b = expected.to_vec();
        a.sort_unstable();
        b.sort_unstable();
        a == b
    }
}

/// What reading products needs of the graph.
pub(super) struct Products<'g> {
    pub model: &'g Model,
    pub g: &'g GraphProto,
    pub uses: &'g Uses,
    /// The node writing each value.
    pub producer: &'g HashMap<&'g str, usize>,
}

/// Whether `value` is within ONNX Runtime's tolerance of `expected` (absolute 1e-8, relative
/// 1e-5): how its fusions compare the constants of a formula.
pub(super) fn near(value: f64, expected: f64) -> bool {
    (value - expected).abs() <= 1e-8 + 1e-5 * expected.abs()
}

impl<'g> Products<'g> {
    /// `name` as a float scalar constant (rank 0, or rank 1 of one element), with whether it is
    /// of rank 1.
    pub fn scalar(&self, name: &str) -> Option<(f64, bool)> {
        let v = constant(self.g, &self.model.loc, name)?;
        let fits = v.dtype == dtype::FLOAT && v.count() == 1 && v.dims.len() <= 1;
        fits.then(|| v.as_f64().map(|x| (x, v.dims.len() == 1)))?
    }

    /// The node writing `value`, when only one node reads it and it is no graph output.
    pub fn private(&self, value: &str) -> Option<usize> {
        (self.uses.readers(value) == 1 && !self.uses.observed(value))
            .then(|| self.producer.get(value).copied())
            .flatten()
    }

    /// `value` read as a product: the node writing it is read through, and below it every
    /// node whose output nothing else reads.
    pub fn of(&self, value: &'g str) -> Product<'g> {
        let mut p = Product {
            coefficient: 1.0,
            ..Product::default()
        };
        let top = self.producer.get(value).copied();
        self.expand(value, top, &mut p);
        p
    }

    fn expand(&self, value: &'g str, node: Option<usize>, p: &mut Product<'g>) {
        if let Some((c, widens)) = self.scalar(value) {
            p.coefficient *= c;
            p.widens |= widens;
            return;
        }
        let Some(k) = node else {
            return p.factors.push(value);
        };
        let n = &self.g.node[k];
        if n.input.len() != 2 {
            return p.factors.push(value);
        }
        let (a, b) = (n.input[0].as_str(), n.input[1].as_str());
        if is_onnx(n, "Mul") {
            p.nodes.push(k);
            self.expand(a, self.private(a), p);
            self.expand(b, self.private(b), p);
        } else if let Some((d, widens)) = self.scalar(b).filter(|_| is_onnx(n, "Div")) {
            p.nodes.push(k);
            p.coefficient /= d;
            p.widens |= widens;
            self.expand(a, self.private(a), p);
        } else if let Some((e, widens)) = self.scalar(b).filter(|_| is_onnx(n, "Pow")) {
            if e != 2.0 && e != 3.0 {
                return p.factors.push(value);
            }
            p.nodes.push(k);
            p.widens |= widens;
            p.factors.extend(std::iter::repeat_n(a, e as usize));
        } else {
            p.factors.push(value);
        }
    }

    /// `value` as `Add(c, other)` of a scalar constant `c` (either order), written by a node
    /// only the pattern reads: (`c`, `other`, the `Add`, whether `c` is of rank 1).
    pub fn plus_constant(&self, value: &str) -> Option<(f64, &'g str, usize, bool)> {
        let k = self.private(value)?;
        let n = &self.g.node[k];
        if !is_onnx(n, "Add") || n.input.len() != 2 {
            return None;
        }
        (0..2).find_map(|i| {
            let (c, widens) = self.scalar(&n.input[i])?;
            Some((c, n.input[1 - i].as_str(), k, widens))
        })
    }
}
