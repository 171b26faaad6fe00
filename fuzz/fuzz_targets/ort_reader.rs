//! Fuzz the ORT-format reader: verification, every accessor, and the operator extraction.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ort_compact_build::model::ort::{Graph, TypeInfo, TypeValue};
use ort_compact_build::model::{ModelFile, OrtModel};
use ort_compact_build::ops::required_ops;

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
        let _ = (
            n.name(),
            n.domain(),
            n.since_version(),
            n.op_type(),
            n.node_type(),
        );
        let _ = (
            n.inputs(),
            n.outputs(),
            n.implicit_inputs(),
            n.input_arg_counts(),
        );
        let _ = n.execution_provider_type();
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

fuzz_target!(|data: &[u8]| {
    if let Ok(model) = OrtModel::from_bytes(data.to_vec(), "fuzz.ort") {
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
});
