//! Constant tensors as the folder computes with them: element type, shape and little-endian
//! bytes, for the fixed-size numeric types (no strings, float16 or complex).

use crate::model::onnx::TensorProto;
use crate::model::{tensor_bytes, ModelLocation};

/// ONNX `TensorProto.DataType` codes the folder knows.
pub(super) mod dtype {
    pub const FLOAT: i32 = 1;
    pub const UINT8: i32 = 2;
    pub const INT8: i32 = 3;
    pub const UINT16: i32 = 4;
    pub const INT16: i32 = 5;
    pub const INT32: i32 = 6;
    pub const INT64: i32 = 7;
    pub const BOOL: i32 = 9;
    pub const DOUBLE: i32 = 11;
    pub const UINT32: i32 = 12;
    pub const UINT64: i32 = 13;
}

/// Bytes per element of `dtype` (`None`: a type the folder leaves alone).
pub(super) fn elem_size(dtype: i32) -> Option<usize> {
    use dtype::*;
    match dtype {
        UINT8 | INT8 | BOOL => Some(1),
        UINT16 | INT16 => Some(2),
        FLOAT | INT32 | UINT32 => Some(4),
        INT64 | DOUBLE | UINT64 => Some(8),
        _ => None,
    }
}

/// A constant tensor.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Value {
    /// Element type.
    pub dtype: i32,
    /// Dimensions.
    pub dims: Vec<i64>,
    /// Elements, little-endian, row-major.
    pub data: Vec<u8>,
}

impl Value {
    /// A value, if `data` holds exactly the elements `dims` call for.
    pub fn new(dtype: i32, dims: Vec<i64>, data: Vec<u8>) -> Option<Value> {
        let count = count(&dims)?;
        (count.checked_mul(elem_size(dtype)?)? == data.len()).then_some(Value { dtype, dims, data })
    }

    /// An int64 tensor.
    pub fn ints(dims: Vec<i64>, values: &[i64]) -> Value {
        let data = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        Value {
            dtype: dtype::INT64,
            dims,
            data,
        }
    }

    /// The value of an initializer (`None` for types the folder leaves alone, or unreadable
    /// data).
    pub fn of(t: &TensorProto, loc: &ModelLocation) -> Option<Value> {
        elem_size(t.data_type)?;
        let bytes = tensor_bytes(loc, t).ok()?;
        Value::new(t.data_type, t.dims.clone(), bytes.into_owned())
    }

    /// A float32 tensor of `dims` holding `v` (`None` when the counts differ).
    pub fn from_floats(dims: Vec<i64>, v: &[f32]) -> Option<Value> {
        let data = v.iter().flat_map(|x| x.to_le_bytes()).collect();
        Value::new(dtype::FLOAT, dims, data)
    }

    /// The elements of a float32 tensor.
    pub fn floats(&self) -> Option<Vec<f32>> {
        (self.dtype == dtype::FLOAT).then(|| {
            self.data
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect()
        })
    }

    /// The initializer `name` holding this value.
    pub fn to_proto(&self, name: &str) -> TensorProto {
        TensorProto {
            name: name.to_string(),
            data_type: self.dtype,
            dims: self.dims.clone(),
            raw_data: self.data.clone(),
            ..Default::default()
        }
    }

    /// Bytes per element.
    pub fn elem(&self) -> usize {
        elem_size(self.dtype).unwrap_or(1)
    }

    /// Number of elements.
    pub fn count(&self) -> usize {
        self.data.len() / self.elem()
    }

    /// The elements of an int64 or int32 tensor.
    pub fn as_ints(&self) -> Option<Vec<i64>> {
        match self.dtype {
            dtype::INT64 => Some(
                self.data
                    .chunks_exact(8)
                    .map(|c| i64::from_le_bytes(c.try_into().unwrap_or_default()))
                    .collect(),
            ),
            dtype::INT32 => Some(
                self.data
                    .chunks_exact(4)
                    .map(|c| i64::from(i32::from_le_bytes(c.try_into().unwrap_or_default())))
                    .collect(),
            ),
            _ => None,
        }
    }

    /// The first element as a number (float, double or integer tensors).
    pub fn as_f64(&self) -> Option<f64> {
        let e = self.data.get(..self.elem())?;
        Some(match self.dtype {
            dtype::FLOAT => f64::from(f32::from_le_bytes(e.try_into().ok()?)),
            dtype::DOUBLE => f64::from_le_bytes(e.try_into().ok()?),
            _ => *self.as_ints()?.first()? as f64,
        })
    }

    /// Element `i`'s bytes.
    pub fn element(&self, i: usize) -> &[u8] {
        let e = self.elem();
        &self.data[i * e..(i + 1) * e]
    }
}

/// Number of elements of a shape (`None`: a negative dimension or overflow).
pub(super) fn count(dims: &[i64]) -> Option<usize> {
    dims.iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(usize::try_from(d).ok()?))
}

/// Row-major strides (in elements) of `dims`.
pub(super) fn strides(dims: &[i64]) -> Vec<usize> {
    let mut s = vec![1usize; dims.len()];
    for i in (0..dims.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * dims[i + 1].max(0) as usize;
    }
    s
}

/// `axis` (negative counts from the end) as an index below `rank`.
pub(super) fn axis(axis: i64, rank: usize) -> Option<usize> {
    let rank = i64::try_from(rank).ok()?;
    let a = if axis < 0 { axis + rank } else { axis };
    (0..rank).contains(&a).then_some(a as usize)
}
