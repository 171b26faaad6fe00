//! Tensor element types, shared crate-wide.
//!
//! The numeric codes are ONNX's `TensorProto.DataType` values, which ORT's flatbuffer schema
//! (`TensorDataType`) uses unchanged. The names are the C++ type names ORT uses in its operator
//! type configs (`required_operators_and_types.config`) and kernel type constraints.

use std::fmt;

/// An element type of a tensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(i32)]
pub enum ElementType {
    /// Not set (code 0).
    Undefined = 0,
    /// 32-bit float.
    Float = 1,
    /// uint8.
    Uint8 = 2,
    /// int8.
    Int8 = 3,
    /// uint16.
    Uint16 = 4,
    /// int16.
    Int16 = 5,
    /// int32.
    Int32 = 6,
    /// int64.
    Int64 = 7,
    /// string.
    String = 8,
    /// bool.
    Bool = 9,
    /// IEEE half float.
    Float16 = 10,
    /// 64-bit float.
    Double = 11,
    /// uint32.
    Uint32 = 12,
    /// uint64.
    Uint64 = 13,
    /// Complex of two float32.
    Complex64 = 14,
    /// Complex of two float64.
    Complex128 = 15,
    /// bfloat16.
    Bfloat16 = 16,
    /// float8 e4m3fn.
    Float8E4M3FN = 17,
    /// float8 e4m3fnuz.
    Float8E4M3FNUZ = 18,
    /// float8 e5m2.
    Float8E5M2 = 19,
    /// float8 e5m2fnuz.
    Float8E5M2FNUZ = 20,
    /// 4-bit unsigned integer (stored two per byte).
    Uint4 = 21,
    /// 4-bit signed integer (stored two per byte).
    Int4 = 22,
}

impl ElementType {
    /// Every element type, in code order.
    pub const ALL: [ElementType; 23] = [
        ElementType::Undefined,
        ElementType::Float,
        ElementType::Uint8,
        ElementType::Int8,
        ElementType::Uint16,
        ElementType::Int16,
        ElementType::Int32,
        ElementType::Int64,
        ElementType::String,
        ElementType::Bool,
        ElementType::Float16,
        ElementType::Double,
        ElementType::Uint32,
        ElementType::Uint64,
        ElementType::Complex64,
        ElementType::Complex128,
        ElementType::Bfloat16,
        ElementType::Float8E4M3FN,
        ElementType::Float8E4M3FNUZ,
        ElementType::Float8E5M2,
        ElementType::Float8E5M2FNUZ,
        ElementType::Uint4,
        ElementType::Int4,
    ];

    /// The element type with ONNX/ORT code `code`, if there is one.
    pub fn from_code(code: i32) -> Option<ElementType> {
        usize::try_from(code)
            .ok()
            .and_then(|i| Self::ALL.get(i).copied())
    }

    /// The ONNX `TensorProto.DataType` code (equal to ORT's flatbuffer `TensorDataType`).
    #[cfg(test)]
    pub fn code(self) -> i32 {
        self as i32
    }

    /// The C++ type name ORT uses for this type in operator type configs and kernel type
    /// constraints (`float`, `int64_t`, `MLFloat16`, `std::string`, …), or `None` where ORT has
    /// no such name (undefined and complex types).
    pub fn ort_name(self) -> Option<&'static str> {
        Some(match self {
            ElementType::Float => "float",
            ElementType::Uint8 => "uint8_t",
            ElementType::Int8 => "int8_t",
            ElementType::Uint16 => "uint16_t",
            ElementType::Int16 => "int16_t",
            ElementType::Int32 => "int32_t",
            ElementType::Int64 => "int64_t",
            ElementType::String => "std::string",
            ElementType::Bool => "bool",
            ElementType::Float16 => "MLFloat16",
            ElementType::Double => "double",
            ElementType::Uint32 => "uint32_t",
            ElementType::Uint64 => "uint64_t",
            ElementType::Bfloat16 => "BFloat16",
            ElementType::Float8E4M3FN => "Float8E4M3FN",
            ElementType::Float8E4M3FNUZ => "Float8E4M3FNUZ",
            ElementType::Float8E5M2 => "Float8E5M2",
            ElementType::Float8E5M2FNUZ => "Float8E5M2FNUZ",
            ElementType::Uint4 => "UInt4x2",
            ElementType::Int4 => "Int4x2",
            ElementType::Undefined | ElementType::Complex64 | ElementType::Complex128 => {
                return None
            }
        })
    }

    /// The element type whose [`ort_name`](Self::ort_name) is `name`.
    #[cfg(test)]
    pub fn from_ort_name(name: &str) -> Option<ElementType> {
        Self::ALL
            .iter()
            .copied()
            .find(|t| t.ort_name() == Some(name))
    }

    /// ONNX's lower-case name (`float`, `int64`, `float16`, …) as used in ONNX type strings
    /// such as `tensor(float)`.
    pub fn onnx_name(self) -> &'static str {
        match self {
            ElementType::Undefined => "undefined",
            ElementType::Float => "float",
            ElementType::Uint8 => "uint8",
            ElementType::Int8 => "int8",
            ElementType::Uint16 => "uint16",
            ElementType::Int16 => "int16",
            ElementType::Int32 => "int32",
            ElementType::Int64 => "int64",
            ElementType::String => "string",
            ElementType::Bool => "bool",
            ElementType::Float16 => "float16",
            ElementType::Double => "double",
            ElementType::Uint32 => "uint32",
            ElementType::Uint64 => "uint64",
            ElementType::Complex64 => "complex64",
            ElementType::Complex128 => "complex128",
            ElementType::Bfloat16 => "bfloat16",
            ElementType::Float8E4M3FN => "float8e4m3fn",
            ElementType::Float8E4M3FNUZ => "float8e4m3fnuz",
            ElementType::Float8E5M2 => "float8e5m2",
            ElementType::Float8E5M2FNUZ => "float8e5m2fnuz",
            ElementType::Uint4 => "uint4",
            ElementType::Int4 => "int4",
        }
    }
}

impl fmt::Display for ElementType {
    /// Shows ORT's name where there is one, ONNX's otherwise.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.ort_name().unwrap_or_else(|| self.onnx_name()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for (i, t) in ElementType::ALL.iter().enumerate() {
            assert_eq!(t.code() as usize, i);
            assert_eq!(ElementType::from_code(t.code()), Some(*t));
            if let Some(n) = t.ort_name() {
                assert_eq!(ElementType::from_ort_name(n), Some(*t));
            }
        }
        assert_eq!(ElementType::from_code(23), None);
        assert_eq!(ElementType::from_code(-1), None);
        assert_eq!(ElementType::Int64.ort_name(), Some("int64_t"));
        assert_eq!(ElementType::Float16.to_string(), "MLFloat16");
    }
}
