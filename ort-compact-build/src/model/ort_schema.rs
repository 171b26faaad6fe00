//! Layout of ORT's flatbuffer schema (`onnxruntime/core/flatbuffers/schema/ort.fbs`, ORT 1.21,
//! format version 6): vtable slots of every table field and the enum values.
//!
//! A table field with id `n` lives at vtable slot `4 + 2 * n` ([`slot`]). A union field takes two
//! ids: `<name>_type` (a `u8` discriminant) and then the value. Deprecated fields keep their id.
//! Readers ([`crate::model::ort`]) and writers of `.ort` files share these constants; the
//! table is complete (each field of the schema, used or not) so it can be checked against
//! `ort.fbs` line by line.
#![allow(dead_code)]

use flatbuffers::VOffsetT;

/// The 4-byte file identifier of ORT-format models.
pub const FILE_IDENTIFIER: &str = "ORTM";
/// The ORT format version ONNX Runtime 1.21.0 writes (`InferenceSession.ort_version`).
pub const FORMAT_VERSION: &str = "6";
/// Format versions ONNX Runtime 1.21.0 (minimal build) reads.
pub const SUPPORTED_FORMAT_VERSIONS: [&str; 2] = ["5", "6"];

/// The vtable slot of the field with id `field_id`.
pub const fn slot(field_id: u16) -> VOffsetT {
    4 + 2 * field_id
}

/// `table InferenceSession` (root type).
pub mod inference_session {
    use super::{slot, VOffsetT};
    /// `ort_version: string` — the format version as decimal text.
    pub const ORT_VERSION: VOffsetT = slot(0);
    /// `model: Model`.
    pub const MODEL: VOffsetT = slot(1);
    /// `session_state: DeprecatedSessionState` (deprecated, never written).
    pub const SESSION_STATE: VOffsetT = slot(2);
    /// `kernel_type_str_resolver: KernelTypeStrResolver`.
    pub const KERNEL_TYPE_STR_RESOLVER: VOffsetT = slot(3);
}

/// `table Model`.
pub mod model {
    use super::{slot, VOffsetT};
    /// `ir_version: int64`.
    pub const IR_VERSION: VOffsetT = slot(0);
    /// `opset_import: [OperatorSetId]`.
    pub const OPSET_IMPORT: VOffsetT = slot(1);
    /// `producer_name: string`.
    pub const PRODUCER_NAME: VOffsetT = slot(2);
    /// `producer_version: string`.
    pub const PRODUCER_VERSION: VOffsetT = slot(3);
    /// `domain: string`.
    pub const DOMAIN: VOffsetT = slot(4);
    /// `model_version: int64`.
    pub const MODEL_VERSION: VOffsetT = slot(5);
    /// `doc_string: string`.
    pub const DOC_STRING: VOffsetT = slot(6);
    /// `graph: Graph`.
    pub const GRAPH: VOffsetT = slot(7);
    /// `graph_doc_string: string`.
    pub const GRAPH_DOC_STRING: VOffsetT = slot(8);
    /// `metadata_props: [StringStringEntry]`.
    pub const METADATA_PROPS: VOffsetT = slot(9);
}

/// `table Graph`.
pub mod graph {
    use super::{slot, VOffsetT};
    /// `initializers: [Tensor]`.
    pub const INITIALIZERS: VOffsetT = slot(0);
    /// `node_args: [ValueInfo]`.
    pub const NODE_ARGS: VOffsetT = slot(1);
    /// `nodes: [Node]`.
    pub const NODES: VOffsetT = slot(2);
    /// `max_node_index: uint32`.
    pub const MAX_NODE_INDEX: VOffsetT = slot(3);
    /// `node_edges: [NodeEdge]`.
    pub const NODE_EDGES: VOffsetT = slot(4);
    /// `inputs: [string]`.
    pub const INPUTS: VOffsetT = slot(5);
    /// `outputs: [string]`.
    pub const OUTPUTS: VOffsetT = slot(6);
    /// `sparse_initializers: [SparseTensor]`.
    pub const SPARSE_INITIALIZERS: VOffsetT = slot(7);
    /// `runtime_optimizations: RuntimeOptimizations`.
    pub const RUNTIME_OPTIMIZATIONS: VOffsetT = slot(8);
}

/// `table Node`.
pub mod node {
    use super::{slot, VOffsetT};
    /// `name: string`.
    pub const NAME: VOffsetT = slot(0);
    /// `doc_string: string`.
    pub const DOC_STRING: VOffsetT = slot(1);
    /// `domain: string`.
    pub const DOMAIN: VOffsetT = slot(2);
    /// `since_version: int32`.
    pub const SINCE_VERSION: VOffsetT = slot(3);
    /// `index: uint32`.
    pub const INDEX: VOffsetT = slot(4);
    /// `op_type: string`.
    pub const OP_TYPE: VOffsetT = slot(5);
    /// `type: NodeType`.
    pub const TYPE: VOffsetT = slot(6);
    /// `execution_provider_type: string`.
    pub const EXECUTION_PROVIDER_TYPE: VOffsetT = slot(7);
    /// `inputs: [string]`.
    pub const INPUTS: VOffsetT = slot(8);
    /// `outputs: [string]`.
    pub const OUTPUTS: VOffsetT = slot(9);
    /// `attributes: [Attribute]`.
    pub const ATTRIBUTES: VOffsetT = slot(10);
    /// `input_arg_counts: [int32]`.
    pub const INPUT_ARG_COUNTS: VOffsetT = slot(11);
    /// `implicit_inputs: [string]`.
    pub const IMPLICIT_INPUTS: VOffsetT = slot(12);
}

/// `table NodeEdge`.
pub mod node_edge {
    use super::{slot, VOffsetT};
    /// `node_index: uint32`.
    pub const NODE_INDEX: VOffsetT = slot(0);
    /// `input_edges: [EdgeEnd]`.
    pub const INPUT_EDGES: VOffsetT = slot(1);
    /// `output_edges: [EdgeEnd]`.
    pub const OUTPUT_EDGES: VOffsetT = slot(2);
    /// Size in bytes of `struct EdgeEnd { node_index: uint32; src_arg_index: int32;
    /// dst_arg_index: int32; }` (alignment 4).
    pub const EDGE_END_SIZE: usize = 12;
}

/// `table ValueInfo`.
pub mod value_info {
    use super::{slot, VOffsetT};
    /// `name: string`.
    pub const NAME: VOffsetT = slot(0);
    /// `doc_string: string`.
    pub const DOC_STRING: VOffsetT = slot(1);
    /// `type: TypeInfo`.
    pub const TYPE: VOffsetT = slot(2);
}

/// `table TypeInfo`.
pub mod type_info {
    use super::{slot, VOffsetT};
    /// `denotation: string`.
    pub const DENOTATION: VOffsetT = slot(0);
    /// `value_type: TypeInfoValue` (union discriminant, `u8`).
    pub const VALUE_TYPE: VOffsetT = slot(1);
    /// `value: TypeInfoValue` (union value).
    pub const VALUE: VOffsetT = slot(2);
}

/// `union TypeInfoValue` discriminants.
pub mod type_info_value {
    /// No value.
    pub const NONE: u8 = 0;
    /// `TensorTypeAndShape`.
    pub const TENSOR_TYPE: u8 = 1;
    /// `SequenceType`.
    pub const SEQUENCE_TYPE: u8 = 2;
    /// `MapType`.
    pub const MAP_TYPE: u8 = 3;
}

/// `table TensorTypeAndShape`.
pub mod tensor_type_and_shape {
    use super::{slot, VOffsetT};
    /// `elem_type: TensorDataType` (int32).
    pub const ELEM_TYPE: VOffsetT = slot(0);
    /// `shape: Shape`.
    pub const SHAPE: VOffsetT = slot(1);
}

/// `table MapType`.
pub mod map_type {
    use super::{slot, VOffsetT};
    /// `key_type: TensorDataType` (int32).
    pub const KEY_TYPE: VOffsetT = slot(0);
    /// `value_type: TypeInfo`.
    pub const VALUE_TYPE: VOffsetT = slot(1);
}

/// `table SequenceType`.
pub mod sequence_type {
    use super::{slot, VOffsetT};
    /// `elem_type: TypeInfo`.
    pub const ELEM_TYPE: VOffsetT = slot(0);
}

/// `table Shape`.
pub mod shape {
    use super::{slot, VOffsetT};
    /// `dim: [Dimension]`.
    pub const DIM: VOffsetT = slot(0);
}

/// `table Dimension`.
pub mod dimension {
    use super::{slot, VOffsetT};
    /// `value: DimensionValue`.
    pub const VALUE: VOffsetT = slot(0);
    /// `denotation: string`.
    pub const DENOTATION: VOffsetT = slot(1);
}

/// `table DimensionValue`.
pub mod dimension_value {
    use super::{slot, VOffsetT};
    /// `dim_type: DimensionValueType` (int8: 0 unknown, 1 value, 2 param).
    pub const DIM_TYPE: VOffsetT = slot(0);
    /// `dim_value: int64`.
    pub const DIM_VALUE: VOffsetT = slot(1);
    /// `dim_param: string`.
    pub const DIM_PARAM: VOffsetT = slot(2);
    /// `DimensionValueType.UNKNOWN`.
    pub const TYPE_UNKNOWN: i8 = 0;
    /// `DimensionValueType.VALUE`.
    pub const TYPE_VALUE: i8 = 1;
    /// `DimensionValueType.PARAM`.
    pub const TYPE_PARAM: i8 = 2;
}

/// `table OperatorSetId`.
pub mod operator_set_id {
    use super::{slot, VOffsetT};
    /// `domain: string`.
    pub const DOMAIN: VOffsetT = slot(0);
    /// `version: int64`.
    pub const VERSION: VOffsetT = slot(1);
}

/// `table Tensor`.
pub mod tensor {
    use super::{slot, VOffsetT};
    /// `name: string`.
    pub const NAME: VOffsetT = slot(0);
    /// `doc_string: string`.
    pub const DOC_STRING: VOffsetT = slot(1);
    /// `dims: [int64]`.
    pub const DIMS: VOffsetT = slot(2);
    /// `data_type: TensorDataType` (int32).
    pub const DATA_TYPE: VOffsetT = slot(3);
    /// `raw_data: [uint8]`.
    pub const RAW_DATA: VOffsetT = slot(4);
    /// `string_data: [string]`.
    pub const STRING_DATA: VOffsetT = slot(5);
    /// `external_data_offset: int64 = -1` (offset into an external data file; -1 = none).
    pub const EXTERNAL_DATA_OFFSET: VOffsetT = slot(6);
    /// Default of `external_data_offset`.
    pub const EXTERNAL_DATA_OFFSET_DEFAULT: i64 = -1;
}

/// `table SparseTensor`.
pub mod sparse_tensor {
    use super::{slot, VOffsetT};
    /// `values: Tensor`.
    pub const VALUES: VOffsetT = slot(0);
    /// `indices: Tensor`.
    pub const INDICES: VOffsetT = slot(1);
    /// `dims: [int64]`.
    pub const DIMS: VOffsetT = slot(2);
}

/// `table Attribute`.
pub mod attribute {
    use super::{slot, VOffsetT};
    /// `name: string`.
    pub const NAME: VOffsetT = slot(0);
    /// `doc_string: string`.
    pub const DOC_STRING: VOffsetT = slot(1);
    /// `type: AttributeType` (int32, see [`super::attribute_type`]).
    pub const TYPE: VOffsetT = slot(2);
    /// `f: float32`.
    pub const F: VOffsetT = slot(3);
    /// `i: int64`.
    pub const I: VOffsetT = slot(4);
    /// `s: string`.
    pub const S: VOffsetT = slot(5);
    /// `t: Tensor`.
    pub const T: VOffsetT = slot(6);
    /// `g: Graph`.
    pub const G: VOffsetT = slot(7);
    /// `floats: [float32]`.
    pub const FLOATS: VOffsetT = slot(8);
    /// `ints: [int64]`.
    pub const INTS: VOffsetT = slot(9);
    /// `strings: [string]`.
    pub const STRINGS: VOffsetT = slot(10);
    /// `tensors: [Tensor]`.
    pub const TENSORS: VOffsetT = slot(11);
    /// `graphs: [Graph]`.
    pub const GRAPHS: VOffsetT = slot(12);
}

/// `enum AttributeType : int32` values (the same numbers as ONNX's).
pub mod attribute_type {
    /// Not set.
    pub const UNDEFINED: i32 = 0;
    /// `f`.
    pub const FLOAT: i32 = 1;
    /// `i`.
    pub const INT: i32 = 2;
    /// `s`.
    pub const STRING: i32 = 3;
    /// `t`.
    pub const TENSOR: i32 = 4;
    /// `g`.
    pub const GRAPH: i32 = 5;
    /// `floats`.
    pub const FLOATS: i32 = 6;
    /// `ints`.
    pub const INTS: i32 = 7;
    /// `strings`.
    pub const STRINGS: i32 = 8;
    /// `tensors`.
    pub const TENSORS: i32 = 9;
    /// `graphs`.
    pub const GRAPHS: i32 = 10;
    /// Sparse tensor (no field in the ORT schema).
    pub const SPARSE_TENSOR: i32 = 11;
    /// Sparse tensors (no field in the ORT schema).
    pub const SPARSE_TENSORS: i32 = 12;
}

/// `enum NodeType : int32` values.
pub mod node_type {
    /// A regular node.
    pub const PRIMITIVE: i32 = 0;
    /// A fused node.
    pub const FUSED: i32 = 1;
}

/// `table NodesToOptimizeIndices`.
pub mod nodes_to_optimize_indices {
    use super::{slot, VOffsetT};
    /// `node_indices: [uint32]`.
    pub const NODE_INDICES: VOffsetT = slot(0);
    /// `num_inputs: uint32`.
    pub const NUM_INPUTS: VOffsetT = slot(1);
    /// `num_outputs: uint32`.
    pub const NUM_OUTPUTS: VOffsetT = slot(2);
    /// `has_variadic_input: bool`.
    pub const HAS_VARIADIC_INPUT: VOffsetT = slot(3);
    /// `has_variadic_output: bool`.
    pub const HAS_VARIADIC_OUTPUT: VOffsetT = slot(4);
    /// `num_variadic_inputs: uint32`.
    pub const NUM_VARIADIC_INPUTS: VOffsetT = slot(5);
    /// `num_variadic_outputs: uint32`.
    pub const NUM_VARIADIC_OUTPUTS: VOffsetT = slot(6);
}

/// `table RuntimeOptimizationRecord`.
pub mod runtime_optimization_record {
    use super::{slot, VOffsetT};
    /// `action_id: string`.
    pub const ACTION_ID: VOffsetT = slot(0);
    /// `nodes_to_optimize_indices: NodesToOptimizeIndices`.
    pub const NODES_TO_OPTIMIZE_INDICES: VOffsetT = slot(1);
    /// `produced_nodes` (deprecated).
    pub const PRODUCED_NODES: VOffsetT = slot(2);
    /// `produced_op_ids: [string]`.
    pub const PRODUCED_OP_IDS: VOffsetT = slot(3);
}

/// `table RuntimeOptimizationRecordContainerEntry`.
pub mod runtime_optimization_record_container_entry {
    use super::{slot, VOffsetT};
    /// `optimizer_name: string (key)`.
    pub const OPTIMIZER_NAME: VOffsetT = slot(0);
    /// `runtime_optimization_records: [RuntimeOptimizationRecord]`.
    pub const RUNTIME_OPTIMIZATION_RECORDS: VOffsetT = slot(1);
}

/// `table RuntimeOptimizations`.
pub mod runtime_optimizations {
    use super::{slot, VOffsetT};
    /// `records: [RuntimeOptimizationRecordContainerEntry]`.
    pub const RECORDS: VOffsetT = slot(0);
}

/// `table StringStringEntry`.
pub mod string_string_entry {
    use super::{slot, VOffsetT};
    /// `key: string`.
    pub const KEY: VOffsetT = slot(0);
    /// `value: string`.
    pub const VALUE: VOffsetT = slot(1);
}

/// `table ArgTypeAndIndex`.
pub mod arg_type_and_index {
    use super::{slot, VOffsetT};
    /// `arg_type: ArgType` (int8: 0 input, 1 output).
    pub const ARG_TYPE: VOffsetT = slot(0);
    /// `index: uint32`.
    pub const INDEX: VOffsetT = slot(1);
    /// `ArgType.INPUT`.
    pub const INPUT: i8 = 0;
    /// `ArgType.OUTPUT`.
    pub const OUTPUT: i8 = 1;
}

/// `table KernelTypeStrArgsEntry`.
pub mod kernel_type_str_args_entry {
    use super::{slot, VOffsetT};
    /// `kernel_type_str: string (key)`.
    pub const KERNEL_TYPE_STR: VOffsetT = slot(0);
    /// `args: [ArgTypeAndIndex]`.
    pub const ARGS: VOffsetT = slot(1);
}

/// `table OpIdKernelTypeStrArgsEntry`.
pub mod op_id_kernel_type_str_args_entry {
    use super::{slot, VOffsetT};
    /// `op_id: string (key)` — `domain:op_type:since_version`.
    pub const OP_ID: VOffsetT = slot(0);
    /// `kernel_type_str_args: [KernelTypeStrArgsEntry]`.
    pub const KERNEL_TYPE_STR_ARGS: VOffsetT = slot(1);
}

/// `table KernelTypeStrResolver`.
pub mod kernel_type_str_resolver {
    use super::{slot, VOffsetT};
    /// `op_kernel_type_str_args: [OpIdKernelTypeStrArgsEntry]`.
    pub const OP_KERNEL_TYPE_STR_ARGS: VOffsetT = slot(0);
}

#[cfg(test)]
mod tests {
    #[test]
    fn slots() {
        assert_eq!(super::slot(0), 4);
        assert_eq!(super::inference_session::KERNEL_TYPE_STR_RESOLVER, 10);
        assert_eq!(super::node::IMPLICIT_INPUTS, 28);
        assert_eq!(super::runtime_optimization_record::PRODUCED_OP_IDS, 10);
        assert_eq!(super::type_info::VALUE, 8);
    }
}
