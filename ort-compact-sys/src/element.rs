//! Tensor element types: [`ElementType`] (ONNX's codes) and the [`Element`] trait of the Rust
//! types that can be tensor elements.

use std::fmt;

/// A tensor element type, numbered as ONNX's `TensorProto.DataType` (= `ONNXTensorElementDataType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ElementType {
    /// `float` (1)
    F32,
    /// `uint8` (2)
    U8,
    /// `int8` (3)
    I8,
    /// `uint16` (4)
    U16,
    /// `int16` (5)
    I16,
    /// `int32` (6)
    I32,
    /// `int64` (7)
    I64,
    /// `bool` (9)
    Bool,
    /// `double` (11)
    F64,
    /// `uint32` (12)
    U32,
    /// `uint64` (13)
    U64,
    /// Any other code (string, float16, bfloat16, complex, float8, 4-bit…): not supported by the
    /// safe layer's tensors.
    Other(i32),
}

impl ElementType {
    /// From the ONNX code.
    pub fn from_onnx(code: i32) -> Self {
        match code {
            1 => ElementType::F32,
            2 => ElementType::U8,
            3 => ElementType::I8,
            4 => ElementType::U16,
            5 => ElementType::I16,
            6 => ElementType::I32,
            7 => ElementType::I64,
            9 => ElementType::Bool,
            11 => ElementType::F64,
            12 => ElementType::U32,
            13 => ElementType::U64,
            other => ElementType::Other(other),
        }
    }

    /// The ONNX code.
    pub fn onnx(self) -> i32 {
        match self {
            ElementType::F32 => 1,
            ElementType::U8 => 2,
            ElementType::I8 => 3,
            ElementType::U16 => 4,
            ElementType::I16 => 5,
            ElementType::I32 => 6,
            ElementType::I64 => 7,
            ElementType::Bool => 9,
            ElementType::F64 => 11,
            ElementType::U32 => 12,
            ElementType::U64 => 13,
            ElementType::Other(code) => code,
        }
    }

    /// Size of one element in bytes (`None` for unsupported types).
    pub fn size(self) -> Option<usize> {
        Some(match self {
            ElementType::U8 | ElementType::I8 | ElementType::Bool => 1,
            ElementType::U16 | ElementType::I16 => 2,
            ElementType::F32 | ElementType::I32 | ElementType::U32 => 4,
            ElementType::F64 | ElementType::I64 | ElementType::U64 => 8,
            ElementType::Other(_) => return None,
        })
    }

    /// The Rust type name (`"f32"`, …; ONNX's name for unsupported types).
    pub fn rust_name(self) -> &'static str {
        match self {
            ElementType::F32 => "f32",
            ElementType::U8 => "u8",
            ElementType::I8 => "i8",
            ElementType::U16 => "u16",
            ElementType::I16 => "i16",
            ElementType::I32 => "i32",
            ElementType::I64 => "i64",
            ElementType::Bool => "bool",
            ElementType::F64 => "f64",
            ElementType::U32 => "u32",
            ElementType::U64 => "u64",
            ElementType::Other(8) => "string",
            ElementType::Other(10) => "float16",
            ElementType::Other(16) => "bfloat16",
            ElementType::Other(_) => "unsupported",
        }
    }
}

impl fmt::Display for ElementType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ElementType::Other(code) => write!(f, "{} (ONNX type {code})", self.rust_name()),
            _ => f.write_str(self.rust_name()),
        }
    }
}

mod sealed {
    pub trait Sealed {}
}

/// A Rust type that is a tensor element: `f32`, `f64`, `i8`, `i16`, `i32`, `i64`, `u8`, `u16`,
/// `u32`, `u64`, `bool`. Sealed: every implementor is plain data whose every bit pattern ONNX
/// Runtime may read.
pub trait Element: Copy + Send + Sync + fmt::Debug + PartialEq + 'static + sealed::Sealed {
    /// The matching element type.
    const TYPE: ElementType;
    /// Wrap an owned tensor of this type.
    #[doc(hidden)]
    fn into_dyn(t: crate::Tensor<Self>) -> crate::DynTensor;
    /// Unwrap an owned tensor of this type, or give it back.
    #[doc(hidden)]
    fn from_dyn(t: crate::DynTensor) -> Result<crate::Tensor<Self>, crate::DynTensor>;
    /// Borrow a tensor of this type.
    #[doc(hidden)]
    fn ref_dyn(t: &crate::DynTensor) -> Option<&crate::Tensor<Self>>;
    /// Decode one element from its in-memory bytes (native byte order).
    #[doc(hidden)]
    fn read(bytes: &[u8]) -> Self;
}

macro_rules! element {
    ($t:ty, $variant:ident) => {
        impl sealed::Sealed for $t {}
        impl Element for $t {
            const TYPE: ElementType = ElementType::$variant;
            fn into_dyn(t: crate::Tensor<Self>) -> crate::DynTensor {
                crate::DynTensor::$variant(t)
            }
            fn from_dyn(t: crate::DynTensor) -> Result<crate::Tensor<Self>, crate::DynTensor> {
                match t {
                    crate::DynTensor::$variant(t) => Ok(t),
                    other => Err(other),
                }
            }
            fn ref_dyn(t: &crate::DynTensor) -> Option<&crate::Tensor<Self>> {
                match t {
                    crate::DynTensor::$variant(t) => Some(t),
                    _ => None,
                }
            }
            fn read(bytes: &[u8]) -> Self {
                let mut raw = [0u8; std::mem::size_of::<$t>()];
                let n = raw.len().min(bytes.len());
                raw[..n].copy_from_slice(&bytes[..n]);
                <$t>::from_ne_bytes(raw)
            }
        }
    };
}

element!(f32, F32);
element!(f64, F64);
element!(i8, I8);
element!(i16, I16);
element!(i32, I32);
element!(i64, I64);
element!(u8, U8);
element!(u16, U16);
element!(u32, U32);
element!(u64, U64);

impl sealed::Sealed for bool {}
impl Element for bool {
    const TYPE: ElementType = ElementType::Bool;
    fn into_dyn(t: crate::Tensor<Self>) -> crate::DynTensor {
        crate::DynTensor::Bool(t)
    }
    fn from_dyn(t: crate::DynTensor) -> Result<crate::Tensor<Self>, crate::DynTensor> {
        match t {
            crate::DynTensor::Bool(t) => Ok(t),
            other => Err(other),
        }
    }
    fn ref_dyn(t: &crate::DynTensor) -> Option<&crate::Tensor<Self>> {
        match t {
            crate::DynTensor::Bool(t) => Some(t),
            _ => None,
        }
    }
    fn read(bytes: &[u8]) -> Self {
        // Any non-zero byte is true: never materialise an invalid `bool`.
        bytes.first().is_some_and(|b| *b != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for code in 0..=23 {
            assert_eq!(ElementType::from_onnx(code).onnx(), code);
        }
        assert_eq!(ElementType::from_onnx(1), ElementType::F32);
        assert_eq!(<i64 as Element>::TYPE.onnx(), 7);
        assert_eq!(<bool as Element>::TYPE.size(), Some(1));
        assert_eq!(ElementType::Other(8).size(), None);
        assert_eq!(ElementType::Other(8).to_string(), "string (ONNX type 8)");
    }

    #[test]
    fn read_decodes_native_bytes() {
        assert_eq!(f32::read(&1.5f32.to_ne_bytes()), 1.5);
        assert_eq!(i64::read(&(-7i64).to_ne_bytes()), -7);
        assert!(bool::read(&[2]));
        assert!(!bool::read(&[0]));
    }
}
