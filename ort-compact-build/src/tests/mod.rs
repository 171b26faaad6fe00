//! Tests of the pipeline's stages that need more than one module or real data: the oracle
//! corpus (Python onnxruntime 1.21.0), real ONNX Runtime sources, real emcc and node. They live
//! inside the crate because they check internals that are not part of the public API.

pub(crate) mod support;

mod convert_data;
mod convert_errors;
mod deploy;
mod e2e_runtime;
mod ops_errors;
mod ops_families;
mod ops_oracle;
mod optimize_e2e;
mod reduce_behaviour;
mod reduce_oracle;
mod verify_model;
