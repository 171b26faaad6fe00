//! Reader of ORT-format models (`.ort`, flatbuffer, file identifier `ORTM`, format version 6 as
//! written by ONNX Runtime 1.21.0; version 5 is read too, as ORT 1.21 does).
//!
//! [`OrtModel`] owns the file's bytes and verifies the whole buffer once with the `flatbuffers`
//! verifier (every table, vector and string this module reads, with their bounds and UTF-8);
//! after that the hand-written accessors below read fields without further checks. Vtable
//! slots come from [`super::ort_schema`].
//!
//! Not read (and not verified): node edges, runtime optimization records, sparse initializers'
//! contents (only their number) and the deprecated session state; none of them matter for
//! operator analysis.
//!
//! The accessors cover every field read above, whether or not the pipeline needs it today: the
//! fuzz target (`fuzz/`, through the `fuzzing` feature) walks them all over arbitrary bytes.
#![allow(dead_code)]

use super::ort_schema as s;
use crate::error::{Error, Result};
use flatbuffers::{
    Follow, ForwardsUOffset, InvalidFlatbuffer, Table, Vector, Verifiable, Verifier,
    VerifierOptions,
};
use std::fmt;
use std::path::{Path, PathBuf};

type StrVec<'a> = Vector<'a, ForwardsUOffset<&'a str>>;

/// An `N`-byte little-endian scalar read without alignment requirements.
///
/// ORT's C++ verifier only checks vector length words for alignment, and ORT 1.21 writes some
/// `int64` vectors at 4-byte boundaries; the `flatbuffers` crate's verifier would reject them
/// for `i64`. Scalars are therefore verified and read as byte arrays (range-checked only).
#[derive(Clone, Copy, Debug)]
#[repr(transparent)]
pub struct Le<const N: usize>([u8; N]);

impl<const N: usize> flatbuffers::SimpleToVerifyInSlice for Le<N> {}

impl<const N: usize> Verifiable for Le<N> {
    fn run_verifier(v: &mut Verifier, pos: usize) -> VResult {
        v.in_buffer::<Le<N>>(pos)
    }
}

impl<'a, const N: usize> Follow<'a> for Le<N> {
    type Inner = [u8; N];
    #[inline]
    unsafe fn follow(buf: &'a [u8], loc: usize) -> [u8; N] {
        let mut out = [0u8; N];
        if let Some(bytes) = loc.checked_add(N).and_then(|end| buf.get(loc..end)) {
            out.copy_from_slice(bytes);
        }
        out
    }
}

/// Defines a read-only accessor type over one flatbuffer table.
macro_rules! table {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq)]
        pub struct $name<'a> {
            t: Table<'a>,
        }

        impl<'a> Follow<'a> for $name<'a> {
            type Inner = $name<'a>;
            #[inline]
            unsafe fn follow(buf: &'a [u8], loc: usize) -> Self::Inner {
                // SAFETY: forwarded contract of `Follow::follow`.
                Self { t: unsafe { Table::new(buf, loc) } }
            }
        }

        impl fmt::Debug for $name<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}@{}", stringify!($name), self.t.loc())
            }
        }

        #[allow(dead_code)]
        impl<'a> $name<'a> {
            /// Position of the table in the buffer.
            pub fn position(&self) -> usize {
                self.t.loc()
            }
            fn string(&self, slot: u16) -> Option<&'a str> {
                // SAFETY: the buffer was verified with this slot typed as a string.
                unsafe { self.t.get::<ForwardsUOffset<&str>>(slot, None) }
            }
            fn le<const N: usize>(&self, slot: u16) -> Option<[u8; N]> {
                // SAFETY: the buffer was verified with this slot typed as an N-byte scalar.
                unsafe { self.t.get::<Le<N>>(slot, None) }
            }
            fn i64_at(&self, slot: u16, default: i64) -> i64 {
                self.le::<8>(slot).map_or(default, i64::from_le_bytes)
            }
            fn i32_at(&self, slot: u16, default: i32) -> i32 {
                self.le::<4>(slot).map_or(default, i32::from_le_bytes)
            }
            fn u32_at(&self, slot: u16, default: u32) -> u32 {
                self.le::<4>(slot).map_or(default, u32::from_le_bytes)
            }
            fn f32_at(&self, slot: u16, default: f32) -> f32 {
                self.le::<4>(slot).map_or(default, f32::from_le_bytes)
            }
            fn u8_at(&self, slot: u16, default: u8) -> u8 {
                self.le::<1>(slot).map_or(default, |[b]| b)
            }
            fn i8_at(&self, slot: u16, default: i8) -> i8 {
                self.le::<1>(slot).map_or(default, |[b]| i8::from_le_bytes([b]))
            }
            fn le_vec<const N: usize>(&self, slot: u16) -> impl Iterator<Item = [u8; N]> + 'a {
                self.vector::<Le<N>>(slot)
                    .map(|v| v.bytes())
                    .unwrap_or(&[])
                    .chunks_exact(N)
                    .map(|c| {
                        let mut out = [0u8; N];
                        out.copy_from_slice(c);
                        out
                    })
            }
            fn sub<T: Follow<'a, Inner = T> + 'a>(&self, slot: u16) -> Option<T> {
                // SAFETY: the buffer was verified with this slot typed as table `T`.
                unsafe { self.t.get::<ForwardsUOffset<T>>(slot, None) }
            }
            fn vector<T: Follow<'a> + 'a>(&self, slot: u16) -> Option<Vector<'a, T>> {
                // SAFETY: the buffer was verified with this slot typed as a vector of `T`.
                unsafe { self.t.get::<ForwardsUOffset<Vector<'a, T>>>(slot, None) }
            }
            fn tables<T: Follow<'a, Inner = T> + 'a>(
                &self,
                slot: u16,
            ) -> impl ExactSizeIterator<Item = T> + 'a {
                self.vector::<ForwardsUOffset<T>>(slot)
                    .map(|v| v.iter())
                    .into_iter()
                    .flatten()
                    .collect::<Vec<T>>()
                    .into_iter()
            }
            fn string_list(&self, slot: u16) -> Vec<&'a str> {
                self.vector::<ForwardsUOffset<&'a str>>(slot)
                    .map(|v: StrVec<'a>| v.iter().collect())
                    .unwrap_or_default()
            }
        }
    };
}

table!(
    /// `InferenceSession`: the root table.
    InferenceSession
);
table!(
    /// `Model`.
    Model
);
table!(
    /// `Graph`: one (sub)graph.
    Graph
);
table!(
    /// `Node`.
    Node
);
table!(
    /// `ValueInfo`: a node arg (name and type).
    ValueInfo
);
table!(
    /// `TypeInfo`.
    TypeInfo
);
table!(
    /// `TensorTypeAndShape`.
    TensorTypeAndShape
);
table!(
    /// `Shape`.
    Shape
);
table!(
    /// `Dimension`.
    Dimension
);
table!(
    /// `DimensionValue`.
    DimensionValue
);
table!(
    /// `MapType`.
    MapType
);
table!(
    /// `SequenceType`.
    SequenceType
);
table!(
    /// `Attribute`.
    Attribute
);
table!(
    /// `Tensor` (an initializer or attribute tensor).
    Tensor
);
table!(
    /// `OperatorSetId`.
    OperatorSetId
);
table!(
    /// `StringStringEntry`.
    StringStringEntry
);
table!(
    /// `KernelTypeStrResolver`.
    KernelTypeStrResolver
);
table!(
    /// `OpIdKernelTypeStrArgsEntry`: kernel type strings of one operator (`domain:op:since`).
    OpIdKernelTypeStrArgsEntry
);
table!(
    /// `KernelTypeStrArgsEntry`: the arguments that carry one kernel type string.
    KernelTypeStrArgsEntry
);
table!(
    /// `ArgTypeAndIndex`.
    ArgTypeAndIndex
);

// ---- verification ---------------------------------------------------------------------------

pub(super) type VResult = std::result::Result<(), InvalidFlatbuffer>;
type Tables<'a, T> = ForwardsUOffset<Vector<'a, ForwardsUOffset<T>>>;
type Strings<'a> = ForwardsUOffset<Vector<'a, ForwardsUOffset<&'a str>>>;
type Str<'a> = ForwardsUOffset<&'a str>;
type Scalars<'a, T> = ForwardsUOffset<Vector<'a, T>>;

impl Verifiable for InferenceSession<'_> {
    fn run_verifier(v: &mut Verifier, pos: usize) -> VResult {
        use s::inference_session as f;
        v.visit_table(pos)?
            .visit_field::<Str>("ort_version", f::ORT_VERSION, false)?
            .visit_field::<ForwardsUOffset<Model>>("model", f::MODEL, false)?
            .visit_field::<ForwardsUOffset<KernelTypeStrResolver>>(
                "kernel_type_str_resolver",
                f::KERNEL_TYPE_STR_RESOLVER,
                false,
            )?
            .finish();
        Ok(())
    }
}

impl Verifiable for Model<'_> {
    fn run_verifier(v: &mut Verifier, pos: usize) -> VResult {
        use s::model as f;
        v.visit_table(pos)?
            .visit_field::<Le<8>>("ir_version", f::IR_VERSION, false)?
            .visit_field::<Tables<OperatorSetId>>("opset_import", f::OPSET_IMPORT, false)?
            .visit_field::<Str>("producer_name", f::PRODUCER_NAME, false)?
            .visit_field::<Str>("producer_version", f::PRODUCER_VERSION, false)?
            .visit_field::<Str>("domain", f::DOMAIN, false)?
            .visit_field::<Le<8>>("model_version", f::MODEL_VERSION, false)?
            .visit_field::<Str>("doc_string", f::DOC_STRING, false)?
            .visit_field::<ForwardsUOffset<Graph>>("graph", f::GRAPH, false)?
            .visit_field::<Str>("graph_doc_string", f::GRAPH_DOC_STRING, false)?
            .visit_field::<Tables<StringStringEntry>>("metadata_props", f::METADATA_PROPS, false)?
            .finish();
        Ok(())
    }
}

impl Verifiable for Graph<'_> {
    fn run_verifier(v: &mut Verifier, pos: usize) -> VResult {
        use s::graph as f;
        v.visit_table(pos)?
            .visit_field::<Tables<Tensor>>("initializers", f::INITIALIZERS, false)?
            .visit_field::<Tables<ValueInfo>>("node_args", f::NODE_ARGS, false)?
            .visit_field::<Tables<Node>>("nodes", f::NODES, false)?
            .visit_field::<Le<4>>("max_node_index", f::MAX_NODE_INDEX, false)?
            .visit_field::<Strings>("inputs", f::INPUTS, false)?
            .visit_field::<Strings>("outputs", f::OUTPUTS, false)?
            // Only the count is read: the offsets are checked, not the tables behind them.
            .visit_field::<Scalars<Le<4>>>("sparse_initializers", f::SPARSE_INITIALIZERS, false)?
            .finish();
        Ok(())
    }
}

impl Verifiable for Node<'_> {
    fn run_verifier(v: &mut Verifier, pos: usize) -> VResult {
        use s::node as f;
        v.visit_table(pos)?
            .visit_field::<Str>("name", f::NAME, false)?
            .visit_field::<Str>("doc_string", f::DOC_STRING, false)?
            .visit_field::<Str>("domain", f::DOMAIN, false)?
            .visit_field::<Le<4>>("since_version", f::SINCE_VERSION, false)?
            .visit_field::<Le<4>>("index", f::INDEX, false)?
            .visit_field::<Str>("op_type", f::OP_TYPE, false)?
            .visit_field::<Le<4>>("type", f::TYPE, false)?
            .visit_field::<Str>("execution_provider_type", f::EXECUTION_PROVIDER_TYPE, false)?
            .visit_field::<Strings>("inputs", f::INPUTS, false)?
            .visit_field::<Strings>("outputs", f::OUTPUTS, false)?
            .visit_field::<Tables<Attribute>>("attributes", f::ATTRIBUTES, false)?
            .visit_field::<Scalars<Le<4>>>("input_arg_counts", f::INPUT_ARG_COUNTS, false)?
            .visit_field::<Strings>("implicit_inputs", f::IMPLICIT_INPUTS, false)?
            .finish();
        Ok(())
    }
}

impl Verifiable for ValueInfo<'_> {
    fn run_verifier(v: &mut Verifier, pos: usize) -> VResult {
        use s::value_info as f;
        v.visit_table(pos)?
            .visit_field::<Str>("name", f::NAME, false)?
            .visit_field::<Str>("doc_string", f::DOC_STRING, false)?
            .visit_field::<ForwardsUOffset<TypeInfo>>("type", f::TYPE, false)?
            .finish();
        Ok(())
    }
}

impl Verifiable for TypeInfo<'_> {
    fn run_verifier(v: &mut Verifier, pos: usize) -> VResult {
        use s::type_info as f;
        use s::type_info_value as u;
        v.visit_table(pos)?
            .visit_field::<Str>("denotation", f::DENOTATION, false)?
            .visit_union::<u8, _>(
                "value_type",
                f::VALUE_TYPE,
                "value",
                f::VALUE,
                false,
                |key, v, pos| match key {
                    u::TENSOR_TYPE => v
                        .verify_union_variant::<ForwardsUOffset<TensorTypeAndShape>>(
                            "tensor_type",
                            pos,
                        ),
                    u::SEQUENCE_TYPE => v.verify_union_variant::<ForwardsUOffset<SequenceType>>(
                        "sequence_type",
                        pos,
                    ),
                    u::MAP_TYPE => {
                        v.verify_union_variant::<ForwardsUOffset<MapType>>("map_type", pos)
                    }
                    _ => Ok(()),
                },
            )?
            .finish();
        Ok(())
    }
}

impl Verifiable for TensorTypeAndShape<'_> {
    fn run_verifier(v: &mut Verifier, pos: usize) -> VResult {
        use s::tensor_type_and_shape as f;
        v.visit_table(pos)?
            .visit_field::<Le<4>>("elem_type", f::ELEM_TYPE, false)?
            .visit_field::<ForwardsUOffset<Shape>>("shape", f::SHAPE, false)?
            .finish();
        Ok(())
    }
}

impl Verifiable for Shape<'_> {
    fn run_verifier(v: &mut Verifier, pos: usize) -> VResult {
        v.visit_table(pos)?
            .visit_field::<Tables<Dimension>>("dim", s::shape::DIM, false)?
            .finish();
        Ok(())
    }
}

impl Verifiable for Dimension<'_> {
    fn run_verifier(v: &mut Verifier, pos: usize) -> VResult {
        use s::dimension as f;
        v.visit_table(pos)?
            .visit_field::<ForwardsUOffset<DimensionValue>>("value", f::VALUE, false)?
            .visit_field::<Str>("denotation", f::DENOTATION, false)?
            .finish();
        Ok(())
    }
}

impl Verifiable for DimensionValue<'_> {
    fn run_verifier(v: &mut Verifier, pos: usize) -> VResult {
        use s::dimension_value as f;
        v.visit_table(pos)?
            .visit_field::<Le<1>>("dim_type", f::DIM_TYPE, false)?
            .visit_field::<Le<8>>("dim_value", f::DIM_VALUE, false)?
            .visit_field::<Str>("dim_param", f::DIM_PARAM, false)?
            .finish();
        Ok(())
    }
}

impl Verifiable for MapType<'_> {
    fn run_verifier(v: &mut Verifier, pos: usize) -> VResult {
        use s::map_type as f;
        v.visit_table(pos)?
            .visit_field::<Le<4>>("key_type", f::KEY_TYPE, false)?
            .visit_field::<ForwardsUOffset<TypeInfo>>("value_type", f::VALUE_TYPE, false)?
            .finish();
        Ok(())
    }
}

impl Verifiable for SequenceType<'_> {
    fn run_verifier(v: &mut Verifier, pos: usize) -> VResult {
        v.visit_table(pos)?
            .visit_field::<ForwardsUOffset<TypeInfo>>(
                "elem_type",
                s::sequence_type::ELEM_TYPE,
                false,
            )?
            .finish();
        Ok(())
    }
}

impl Verifiable for Attribute<'_> {
    fn run_verifier(v: &mut Verifier, pos: usize) -> VResult {
        use s::attribute as f;
        v.visit_table(pos)?
            .visit_field::<Str>("name", f::NAME, false)?
            .visit_field::<Str>("doc_string", f::DOC_STRING, false)?
            .visit_field::<Le<4>>("type", f::TYPE, false)?
            .visit_field::<Le<4>>("f", f::F, false)?
            .visit_field::<Le<8>>("i", f::I, false)?
            .visit_field::<Str>("s", f::S, false)?
            .visit_field::<ForwardsUOffset<Tensor>>("t", f::T, false)?
            .visit_field::<ForwardsUOffset<Graph>>("g", f::G, false)?
            .visit_field::<Scalars<Le<4>>>("floats", f::FLOATS, false)?
            .visit_field::<Scalars<Le<8>>>("ints", f::INTS, false)?
            .visit_field::<Strings>("strings", f::STRINGS, false)?
            .visit_field::<Tables<Tensor>>("tensors", f::TENSORS, false)?
            .visit_field::<Tables<Graph>>("graphs", f::GRAPHS, false)?
            .finish();
        Ok(())
    }
}

impl Verifiable for Tensor<'_> {
    fn run_verifier(v: &mut Verifier, pos: usize) -> VResult {
        use s::tensor as f;
        v.visit_table(pos)?
            .visit_field::<Str>("name", f::NAME, false)?
            .visit_field::<Str>("doc_string", f::DOC_STRING, false)?
            .visit_field::<Scalars<Le<8>>>("dims", f::DIMS, false)?
            .visit_field::<Le<4>>("data_type", f::DATA_TYPE, false)?
            .visit_field::<Scalars<u8>>("raw_data", f::RAW_DATA, false)?
            .visit_field::<Strings>("string_data", f::STRING_DATA, false)?
            .visit_field::<Le<8>>("external_data_offset", f::EXTERNAL_DATA_OFFSET, false)?
            .finish();
        Ok(())
    }
}

impl Verifiable for OperatorSetId<'_> {
    fn run_verifier(v: &mut Verifier, pos: usize) -> VResult {
        use s::operator_set_id as f;
        v.visit_table(pos)?
            .visit_field::<Str>("domain", f::DOMAIN, false)?
            .visit_field::<Le<8>>("version", f::VERSION, false)?
            .finish();
        Ok(())
    }
}

impl Verifiable for StringStringEntry<'_> {
    fn run_verifier(v: &mut Verifier, pos: usize) -> VResult {
        use s::string_string_entry as f;
        v.visit_table(pos)?
            .visit_field::<Str>("key", f::KEY, false)?
            .visit_field::<Str>("value", f::VALUE, false)?
            .finish();
        Ok(())
    }
}

impl Verifiable for KernelTypeStrResolver<'_> {
    fn run_verifier(v: &mut Verifier, pos: usize) -> VResult {
        v.visit_table(pos)?
            .visit_field::<Tables<OpIdKernelTypeStrArgsEntry>>(
                "op_kernel_type_str_args",
                s::kernel_type_str_resolver::OP_KERNEL_TYPE_STR_ARGS,
                false,
            )?
            .finish();
        Ok(())
    }
}

impl Verifiable for OpIdKernelTypeStrArgsEntry<'_> {
    fn run_verifier(v: &mut Verifier, pos: usize) -> VResult {
        use s::op_id_kernel_type_str_args_entry as f;
        v.visit_table(pos)?
            .visit_field::<Str>("op_id", f::OP_ID, false)?
            .visit_field::<Tables<KernelTypeStrArgsEntry>>(
                "kernel_type_str_args",
                f::KERNEL_TYPE_STR_ARGS,
                false,
            )?
            .finish();
        Ok(())
    }
}

impl Verifiable for KernelTypeStrArgsEntry<'_> {
    fn run_verifier(v: &mut Verifier, pos: usize) -> VResult {
        use s::kernel_type_str_args_entry as f;
        v.visit_table(pos)?
            .visit_field::<Str>("kernel_type_str", f::KERNEL_TYPE_STR, false)?
            .visit_field::<Tables<ArgTypeAndIndex>>("args", f::ARGS, false)?
            .finish();
        Ok(())
    }
}

impl Verifiable for ArgTypeAndIndex<'_> {
    fn run_verifier(v: &mut Verifier, pos: usize) -> VResult {
        use s::arg_type_and_index as f;
        v.visit_table(pos)?
            .visit_field::<Le<1>>("arg_type", f::ARG_TYPE, false)?
            .visit_field::<Le<4>>("index", f::INDEX, false)?
            .finish();
        Ok(())
    }
}

// ---- accessors ------------------------------------------------------------------------------

impl<'a> InferenceSession<'a> {
    /// `ort_version`: the ORT format version as text (`"6"`).
    pub fn ort_version(&self) -> Option<&'a str> {
        self.string(s::inference_session::ORT_VERSION)
    }
    /// The model.
    pub fn model(&self) -> Option<Model<'a>> {
        self.sub(s::inference_session::MODEL)
    }
    /// The kernel-type-string resolver table.
    pub fn kernel_type_str_resolver(&self) -> Option<KernelTypeStrResolver<'a>> {
        self.sub(s::inference_session::KERNEL_TYPE_STR_RESOLVER)
    }
}

impl<'a> Model<'a> {
    /// IR version.
    pub fn ir_version(&self) -> i64 {
        self.i64_at(s::model::IR_VERSION, 0)
    }
    /// Imported opsets.
    pub fn opset_import(&self) -> impl ExactSizeIterator<Item = OperatorSetId<'a>> + 'a {
        self.tables(s::model::OPSET_IMPORT)
    }
    /// Producer name.
    pub fn producer_name(&self) -> Option<&'a str> {
        self.string(s::model::PRODUCER_NAME)
    }
    /// Producer version.
    pub fn producer_version(&self) -> Option<&'a str> {
        self.string(s::model::PRODUCER_VERSION)
    }
    /// Model domain.
    pub fn domain(&self) -> Option<&'a str> {
        self.string(s::model::DOMAIN)
    }
    /// Model version.
    pub fn model_version(&self) -> i64 {
        self.i64_at(s::model::MODEL_VERSION, 0)
    }
    /// Documentation.
    pub fn doc_string(&self) -> Option<&'a str> {
        self.string(s::model::DOC_STRING)
    }
    /// The main graph.
    pub fn graph(&self) -> Option<Graph<'a>> {
        self.sub(s::model::GRAPH)
    }
    /// Metadata.
    pub fn metadata_props(&self) -> impl ExactSizeIterator<Item = StringStringEntry<'a>> + 'a {
        self.tables(s::model::METADATA_PROPS)
    }
}

impl<'a> Graph<'a> {
    /// Initializers.
    pub fn initializers(&self) -> impl ExactSizeIterator<Item = Tensor<'a>> + 'a {
        self.tables(s::graph::INITIALIZERS)
    }
    /// Node args: every value of this graph level with its type.
    pub fn node_args(&self) -> impl ExactSizeIterator<Item = ValueInfo<'a>> + 'a {
        self.tables(s::graph::NODE_ARGS)
    }
    /// Nodes.
    pub fn nodes(&self) -> impl ExactSizeIterator<Item = Node<'a>> + 'a {
        self.tables(s::graph::NODES)
    }
    /// Number of sparse initializers (their contents are not read).
    pub fn sparse_initializer_count(&self) -> usize {
        self.vector::<Le<4>>(s::graph::SPARSE_INITIALIZERS)
            .map_or(0, |v| v.len())
    }
    /// Highest node index + 1 as saved.
    pub fn max_node_index(&self) -> u32 {
        self.u32_at(s::graph::MAX_NODE_INDEX, 0)
    }
    /// Graph input names.
    pub fn inputs(&self) -> Vec<&'a str> {
        self.string_list(s::graph::INPUTS)
    }
    /// Graph output names.
    pub fn outputs(&self) -> Vec<&'a str> {
        self.string_list(s::graph::OUTPUTS)
    }
}

impl<'a> Node<'a> {
    /// Node name.
    pub fn name(&self) -> &'a str {
        self.string(s::node::NAME).unwrap_or("")
    }
    /// Domain as stored (empty for ai.onnx).
    pub fn domain(&self) -> &'a str {
        self.string(s::node::DOMAIN).unwrap_or("")
    }
    /// Since-version of the operator schema the node was resolved to.
    pub fn since_version(&self) -> i32 {
        self.i32_at(s::node::SINCE_VERSION, 0)
    }
    /// Node index in the graph.
    pub fn index(&self) -> u32 {
        self.u32_at(s::node::INDEX, 0)
    }
    /// Operator type (absent in a malformed file).
    pub fn op_type(&self) -> Option<&'a str> {
        self.string(s::node::OP_TYPE)
    }
    /// Node type (0 primitive, 1 fused).
    pub fn node_type(&self) -> i32 {
        self.i32_at(s::node::TYPE, 0)
    }
    /// Execution provider the node was assigned to.
    pub fn execution_provider_type(&self) -> Option<&'a str> {
        self.string(s::node::EXECUTION_PROVIDER_TYPE)
    }
    /// Input names (empty string = omitted optional input).
    pub fn inputs(&self) -> Vec<&'a str> {
        self.string_list(s::node::INPUTS)
    }
    /// Output names.
    pub fn outputs(&self) -> Vec<&'a str> {
        self.string_list(s::node::OUTPUTS)
    }
    /// Implicit inputs (outer-scope values used by subgraphs).
    pub fn implicit_inputs(&self) -> Vec<&'a str> {
        self.string_list(s::node::IMPLICIT_INPUTS)
    }
    /// Input arg counts (for variadic inputs).
    pub fn input_arg_counts(&self) -> Vec<i32> {
        self.le_vec::<4>(s::node::INPUT_ARG_COUNTS)
            .map(i32::from_le_bytes)
            .collect()
    }
    /// Attributes.
    pub fn attributes(&self) -> impl ExactSizeIterator<Item = Attribute<'a>> + 'a {
        self.tables(s::node::ATTRIBUTES)
    }
    /// A name for diagnostics: the node name, or `#index` when unnamed.
    pub fn display_name(&self) -> String {
        match self.name() {
            "" => format!("#{}", self.index()),
            n => n.to_owned(),
        }
    }
}

impl<'a> ValueInfo<'a> {
    /// Value name.
    pub fn name(&self) -> &'a str {
        self.string(s::value_info::NAME).unwrap_or("")
    }
    /// Type, if known.
    pub fn type_info(&self) -> Option<TypeInfo<'a>> {
        self.sub(s::value_info::TYPE)
    }
}

/// The kind of a [`TypeInfo`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TypeValue<'a> {
    /// A tensor.
    Tensor(TensorTypeAndShape<'a>),
    /// A sequence.
    Sequence(SequenceType<'a>),
    /// A map.
    Map(MapType<'a>),
    /// No value, or a union member this reader does not know.
    None,
}

impl<'a> TypeInfo<'a> {
    /// Denotation.
    pub fn denotation(&self) -> Option<&'a str> {
        self.string(s::type_info::DENOTATION)
    }
    /// The type.
    pub fn value(&self) -> TypeValue<'a> {
        use s::type_info_value as u;
        match self.u8_at(s::type_info::VALUE_TYPE, u::NONE) {
            u::TENSOR_TYPE => self
                .sub(s::type_info::VALUE)
                .map_or(TypeValue::None, TypeValue::Tensor),
            u::SEQUENCE_TYPE => self
                .sub(s::type_info::VALUE)
                .map_or(TypeValue::None, TypeValue::Sequence),
            u::MAP_TYPE => self
                .sub(s::type_info::VALUE)
                .map_or(TypeValue::None, TypeValue::Map),
            _ => TypeValue::None,
        }
    }
}

impl<'a> TensorTypeAndShape<'a> {
    /// Element type code.
    pub fn elem_type(&self) -> i32 {
        self.i32_at(s::tensor_type_and_shape::ELEM_TYPE, 0)
    }
    /// Shape, if known.
    pub fn shape(&self) -> Option<Shape<'a>> {
        self.sub(s::tensor_type_and_shape::SHAPE)
    }
}

/// One dimension of a [`Shape`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Dim<'a> {
    /// Fixed size.
    Value(i64),
    /// Symbolic size.
    Param(&'a str),
    /// Unknown.
    Unknown,
}

impl<'a> Shape<'a> {
    /// Dimensions.
    pub fn dims(&self) -> Vec<Dim<'a>> {
        self.tables::<Dimension>(s::shape::DIM)
            .map(|d| match d.sub::<DimensionValue>(s::dimension::VALUE) {
                Some(v) => match v.i8_at(s::dimension_value::DIM_TYPE, 0) {
                    s::dimension_value::TYPE_VALUE => {
                        Dim::Value(v.i64_at(s::dimension_value::DIM_VALUE, 0))
                    }
                    s::dimension_value::TYPE_PARAM => {
                        Dim::Param(v.string(s::dimension_value::DIM_PARAM).unwrap_or(""))
                    }
                    _ => Dim::Unknown,
                },
                None => Dim::Unknown,
            })
            .collect()
    }
}

impl<'a> MapType<'a> {
    /// Key element type code.
    pub fn key_type(&self) -> i32 {
        self.i32_at(s::map_type::KEY_TYPE, 0)
    }
    /// Value type.
    pub fn value_type(&self) -> Option<TypeInfo<'a>> {
        self.sub(s::map_type::VALUE_TYPE)
    }
}

impl<'a> SequenceType<'a> {
    /// Element type.
    pub fn elem_type(&self) -> Option<TypeInfo<'a>> {
        self.sub(s::sequence_type::ELEM_TYPE)
    }
}

impl<'a> Attribute<'a> {
    /// Name.
    pub fn name(&self) -> &'a str {
        self.string(s::attribute::NAME).unwrap_or("")
    }
    /// Type ([`s::attribute_type`]).
    pub fn attr_type(&self) -> i32 {
        self.i32_at(s::attribute::TYPE, 0)
    }
    /// Float value.
    pub fn f(&self) -> f32 {
        self.f32_at(s::attribute::F, 0.0)
    }
    /// Integer value.
    pub fn i(&self) -> i64 {
        self.i64_at(s::attribute::I, 0)
    }
    /// String value.
    pub fn s(&self) -> Option<&'a str> {
        self.string(s::attribute::S)
    }
    /// Tensor value.
    pub fn t(&self) -> Option<Tensor<'a>> {
        self.sub(s::attribute::T)
    }
    /// Graph value.
    pub fn g(&self) -> Option<Graph<'a>> {
        self.sub(s::attribute::G)
    }
    /// Float list.
    pub fn floats(&self) -> Vec<f32> {
        self.le_vec::<4>(s::attribute::FLOATS)
            .map(f32::from_le_bytes)
            .collect()
    }
    /// Integer list.
    pub fn ints(&self) -> Vec<i64> {
        self.le_vec::<8>(s::attribute::INTS)
            .map(i64::from_le_bytes)
            .collect()
    }
    /// String list.
    pub fn strings(&self) -> Vec<&'a str> {
        self.string_list(s::attribute::STRINGS)
    }
    /// Tensor list.
    pub fn tensors(&self) -> impl ExactSizeIterator<Item = Tensor<'a>> + 'a {
        self.tables(s::attribute::TENSORS)
    }
    /// Graph list.
    pub fn graphs(&self) -> impl ExactSizeIterator<Item = Graph<'a>> + 'a {
        self.tables(s::attribute::GRAPHS)
    }
}

impl<'a> Tensor<'a> {
    /// Name.
    pub fn name(&self) -> &'a str {
        self.string(s::tensor::NAME).unwrap_or("")
    }
    /// Dimensions.
    pub fn dims(&self) -> Vec<i64> {
        self.le_vec::<8>(s::tensor::DIMS)
            .map(i64::from_le_bytes)
            .collect()
    }
    /// Element type code.
    pub fn data_type(&self) -> i32 {
        self.i32_at(s::tensor::DATA_TYPE, 0)
    }
    /// Raw little-endian data.
    pub fn raw_data(&self) -> &'a [u8] {
        self.vector::<u8>(s::tensor::RAW_DATA)
            .map(|v| v.bytes())
            .unwrap_or(&[])
    }
    /// String data.
    pub fn string_data(&self) -> Vec<&'a str> {
        self.string_list(s::tensor::STRING_DATA)
    }
    /// Offset of the data in an external file (-1: none).
    pub fn external_data_offset(&self) -> i64 {
        self.i64_at(
            s::tensor::EXTERNAL_DATA_OFFSET,
            s::tensor::EXTERNAL_DATA_OFFSET_DEFAULT,
        )
    }
}

impl<'a> OperatorSetId<'a> {
    /// Domain.
    pub fn domain(&self) -> &'a str {
        self.string(s::operator_set_id::DOMAIN).unwrap_or("")
    }
    /// Version.
    pub fn version(&self) -> i64 {
        self.i64_at(s::operator_set_id::VERSION, 0)
    }
}

impl<'a> StringStringEntry<'a> {
    /// Key.
    pub fn key(&self) -> &'a str {
        self.string(s::string_string_entry::KEY).unwrap_or("")
    }
    /// Value.
    pub fn value(&self) -> &'a str {
        self.string(s::string_string_entry::VALUE).unwrap_or("")
    }
}

/// Where a kernel type string's type comes from: an input or output index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ArgRef {
    /// Input `n`.
    Input(u32),
    /// Output `n`.
    Output(u32),
}

impl<'a> KernelTypeStrResolver<'a> {
    /// Entries per operator.
    pub fn entries(&self) -> impl ExactSizeIterator<Item = OpIdKernelTypeStrArgsEntry<'a>> + 'a {
        self.tables(s::kernel_type_str_resolver::OP_KERNEL_TYPE_STR_ARGS)
    }

    /// The arguments that carry kernel type string `type_str` of operator `op_id`
    /// (`domain:op_type:since_version`, domain as stored, e.g. empty for ai.onnx).
    pub fn resolve(&self, op_id: &str, type_str: &str) -> Option<Vec<ArgRef>> {
        let op = self.entries().find(|e| e.op_id() == op_id)?;
        let entry = op.type_strs().find(|e| e.kernel_type_str() == type_str)?;
        Some(entry.args())
    }
}

impl<'a> OpIdKernelTypeStrArgsEntry<'a> {
    /// `domain:op_type:since_version`.
    pub fn op_id(&self) -> &'a str {
        self.string(s::op_id_kernel_type_str_args_entry::OP_ID)
            .unwrap_or("")
    }
    /// Kernel type strings of the operator.
    pub fn type_strs(&self) -> impl ExactSizeIterator<Item = KernelTypeStrArgsEntry<'a>> + 'a {
        self.tables(s::op_id_kernel_type_str_args_entry::KERNEL_TYPE_STR_ARGS)
    }
}

impl<'a> KernelTypeStrArgsEntry<'a> {
    /// The kernel type string (e.g. `T`).
    pub fn kernel_type_str(&self) -> &'a str {
        self.string(s::kernel_type_str_args_entry::KERNEL_TYPE_STR)
            .unwrap_or("")
    }
    /// The arguments.
    pub fn args(&self) -> Vec<ArgRef> {
        self.tables::<ArgTypeAndIndex>(s::kernel_type_str_args_entry::ARGS)
            .map(|a| {
                let index = a.u32_at(s::arg_type_and_index::INDEX, 0);
                match a.i8_at(s::arg_type_and_index::ARG_TYPE, 0) {
                    s::arg_type_and_index::OUTPUT => ArgRef::Output(index),
                    _ => ArgRef::Input(index),
                }
            })
            .collect()
    }
}

// ---- the model file -------------------------------------------------------------------------

/// A verified ORT-format model in memory.
pub struct OrtModel {
    path: PathBuf,
    bytes: Vec<u8>,
}

impl fmt::Debug for OrtModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OrtModel")
            .field("path", &self.path)
            .field("len", &self.bytes.len())
            .finish()
    }
}

/// True when `bytes` carry the ORT-format file identifier (`ORTM` at offset 4).
pub fn has_ort_identifier(bytes: &[u8]) -> bool {
    bytes.get(4..8) == Some(s::FILE_IDENTIFIER.as_bytes())
}

pub(super) fn verifier_options(len: usize) -> VerifierOptions {
    VerifierOptions {
        // Subgraphs nest tables deeply (Graph → Node → Attribute → Graph …).
        max_depth: 512,
        // Every table takes at least 4 bytes; more visits mean shared (DAG) tables.
        max_tables: len / 4 + 64,
        ..VerifierOptions::default()
    }
}

impl OrtModel {
    /// Reads and verifies an `.ort` file.
    pub fn load(path: &Path) -> Result<OrtModel> {
        let bytes = super::read_model_file(path)?;
        OrtModel::from_bytes(bytes, path)
    }

    /// Verifies `bytes` as an ORT-format model; `path` is used in error messages.
    pub fn from_bytes(bytes: Vec<u8>, path: impl Into<PathBuf>) -> Result<OrtModel> {
        let path = path.into();
        let invalid = |reason: String| Error::InvalidOrtFormat {
            path: path.clone(),
            reason,
        };
        if bytes.is_empty() {
            return Err(Error::EmptyModel { path });
        }
        if bytes.len() < 8 || !has_ort_identifier(&bytes) {
            return Err(invalid(format!(
                "file identifier '{}' not found at byte 4 (not an ORT flatbuffer)",
                s::FILE_IDENTIFIER
            )));
        }
        let opts = verifier_options(bytes.len());
        let session = match flatbuffers::root_with_opts::<InferenceSession>(&opts, &bytes) {
            Ok(session) => session,
            Err(e) => {
                if let Some((node, reason)) = super::ort_diagnose::diagnose(&bytes) {
                    return Err(Error::InvalidNode { path, node, reason });
                }
                return Err(invalid(format!(
                    "flatbuffer verification failed (truncated or corrupt file?): {e}"
                )));
            }
        };
        let version = session
            .ort_version()
            .ok_or_else(|| invalid("the ORT format version (ort_version) is missing".into()))?;
        if !s::SUPPORTED_FORMAT_VERSIONS.contains(&version) {
            return Err(Error::OrtFormatVersion {
                path,
                found: version.to_owned(),
                expected: s::SUPPORTED_FORMAT_VERSIONS.join(" or "),
            });
        }
        let model = session
            .model()
            .ok_or_else(|| invalid("the file contains no model".into()))?;
        if model.graph().is_none() {
            return Err(invalid("the model has no graph".into()));
        }
        Ok(OrtModel { path, bytes })
    }

    /// The file this model came from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The raw bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The root table.
    pub fn session(&self) -> InferenceSession<'_> {
        // SAFETY: `from_bytes` verified the buffer with `root_with_opts::<InferenceSession>`.
        unsafe { flatbuffers::root_unchecked::<InferenceSession>(&self.bytes) }
    }

    /// The format version (`"5"` or `"6"`).
    pub fn format_version(&self) -> &str {
        self.session().ort_version().unwrap_or("")
    }

    /// The model table (checked present at load).
    pub fn model(&self) -> Option<Model<'_>> {
        self.session().model()
    }

    /// The main graph (checked present at load).
    pub fn graph(&self) -> Option<Graph<'_>> {
        self.model().and_then(|m| m.graph())
    }
}
