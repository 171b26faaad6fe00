//! Native ONNX → ORT-format converter (format version 6, loadable by ONNX Runtime 1.21.0).
//!
//! A minimal ONNX Runtime build reads only `.ort` flatbuffers. [`convert`] produces one from an
//! `.onnx` file without Python: it keeps the model's own ops (no graph fusions), lifts
//! `Constant` nodes to initializers as ONNX Runtime does on load, gives every node its
//! since-version (from the model's opset imports and the checked-in operator schema table) and
//! every value an element type (inferred through the graph where the model does not state it),
//! resolves subgraph implicit inputs, node edges and variadic input counts, and writes the
//! kernel-type-string resolver table that a minimal build matches kernels with.
//!
//! Operators ONNX Runtime has no CPU kernel for but expands on load (ONNX functions such as
//! `HardSwish`, `Mish`, `CastLike`, `NegativeLogLikelihoodLoss`, `SoftmaxCrossEntropyLoss`,
//! `SequenceMap`, `Bernoulli`, `GroupNormalization`, and calls to model-local functions) are
//! expanded the same way, so a minimal build never needs a kernel that does not exist. Models
//! whose values have `optional(...)` types cannot be represented in the ORT format and are
//! rejected.
//!
//! Module map: `schema` (operator table, generated data in `schema_table.txt`), `types` (type
//! strings), `inline` (function
//! expansion, with `losses`, `sequence_map`, `bernoulli`, `group_norm`, `cast_like`), `graph` (graph
//! preparation, with `scope` and `topo`), `infer` (type inference), `resolver` (kernel type
//! strings), `write` (flatbuffer writer). Tensor data and `Constant` lifting are `model`'s;
//! the graph optimizer (`optimize`) runs after `inline`, before `graph`.

mod bernoulli;
mod cast_like;
mod graph;
mod group_norm;
mod infer;
mod inline;
mod losses;
mod resolver;
mod schema;
mod scope;
mod sequence_map;
mod topo;
mod types;
mod write;

use crate::error::{Error, Result};
use crate::model::onnx::ModelProto;
use crate::model::{read_model_file, OnnxModel};
use crate::optimize::{GraphOptimization, GraphOptimizer};
use prost::Message;
use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

/// ORT format version written (`InferenceSession.ort_version`); ONNX Runtime 1.21.0 reads it.
pub const ORT_FORMAT_VERSION: &str = "6";
/// Flatbuffer file identifier of ORT-format models.
pub const ORT_FILE_IDENTIFIER: &str = "ORTM";

/// Opset versions ONNX Runtime 1.21.0 adds to a model for every registered domain the model
/// does not import (its schema registry's latest versions; a fact of ORT 1.21.0). They are
/// written to the `.ort` and used to resolve nodes of those domains, as ORT does on load.
const IMPLICIT_OPSETS: &[(&str, i64)] = &[
    ("", 22),
    ("ai.onnx.ml", 5),
    ("ai.onnx.preview.training", 1),
    ("ai.onnx.training", 1),
    ("com.microsoft", 1),
    ("com.microsoft.experimental", 1),
    ("com.microsoft.nchwc", 1),
    ("org.pytorch.aten", 1),
];

/// Largest model (in bytes of tensor data) a flatbuffer can hold, with headroom.
const MAX_FLATBUFFER_BYTES: u64 = 2_000_000_000;

/// Convert an `.onnx` model to ORT-format bytes.
///
/// External tensor data is read relative to the model's directory. The result is
/// byte-for-byte reproducible.
pub fn convert(onnx_path: &Path) -> Result<Vec<u8>> {
    convert_with(onnx_path, GraphOptimization::None)
}

/// [`convert`], the graph optimized first: at a [`GraphOptimization`] level, or by a
/// [`GraphOptimizer`] (a level with rewrites turned off).
pub fn convert_with(onnx_path: &Path, level: impl Into<GraphOptimizer>) -> Result<Vec<u8>> {
    let bytes = read_model_file(onnx_path)?;
    let model = ModelProto::decode(bytes.as_slice()).map_err(|e| Error::InvalidOnnx {
        path: onnx_path.to_path_buf(),
        reason: e.to_string(),
    })?;
    convert_model(&model, onnx_path, bytes.len() as u64, level)
}

/// Convert a model already read as an [`OnnxModel`], without reading or decoding it again.
pub(crate) fn convert_loaded(
    model: &OnnxModel,
    level: impl Into<GraphOptimizer>,
) -> Result<Vec<u8>> {
    let size_hint = model.proto.encoded_len() as u64;
    convert_model(&model.proto, model.path(), size_hint, level)
}

/// Convert an already decoded model, its graph optimized by `level` (after local functions are
/// inlined); `path` locates external data and names the model in errors.
pub fn convert_model(
    model: &ModelProto,
    path: &Path,
    size_hint: u64,
    level: impl Into<GraphOptimizer>,
) -> Result<Vec<u8>> {
    let optimizer = level.into();
    let table = schema::table();
    let loc = crate::model::ModelLocation::new(path);
    let mut opsets: HashMap<String, i64> = HashMap::new();
    let mut opset_list: Vec<(String, i64)> = Vec::new();
    for o in &model.opset_import {
        let domain = graph::normalize_domain(&o.domain).to_string();
        if let Some(&max) = table.max_opset.get(domain.as_str()) {
            if o.version > max {
                return Err(Error::OpsetTooNew {
                    path: path.to_path_buf(),
                    domain: if domain.is_empty() {
                        "ai.onnx".to_string()
                    } else {
                        domain
                    },
                    version: o.version,
                    max,
                });
            }
        }
        opsets.insert(domain.clone(), o.version);
        opset_list.push((domain, o.version));
    }
    for (domain, version) in IMPLICIT_OPSETS {
        if !opsets.contains_key(*domain) {
            opsets.insert((*domain).to_string(), *version);
            opset_list.push(((*domain).to_string(), *version));
        }
    }
    let inlined = inline::inline_functions(model, table, &opsets, path)?;
    let mut model = inlined.map_or(Cow::Borrowed(model), Cow::Owned);
    if !optimizer.is_none() {
        crate::optimize::optimize(model.to_mut(), path, optimizer);
    }
    let model = model.as_ref();
    let g = model.graph.as_ref().ok_or_else(|| Error::InvalidOnnx {
        path: path.to_path_buf(),
        reason: "the model has no graph".to_string(),
    })?;
    let cx = graph::Context {
        loc: loc.clone(),
        opsets,
        table,
    };
    let prepared = graph::prepare_graph(&cx, g, &HashMap::new(), &[])?;
    let mut res = resolver::Resolver::new();
    resolver::register_graph(&mut res, &prepared);
    let capacity = usize::try_from(size_hint.min(MAX_FLATBUFFER_BYTES))
        .unwrap_or(0)
        .saturating_add(1 << 20);
    write::Writer::new(&loc, capacity, MAX_FLATBUFFER_BYTES).finish(
        model,
        &opset_list,
        &prepared,
        &res,
    )
}

/// Convert `input` (`.onnx`) and write the result to `output` (`.ort`) atomically: the bytes go
/// to a temporary file in the output's directory that is renamed into place, so nothing is
/// written when conversion fails.
pub fn convert_file(input: &Path, output: &Path) -> Result<()> {
    convert_file_with(input, output, GraphOptimization::None)
}

/// [`convert_file`], the graph optimized by `level` first (see [`convert_with`]).
pub fn convert_file_with(
    input: &Path,
    output: &Path,
    level: impl Into<GraphOptimizer>,
) -> Result<()> {
    let bytes = convert_with(input, level)?;
    crate::util::write_atomic(output, &bytes)
}
