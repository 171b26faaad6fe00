//! Model readers: ONNX protobuf and ORT-format flatbuffer.
//!
//! - [`onnx`]: `prost` message types of `onnx.proto` (ONNX 1.17); [`OnnxModel`] loads a file.
//! - [`ort`]: verified, zero-copy accessors over `.ort` files; [`OrtModel`] loads a file.
//! - [`ort_schema`]: the `.ort` schema layout (vtable slots, enum values), shared with writers.
//! - [`ModelFile`]: either format, detected from the content.
//! - `scope`: the subgraphs a node holds, the outer values a graph uses.
//! - [`external`]: ONNX tensors with external data.
//! - [`ElementType`]: tensor element types with ONNX codes and ORT's C++ type names.

mod element_type;
mod file;
pub mod onnx;
mod onnx_reader;
pub mod ort;
mod ort_diagnose;
pub mod ort_schema;
mod scope;
mod tensor;

pub use element_type::ElementType;
pub use file::{read_model_file, ModelFile};
pub use onnx_reader::{node_display_name, OnnxModel};
pub use ort::OrtModel;
pub(crate) use scope::{free_vars, subgraphs_of};
pub(crate) use tensor::{
    constant_to_initializer, tensor_bytes, ConstantValue, ModelLocation, STRING,
};
