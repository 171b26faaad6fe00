//! [`Error`]: everything that can go wrong, as values (the safe layer never panics on input).

use crate::element::ElementType;
use std::fmt;

/// Result of every fallible call in this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An ONNX Runtime status code (`OrtErrorCode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// `ORT_FAIL`
    Fail,
    /// `ORT_INVALID_ARGUMENT`
    InvalidArgument,
    /// `ORT_NO_SUCHFILE`
    NoSuchFile,
    /// `ORT_NO_MODEL`
    NoModel,
    /// `ORT_ENGINE_ERROR`
    EngineError,
    /// `ORT_RUNTIME_EXCEPTION`
    RuntimeException,
    /// `ORT_INVALID_PROTOBUF`
    InvalidProtobuf,
    /// `ORT_MODEL_LOADED`
    ModelLoaded,
    /// `ORT_NOT_IMPLEMENTED`
    NotImplemented,
    /// `ORT_INVALID_GRAPH`
    InvalidGraph,
    /// `ORT_EP_FAIL`
    EpFail,
    /// Any other value.
    Other(u32),
}

impl ErrorCode {
    /// From the numeric `OrtErrorCode`.
    pub fn from_raw(code: u32) -> Self {
        match code {
            1 => ErrorCode::Fail,
            2 => ErrorCode::InvalidArgument,
            3 => ErrorCode::NoSuchFile,
            4 => ErrorCode::NoModel,
            5 => ErrorCode::EngineError,
            6 => ErrorCode::RuntimeException,
            7 => ErrorCode::InvalidProtobuf,
            8 => ErrorCode::ModelLoaded,
            9 => ErrorCode::NotImplemented,
            10 => ErrorCode::InvalidGraph,
            11 => ErrorCode::EpFail,
            other => ErrorCode::Other(other),
        }
    }
}

/// Why a call failed.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// ONNX Runtime returned an error status; `message` is its text.
    Ort {
        /// Status code.
        code: ErrorCode,
        /// ONNX Runtime's message.
        message: String,
    },
    /// No ONNX Runtime is linked for this target (see the crate docs, feature `host-runtime`).
    NoRuntime,
    /// The linked runtime does not provide the C API version these bindings were made for.
    ApiVersion {
        /// The requested `ORT_API_VERSION`.
        requested: u32,
    },
    /// The model bytes are not an ORT-format model.
    NotOrtFormat {
        /// What the bytes look like instead.
        reason: String,
    },
    /// A name passed to ONNX Runtime contains a NUL byte.
    NulInName(String),
    /// A tensor shape has a negative dimension or its element count overflows.
    InvalidShape {
        /// The shape.
        shape: Vec<i64>,
        /// What is wrong.
        reason: String,
    },
    /// The data length does not match the element count of the shape.
    DataLength {
        /// The shape.
        shape: Vec<i64>,
        /// Elements the shape holds.
        expected: usize,
        /// Elements given.
        actual: usize,
    },
    /// An input name the model does not have.
    UnknownInput {
        /// The name given.
        name: String,
        /// The model's input names.
        known: Vec<String>,
    },
    /// An output name the model does not have.
    UnknownOutput {
        /// The name given.
        name: String,
        /// The model's output names.
        known: Vec<String>,
    },
    /// The same input given twice.
    DuplicateInput(String),
    /// Inputs the model needs but the call did not give.
    MissingInputs {
        /// Inputs given.
        given: usize,
        /// Inputs the model has.
        expected: usize,
        /// Names of the missing inputs.
        missing: Vec<String>,
    },
    /// An input or output has another element type than expected.
    ElementType {
        /// Input or output name.
        name: String,
        /// The element type the model (or the caller) expects.
        expected: ElementType,
        /// The element type found.
        actual: ElementType,
    },
    /// An input has another rank than the model declares.
    Rank {
        /// Input name.
        name: String,
        /// The model's rank.
        expected: usize,
        /// The given shape.
        shape: Vec<i64>,
    },
    /// A fixed dimension of an input differs from the model's.
    Dimension {
        /// Input name.
        name: String,
        /// Axis.
        axis: usize,
        /// The model's size of that axis.
        expected: i64,
        /// The given shape.
        shape: Vec<i64>,
    },
    /// An element type the safe layer does not handle (strings, float16, …).
    UnsupportedElementType {
        /// Input or output name.
        name: String,
        /// The type.
        element_type: ElementType,
    },
    /// An output that is not a tensor (sequence, map, …).
    NotATensor(String),
    /// The model's inputs or outputs are not the ones generated code was made for.
    Signature {
        /// What the code expects, e.g. `inputs [x: f32]`.
        expected: String,
        /// What the model has.
        actual: String,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Ort { code, message } => write!(f, "ONNX Runtime error ({code:?}): {message}"),
            Error::NoRuntime => write!(
                f,
                "no ONNX Runtime is linked for this target: ort-compact-sys uses the runtime that \
                 ort_compact_build::Builder links into wasm32-unknown-emscripten programs (enable \
                 the `host-runtime` feature if you link ONNX Runtime 1.21 for this target yourself)"
            ),
            Error::ApiVersion { requested } => write!(
                f,
                "the linked ONNX Runtime does not provide C API version {requested}; link the \
                 ONNX Runtime 1.21.0 library built by ort-compact-build"
            ),
            Error::NotOrtFormat { reason } => write!(
                f,
                "the model bytes are not an ORT-format model ({reason}); convert the .onnx file \
                 with `ort-compact convert` or use the .ort file ort_compact_build::Builder wrote"
            ),
            Error::NulInName(n) => write!(f, "the name {n:?} contains a NUL byte"),
            Error::InvalidShape { shape, reason } => {
                write!(f, "invalid tensor shape {shape:?}: {reason}")
            }
            Error::DataLength {
                shape,
                expected,
                actual,
            } => write!(
                f,
                "tensor data has {actual} element(s) but shape {shape:?} needs {expected}"
            ),
            Error::UnknownInput { name, known } => write!(
                f,
                "the model has no input named {name:?}; its inputs are {known:?}"
            ),
            Error::UnknownOutput { name, known } => write!(
                f,
                "the model has no output named {name:?}; its outputs are {known:?}"
            ),
            Error::DuplicateInput(n) => write!(f, "input {n:?} is given more than once"),
            Error::MissingInputs {
                given,
                expected,
                missing,
            } => write!(
                f,
                "the model has {expected} input(s) but {given} were given; missing: {missing:?}"
            ),
            Error::ElementType {
                name,
                expected,
                actual,
            } => write!(
                f,
                "{name:?} has element type {actual}, but {expected} is expected"
            ),
            Error::Rank {
                name,
                expected,
                shape,
            } => write!(
                f,
                "input {name:?} has shape {shape:?} (rank {}), but the model expects rank {expected}",
                shape.len()
            ),
            Error::Dimension {
                name,
                axis,
                expected,
                shape,
            } => write!(
                f,
                "input {name:?} has shape {shape:?}, but the model fixes axis {axis} to {expected}"
            ),
            Error::UnsupportedElementType { name, element_type } => write!(
                f,
                "{name:?} has element type {element_type}, which ort-compact-sys does not support \
                 (supported: f32, f64, i8, i16, i32, i64, u8, u16, u32, u64, bool)"
            ),
            Error::NotATensor(n) => write!(
                f,
                "output {n:?} is not a tensor (sequences and maps are not supported)"
            ),
            Error::Signature { expected, actual } => write!(
                f,
                "the model does not match the generated code: expected {expected}, the model has \
                 {actual} (regenerate the code for this model)"
            ),
        }
    }
}

impl std::error::Error for Error {}
