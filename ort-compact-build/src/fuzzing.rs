//! Entry points for the fuzz targets in `fuzz/` (feature `fuzzing`; not a stable API): each
//! takes arbitrary bytes and must return without panicking.

use crate::model::ort::{Graph, TypeInfo, TypeValue};
use crate::model::{ModelFile, OnnxModel, OrtModel};
use crate::ops::{required_ops, OpConfig};
use std::path::Path;

/// The ONNX reader and the operator extraction: any bytes give a model or an error.
pub fn onnx_reader(data: &[u8]) {
    if let Ok(model) = OnnxModel::from_bytes(data, Path::new("fuzz.onnx")) {
        let file = ModelFile::Onnx(model);
        let _ = required_ops(&file, false);
        let _ = required_ops(&file, true);
    }
}

/// The operator-config parser: a parsed config writes text that parses to itself.
pub fn op_config(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(config) = OpConfig::parse(text) {
            let written = config.to_string();
            let again = OpConfig::parse(&written).expect("written config parses");
            assert_eq!(again.to_string(), written);
        }
    }
}

/// The ORT-format reader: verification, every accessor, and the operator extraction.
pub fn ort_reader(data: &[u8]) {
    let Ok(model) = OrtModel::from_bytes(data.to_vec(), "fuzz.ort") else {
        return;
    };
    let session = model.session();
    if let Some(r) = session.kernel_type_str_resolver() {
        for e in r.entries() {
            let _ = e.op_id();
            for t in e.type_strs() {
                let _ = (t.kernel_type_str(), t.args());
            }
        }
        let _ = r.resolve(":Relu:14", "T");
    }
    if let Some(m) = model.model() {
        let _ = (m.ir_version(), m.producer_name(), m.opset_import().count());
        for p in m.metadata_props() {
            let _ = (p.key(), p.value());
        }
    }
    if let Some(g) = model.graph() {
        walk_graph(g, 0);
    }
    let file = ModelFile::Ort(model);
    let _ = required_ops(&file, false);
    let _ = required_ops(&file, true);
}

fn walk_type(t: TypeInfo<'_>, depth: usize) {
    if depth > 16 {
        return;
    }
    let _ = t.denotation();
    match t.value() {
        TypeValue::Tensor(tt) => {
            let _ = tt.elem_type();
            if let Some(s) = tt.shape() {
                let _ = s.dims();
            }
        }
        TypeValue::Sequence(s) => {
            if let Some(e) = s.elem_type() {
                walk_type(e, depth + 1);
            }
        }
        TypeValue::Map(m) => {
            let _ = m.key_type();
            if let Some(v) = m.value_type() {
                walk_type(v, depth + 1);
            }
        }
        TypeValue::None => {}
    }
}

fn walk_graph(g: Graph<'_>, depth: usize) {
    if depth > 16 {
        return;
    }
    let _ = (g.inputs(), g.outputs(), g.max_node_index());
    for t in g.initializers() {
        let _ = (t.name(), t.dims(), t.data_type(), t.raw_data().len());
        let _ = (t.string_data(), t.external_data_offset());
    }
    for a in g.node_args() {
        let _ = a.name();
        if let Some(t) = a.type_info() {
            walk_type(t, 0);
        }
    }
    for n in g.nodes() {
        let _ = (n.name(), n.domain(), n.since_version(), n.op_type());
        let _ = (n.node_type(), n.execution_provider_type());
        let _ = (
            n.inputs(),
            n.outputs(),
            n.implicit_inputs(),
            n.input_arg_counts(),
        );
        for a in n.attributes() {
            let _ = (a.name(), a.attr_type(), a.f(), a.i(), a.s());
            let _ = (a.floats(), a.ints(), a.strings(), a.tensors().count());
            if let Some(t) = a.t() {
                let _ = (t.dims(), t.raw_data().len());
            }
            for sub in a.g().into_iter().chain(a.graphs()) {
                walk_graph(sub, depth + 1);
            }
        }
    }
}
