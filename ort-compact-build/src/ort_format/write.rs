//! Serialise a prepared model as an ORT-format flatbuffer (`ort.fbs`, format version 6).
//!
//! Tables are built bottom-up with the `flatbuffers` crate's builder; slot constants below are
//! the field ids of ONNX Runtime 1.21's `ort.fbs` (vtable offset = 4 + 2 × id). Building visits
//! everything in a fixed order, so the same input always gives the same bytes.

use super::graph::{EdgeEnd, PreparedGraph, PreparedNode};
use super::resolver::Resolver;
use super::{ORT_FILE_IDENTIFIER, ORT_FORMAT_VERSION};
use crate::error::Result;
use crate::model::onnx::{
    attribute_proto::AttributeType, tensor_shape_proto::dimension, type_proto, AttributeProto,
    ModelProto, NodeProto, SparseTensorProto, TensorProto, TypeProto,
};
use crate::model::{tensor_bytes, ModelLocation, STRING};
use flatbuffers::{FlatBufferBuilder, Push, PushAlignment, TableFinishedWIPOffset, WIPOffset};

type Table = WIPOffset<TableFinishedWIPOffset>;
type Builder<'fbb> = FlatBufferBuilder<'fbb>;

/// Vtable offset of field `id`.
const fn slot(id: u16) -> u16 {
    4 + 2 * id
}

/// `EdgeEnd` struct (node_index: u32, src_arg_index: i32, dst_arg_index: i32), little-endian.
#[derive(Clone, Copy)]
struct EdgeEndStruct([u8; 12]);

impl EdgeEndStruct {
    fn new((node, src, dst): EdgeEnd) -> Self {
        let mut b = [0u8; 12];
        b[0..4].copy_from_slice(&node.to_le_bytes());
        b[4..8].copy_from_slice(&src.to_le_bytes());
        b[8..12].copy_from_slice(&dst.to_le_bytes());
        EdgeEndStruct(b)
    }
}

impl Push for EdgeEndStruct {
    type Output = EdgeEndStruct;

    unsafe fn push(&self, dst: &mut [u8], _written_len: usize) {
        let n = self.0.len().min(dst.len());
        dst[..n].copy_from_slice(&self.0[..n]);
    }

    fn size() -> usize {
        12
    }

    fn alignment() -> PushAlignment {
        PushAlignment::new(4)
    }
}

/// Writes one model.
pub(crate) struct Writer<'fbb, 'l> {
    fbb: Builder<'fbb>,
    loc: &'l ModelLocation,
    /// Tensor bytes written so far.
    written: u64,
    /// Limit on tensor bytes (flatbuffers are limited to 2 GiB).
    limit: u64,
}

impl<'fbb, 'l> Writer<'fbb, 'l> {
    /// A writer with an initial buffer of `capacity` bytes.
    pub fn new(loc: &'l ModelLocation, capacity: usize, limit: u64) -> Self {
        Writer {
            fbb: FlatBufferBuilder::with_capacity(capacity),
            loc,
            written: 0,
            limit,
        }
    }

    fn opt_string(&mut self, s: &str) -> Option<WIPOffset<&'fbb str>> {
        (!s.is_empty()).then(|| self.fbb.create_string(s))
    }

    fn shared_strings(
        &mut self,
        names: &[String],
    ) -> WIPOffset<flatbuffers::Vector<'fbb, flatbuffers::ForwardsUOffset<&'fbb str>>> {
        let offs: Vec<_> = names
            .iter()
            .map(|n| self.fbb.create_shared_string(n))
            .collect();
        self.fbb.create_vector(&offs)
    }

    /// A vector of strings from raw bytes, kept byte for byte (ONNX string tensors and
    /// attributes need not be UTF-8; ONNX Runtime reads them as byte strings).
    fn byte_strings(
        &mut self,
        items: &[Vec<u8>],
    ) -> WIPOffset<flatbuffers::Vector<'fbb, flatbuffers::ForwardsUOffset<&'fbb [u8]>>> {
        let offs: Vec<_> = items
            .iter()
            .map(|s| self.fbb.create_byte_string(s))
            .collect();
        self.fbb.create_vector(&offs)
    }

    /// Account for `len` bytes of tensor data; error past the flatbuffer size limit.
    fn count(&mut self, t: &TensorProto, len: usize) -> Result<()> {
        self.written = self.written.saturating_add(len as u64);
        if self.written > self.limit {
            return Err(self.loc.invalid_node(
                "initializers",
                format!(
                    "tensor '{}' takes the model's data past {} bytes, more than an ORT-format \
                     flatbuffer can hold (2 GiB)",
                    t.name, self.limit
                ),
            ));
        }
        Ok(())
    }

    /// `Tensor` table.
    fn tensor(&mut self, t: &TensorProto) -> Result<Table> {
        let name = self.opt_string(&t.name);
        let doc = self.opt_string(&t.doc_string);
        let dims = self.fbb.create_vector(&t.dims);
        let (strings, raw) = if t.data_type == STRING {
            let len: usize = t.string_data.iter().map(Vec::len).sum();
            self.count(t, len)?;
            (Some(self.byte_strings(&t.string_data)), None)
        } else {
            let bytes = tensor_bytes(self.loc, t)?;
            self.count(t, bytes.len())?;
            (None, Some(self.fbb.create_vector(bytes.as_ref())))
        };
        let start = self.fbb.start_table();
        if let Some(x) = name {
            self.fbb.push_slot_always(slot(0), x);
        }
        if let Some(x) = doc {
            self.fbb.push_slot_always(slot(1), x);
        }
        self.fbb.push_slot_always(slot(2), dims);
        self.fbb.push_slot(slot(3), t.data_type, 0);
        if let Some(x) = raw {
            self.fbb.push_slot_always(slot(4), x);
        }
        if let Some(x) = strings {
            self.fbb.push_slot_always(slot(5), x);
        }
        Ok(self.fbb.end_table(start))
    }

    /// `SparseTensor` table.
    fn sparse_tensor(&mut self, s: &SparseTensorProto) -> Result<Table> {
        let values = match &s.values {
            Some(v) => Some(self.tensor(v)?),
            None => None,
        };
        let indices = match &s.indices {
            Some(v) => Some(self.tensor(v)?),
            None => None,
        };
        let dims = self.fbb.create_vector(&s.dims);
        let start = self.fbb.start_table();
        if let Some(x) = values {
            self.fbb.push_slot_always(slot(0), x);
        }
        if let Some(x) = indices {
            self.fbb.push_slot_always(slot(1), x);
        }
        self.fbb.push_slot_always(slot(2), dims);
        Ok(self.fbb.end_table(start))
    }

    /// `TypeInfo` table; `None` for types the ORT format cannot hold (optional, sparse, opaque).
    fn type_info(&mut self, t: &TypeProto) -> Option<Table> {
        let denotation = self.opt_string(&t.denotation);
        let (kind, value): (u8, Table) = match t.value.as_ref()? {
            type_proto::Value::TensorType(tt) => {
                let shape = tt.shape.as_ref().map(|s| {
                    let dims: Vec<Table> = s
                        .dim
                        .iter()
                        .map(|d| {
                            let den = self.opt_string(&d.denotation);
                            let param = match &d.value {
                                Some(dimension::Value::DimParam(p)) => {
                                    Some(self.fbb.create_string(p))
                                }
                                _ => None,
                            };
                            let start = self.fbb.start_table();
                            match &d.value {
                                Some(dimension::Value::DimValue(v)) => {
                                    self.fbb.push_slot(slot(1), *v, 0);
                                    self.fbb.push_slot(slot(0), 1i8, 0);
                                }
                                Some(dimension::Value::DimParam(_)) => {
                                    if let Some(p) = param {
                                        self.fbb.push_slot_always(slot(2), p);
                                    }
                                    self.fbb.push_slot(slot(0), 2i8, 0);
                                }
                                None => {}
                            }
                            let value = self.fbb.end_table(start);
                            let start = self.fbb.start_table();
                            self.fbb.push_slot_always(slot(0), value);
                            if let Some(x) = den {
                                self.fbb.push_slot_always(slot(1), x);
                            }
                            self.fbb.end_table(start)
                        })
                        .collect();
                    let dims = self.fbb.create_vector(&dims);
                    let start = self.fbb.start_table();
                    self.fbb.push_slot_always(slot(0), dims);
                    self.fbb.end_table(start)
                });
                let start = self.fbb.start_table();
                self.fbb.push_slot(slot(0), tt.elem_type, 0);
                if let Some(x) = shape {
                    self.fbb.push_slot_always(slot(1), x);
                }
                (1, self.fbb.end_table(start))
            }
            type_proto::Value::SequenceType(s) => {
                let elem = self.type_info(s.elem_type.as_deref()?)?;
                let start = self.fbb.start_table();
                self.fbb.push_slot_always(slot(0), elem);
                (2, self.fbb.end_table(start))
            }
            type_proto::Value::MapType(m) => {
                let value = self.type_info(m.value_type.as_deref()?)?;
                let start = self.fbb.start_table();
                self.fbb.push_slot(slot(0), m.key_type, 0);
                self.fbb.push_slot_always(slot(1), value);
                (3, self.fbb.end_table(start))
            }
            _ => return None,
        };
        let start = self.fbb.start_table();
        if let Some(x) = denotation {
            self.fbb.push_slot_always(slot(0), x);
        }
        self.fbb.push_slot(slot(1), kind, 0);
        self.fbb.push_slot_always(slot(2), value);
        Some(self.fbb.end_table(start))
    }

    /// `ValueInfo` table.
    fn value_info(&mut self, name: &str, t: Option<&TypeProto>) -> Result<Table> {
        let name_off = self.fbb.create_shared_string(name);
        let type_off = match t {
            Some(t) => Some(self.type_info(t).ok_or_else(|| {
                self.loc.invalid_node(
                    "value",
                    format!(
                        "value '{name}' has an optional, sparse or opaque type, which the ORT \
                         format cannot store"
                    ),
                )
            })?),
            None => None,
        };
        let start = self.fbb.start_table();
        self.fbb.push_slot_always(slot(0), name_off);
        if let Some(x) = type_off {
            self.fbb.push_slot_always(slot(2), x);
        }
        Ok(self.fbb.end_table(start))
    }

    /// `Attribute` table.
    fn attribute(
        &mut self,
        a: &AttributeProto,
        subgraph: Option<&PreparedGraph<'_>>,
        node: &str,
    ) -> Result<Table> {
        let name = self.opt_string(&a.name);
        let doc = self.opt_string(&a.doc_string);
        let ty = a.r#type;
        let mut s = None;
        let mut t = None;
        let mut g = None;
        let mut floats = None;
        let mut ints = None;
        let mut strings = None;
        let mut tensors = None;
        match AttributeType::try_from(ty) {
            Ok(AttributeType::String) => s = Some(self.fbb.create_byte_string(&a.s)),
            Ok(AttributeType::Tensor) => {
                let tensor = a.t.as_ref().ok_or_else(|| {
                    self.loc
                        .invalid_node(node, format!("attribute '{}' has no tensor", a.name))
                })?;
                t = Some(self.tensor(tensor)?);
            }
            Ok(AttributeType::Graph) => {
                let sub = subgraph.ok_or_else(|| {
                    self.loc
                        .invalid_node(node, format!("attribute '{}' has no graph", a.name))
                })?;
                g = Some(self.graph(sub)?);
            }
            Ok(AttributeType::Floats) => floats = Some(self.fbb.create_vector(&a.floats)),
            Ok(AttributeType::Ints) => ints = Some(self.fbb.create_vector(&a.ints)),
            Ok(AttributeType::Strings) => strings = Some(self.byte_strings(&a.strings)),
            Ok(AttributeType::Tensors) => {
                let offs = a
                    .tensors
                    .iter()
                    .map(|x| self.tensor(x))
                    .collect::<Result<Vec<_>>>()?;
                tensors = Some(self.fbb.create_vector(&offs));
            }
            Ok(AttributeType::Float | AttributeType::Int) => {}
            _ => {
                return Err(self.loc.invalid_node(
                    node,
                    format!(
                        "attribute '{}' has type {ty}, which the ORT format cannot store",
                        a.name
                    ),
                ))
            }
        }
        let start = self.fbb.start_table();
        if let Some(x) = name {
            self.fbb.push_slot_always(slot(0), x);
        }
        if let Some(x) = doc {
            self.fbb.push_slot_always(slot(1), x);
        }
        self.fbb.push_slot(slot(2), ty, 0);
        if ty == AttributeType::Float as i32 {
            self.fbb.push_slot(slot(3), a.f, 0.0);
        }
        if ty == AttributeType::Int as i32 {
            self.fbb.push_slot(slot(4), a.i, 0);
        }
        if let Some(x) = s {
            self.fbb.push_slot_always(slot(5), x);
        }
        if let Some(x) = t {
            self.fbb.push_slot_always(slot(6), x);
        }
        if let Some(x) = g {
            self.fbb.push_slot_always(slot(7), x);
        }
        if let Some(x) = floats {
            self.fbb.push_slot_always(slot(8), x);
        }
        if let Some(x) = ints {
            self.fbb.push_slot_always(slot(9), x);
        }
        if let Some(x) = strings {
            self.fbb.push_slot_always(slot(10), x);
        }
        if let Some(x) = tensors {
            self.fbb.push_slot_always(slot(11), x);
        }
        Ok(self.fbb.end_table(start))
    }

    /// `Node` table.
    fn node(&mut self, n: &PreparedNode<'_>) -> Result<Table> {
        let p: &NodeProto = &n.proto;
        let display = if p.name.is_empty() {
            format!("#{} ({})", n.index, p.op_type)
        } else {
            p.name.clone()
        };
        let name = self.fbb.create_string(&p.name);
        let doc = self.fbb.create_string(&p.doc_string);
        let domain = self.fbb.create_shared_string(n.domain);
        let op_type = self.fbb.create_shared_string(&p.op_type);
        let ep = self.fbb.create_shared_string("");
        let inputs = self.shared_strings(&p.input);
        let outputs = self.shared_strings(&p.output);
        let arg_counts = self.fbb.create_vector(&n.input_arg_counts);
        let implicit = self.shared_strings(&n.implicit_inputs);
        let mut attrs = Vec::with_capacity(p.attribute.len());
        for (ai, a) in p.attribute.iter().enumerate() {
            let sub = n.subgraphs.iter().find(|(i, _)| *i == ai).map(|(_, g)| g);
            attrs.push(self.attribute(a, sub, &display)?);
        }
        for a in &n.default_attributes {
            attrs.push(self.attribute(a, None, &display)?);
        }
        let attrs = self.fbb.create_vector(&attrs);
        let start = self.fbb.start_table();
        self.fbb.push_slot_always(slot(0), name);
        self.fbb.push_slot_always(slot(1), doc);
        self.fbb.push_slot_always(slot(2), domain);
        self.fbb.push_slot(slot(3), n.schema.since_version, 0);
        self.fbb.push_slot(slot(4), n.index, 0);
        self.fbb.push_slot_always(slot(5), op_type);
        self.fbb.push_slot(slot(6), 0i32, 0);
        self.fbb.push_slot_always(slot(7), ep);
        self.fbb.push_slot_always(slot(8), inputs);
        self.fbb.push_slot_always(slot(9), outputs);
        self.fbb.push_slot_always(slot(10), attrs);
        self.fbb.push_slot_always(slot(11), arg_counts);
        self.fbb.push_slot_always(slot(12), implicit);
        Ok(self.fbb.end_table(start))
    }

    /// `NodeEdge` table.
    fn node_edge(&mut self, n: &PreparedNode<'_>) -> Table {
        let ins: Vec<EdgeEndStruct> = n
            .input_edges
            .iter()
            .map(|e| EdgeEndStruct::new(*e))
            .collect();
        let outs: Vec<EdgeEndStruct> = n
            .output_edges
            .iter()
            .map(|e| EdgeEndStruct::new(*e))
            .collect();
        let ins = self.fbb.create_vector(&ins);
        let outs = self.fbb.create_vector(&outs);
        let start = self.fbb.start_table();
        self.fbb.push_slot(slot(0), n.index, 0);
        self.fbb.push_slot_always(slot(1), ins);
        self.fbb.push_slot_always(slot(2), outs);
        self.fbb.end_table(start)
    }

    /// `Graph` table.
    pub fn graph(&mut self, g: &PreparedGraph<'_>) -> Result<Table> {
        let inputs = self.shared_strings(&g.inputs);
        let outputs = self.shared_strings(&g.outputs);
        let sparse = g
            .sparse_initializers
            .iter()
            .map(|s| self.sparse_tensor(s))
            .collect::<Result<Vec<_>>>()?;
        let sparse = self.fbb.create_vector(&sparse);
        let inits = g
            .initializers
            .iter()
            .map(|t| self.tensor(t))
            .collect::<Result<Vec<_>>>()?;
        let inits = self.fbb.create_vector(&inits);
        let args = g
            .node_args
            .iter()
            .map(|(name, t)| self.value_info(name, t.as_ref()))
            .collect::<Result<Vec<_>>>()?;
        let args = self.fbb.create_vector(&args);
        let mut nodes = Vec::with_capacity(g.nodes.len());
        let mut edges = Vec::with_capacity(g.nodes.len());
        for n in &g.nodes {
            nodes.push(self.node(n)?);
            edges.push(self.node_edge(n));
        }
        let nodes = self.fbb.create_vector(&nodes);
        let edges = self.fbb.create_vector(&edges);
        let start = self.fbb.start_table();
        self.fbb.push_slot_always(slot(0), inits);
        self.fbb.push_slot_always(slot(1), args);
        self.fbb.push_slot_always(slot(2), nodes);
        self.fbb
            .push_slot(slot(3), u32::try_from(g.nodes.len()).unwrap_or(u32::MAX), 0);
        self.fbb.push_slot_always(slot(4), edges);
        self.fbb.push_slot_always(slot(5), inputs);
        self.fbb.push_slot_always(slot(6), outputs);
        self.fbb.push_slot_always(slot(7), sparse);
        Ok(self.fbb.end_table(start))
    }

    /// `KernelTypeStrResolver` table.
    fn resolver(&mut self, r: &Resolver) -> Table {
        let mut entries = Vec::with_capacity(r.len());
        for (op_id, type_strs) in r {
            let mut kts = Vec::with_capacity(type_strs.len());
            for (type_str, args) in type_strs {
                let arg_tables: Vec<Table> = args
                    .iter()
                    .map(|(kind, index)| {
                        let start = self.fbb.start_table();
                        self.fbb.push_slot(slot(1), *index, 0);
                        self.fbb.push_slot(slot(0), *kind as i8, 0);
                        self.fbb.end_table(start)
                    })
                    .collect();
                let key = self.fbb.create_shared_string(type_str);
                let args_vec = self.fbb.create_vector(&arg_tables);
                let start = self.fbb.start_table();
                self.fbb.push_slot_always(slot(0), key);
                self.fbb.push_slot_always(slot(1), args_vec);
                kts.push(self.fbb.end_table(start));
            }
            let id = self.fbb.create_shared_string(op_id);
            let kts = self.fbb.create_vector(&kts);
            let start = self.fbb.start_table();
            self.fbb.push_slot_always(slot(0), id);
            self.fbb.push_slot_always(slot(1), kts);
            entries.push(self.fbb.end_table(start));
        }
        let entries = self.fbb.create_vector(&entries);
        let start = self.fbb.start_table();
        self.fbb.push_slot_always(slot(0), entries);
        self.fbb.end_table(start)
    }

    /// Write the whole `InferenceSession` and return the finished bytes.
    pub fn finish(
        mut self,
        model: &ModelProto,
        opsets: &[(String, i64)],
        graph: &PreparedGraph<'_>,
        resolver: &Resolver,
    ) -> Result<Vec<u8>> {
        let version = self.fbb.create_string(ORT_FORMAT_VERSION);
        let producer_name = self.opt_string(&model.producer_name);
        let producer_version = self.opt_string(&model.producer_version);
        let domain = self.fbb.create_shared_string(&model.domain);
        let doc = self.opt_string(&model.doc_string);
        let graph_doc = model
            .graph
            .as_ref()
            .and_then(|g| (!g.doc_string.is_empty()).then(|| g.doc_string.clone()));
        let graph_doc = graph_doc.map(|d| self.fbb.create_string(&d));
        let opset_tables: Vec<Table> = opsets
            .iter()
            .map(|(d, v)| {
                let d = self.fbb.create_shared_string(d);
                let start = self.fbb.start_table();
                self.fbb.push_slot_always(slot(0), d);
                self.fbb.push_slot(slot(1), *v, 0);
                self.fbb.end_table(start)
            })
            .collect();
        let opset_vec = self.fbb.create_vector(&opset_tables);
        let metadata = if model.metadata_props.is_empty() {
            None
        } else {
            let entries: Vec<Table> = model
                .metadata_props
                .iter()
                .map(|e| {
                    let k = self.fbb.create_string(&e.key);
                    let v = self.fbb.create_string(&e.value);
                    let start = self.fbb.start_table();
                    self.fbb.push_slot_always(slot(0), k);
                    self.fbb.push_slot_always(slot(1), v);
                    self.fbb.end_table(start)
                })
                .collect();
            Some(self.fbb.create_vector(&entries))
        };
        let graph_off = self.graph(graph)?;
        let start = self.fbb.start_table();
        self.fbb.push_slot(slot(0), model.ir_version, 0);
        self.fbb.push_slot_always(slot(1), opset_vec);
        if let Some(x) = producer_name {
            self.fbb.push_slot_always(slot(2), x);
        }
        if let Some(x) = producer_version {
            self.fbb.push_slot_always(slot(3), x);
        }
        self.fbb.push_slot_always(slot(4), domain);
        self.fbb.push_slot(slot(5), model.model_version, 0);
        if let Some(x) = doc {
            self.fbb.push_slot_always(slot(6), x);
        }
        self.fbb.push_slot_always(slot(7), graph_off);
        if let Some(x) = graph_doc {
            self.fbb.push_slot_always(slot(8), x);
        }
        if let Some(x) = metadata {
            self.fbb.push_slot_always(slot(9), x);
        }
        let model_off = self.fbb.end_table(start);
        let resolver_off = self.resolver(resolver);
        let start = self.fbb.start_table();
        self.fbb.push_slot_always(slot(0), version);
        self.fbb.push_slot_always(slot(1), model_off);
        self.fbb.push_slot_always(slot(3), resolver_off);
        let root = self.fbb.end_table(start);
        self.fbb.finish(root, Some(ORT_FILE_IDENTIFIER));
        Ok(self.fbb.finished_data().to_vec())
    }
}
