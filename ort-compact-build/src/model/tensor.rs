//! ONNX tensor data: the little-endian raw bytes of a fixed-size tensor, whichever ONNX encoding
//! it came in (raw, typed `*_data` fields, or an external data file, read relative to the
//! model), and the initializer a `Constant` node defines (as ONNX Runtime lifts them on load).

use super::onnx::{attribute_proto::AttributeType, NodeProto, SparseTensorProto, TensorProto};
use crate::error::{Error, Result};
use std::borrow::Cow;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Component, Path, PathBuf};

/// Where a model lives, for error messages and external data.
#[derive(Debug, Clone)]
pub(crate) struct ModelLocation {
    /// The model file.
    pub path: PathBuf,
    /// Its directory (external data paths are relative to it).
    pub dir: PathBuf,
}

impl ModelLocation {
    /// Location of a model file.
    pub fn new(path: &Path) -> Self {
        let dir = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        ModelLocation {
            path: path.to_path_buf(),
            dir,
        }
    }

    /// An [`Error::InvalidNode`] for this model.
    pub fn invalid_node(&self, node: &str, reason: impl Into<String>) -> Error {
        Error::InvalidNode {
            path: self.path.clone(),
            node: node.to_string(),
            reason: reason.into(),
        }
    }

    fn external(&self, tensor: &TensorProto, reason: impl Into<String>) -> Error {
        Error::ExternalData {
            path: self.path.clone(),
            tensor: tensor.name.clone(),
            reason: reason.into(),
        }
    }
}

/// `TensorProto.data_location` value for external data.
const EXTERNAL: i32 = 1;
/// `TensorProto.data_type` value for strings.
pub(crate) const STRING: i32 = 8;

/// The little-endian bytes of a non-string tensor.
pub(crate) fn tensor_bytes<'t>(loc: &ModelLocation, t: &'t TensorProto) -> Result<Cow<'t, [u8]>> {
    if t.data_location == EXTERNAL {
        return read_external(loc, t).map(Cow::Owned);
    }
    if !t.raw_data.is_empty() {
        return Ok(Cow::Borrowed(&t.raw_data));
    }
    let mut out = Vec::new();
    match t.data_type {
        1 | 14 => t
            .float_data
            .iter()
            .for_each(|v| out.extend_from_slice(&v.to_le_bytes())),
        11 | 15 => t
            .double_data
            .iter()
            .for_each(|v| out.extend_from_slice(&v.to_le_bytes())),
        6 => t
            .int32_data
            .iter()
            .for_each(|v| out.extend_from_slice(&v.to_le_bytes())),
        // 16-bit types (and float16/bfloat16 bit patterns) stored one per int32.
        4 | 5 | 10 | 16 => t
            .int32_data
            .iter()
            .for_each(|v| out.extend_from_slice(&(*v as u16).to_le_bytes())),
        // 8-bit types, bool, float8 and packed 4-bit pairs stored one byte per int32.
        2 | 3 | 9 | 17..=22 => t.int32_data.iter().for_each(|v| out.push(*v as u8)),
        7 => t
            .int64_data
            .iter()
            .for_each(|v| out.extend_from_slice(&v.to_le_bytes())),
        12 => t
            .uint64_data
            .iter()
            .for_each(|v| out.extend_from_slice(&(*v as u32).to_le_bytes())),
        13 => t
            .uint64_data
            .iter()
            .for_each(|v| out.extend_from_slice(&v.to_le_bytes())),
        _ => {}
    }
    Ok(Cow::Owned(out))
}

/// Read a tensor's external data, resolved relative to the model's directory.
fn read_external(loc: &ModelLocation, t: &TensorProto) -> Result<Vec<u8>> {
    let entry = |key: &str| {
        t.external_data
            .iter()
            .find(|e| e.key == key)
            .map(|e| e.value.as_str())
    };
    let location = entry("location")
        .ok_or_else(|| loc.external(t, "the external_data entry 'location' is missing"))?;
    let rel = Path::new(location);
    if rel.is_absolute()
        || rel
            .components()
            .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(loc.external(
            t,
            format!(
                "location '{location}' must be a relative path inside the model's directory {}",
                loc.dir.display()
            ),
        ));
    }
    let parse = |key: &str| -> Result<Option<u64>> {
        entry(key)
            .map(|v| {
                v.trim()
                    .parse::<u64>()
                    .map_err(|_| loc.external(t, format!("{key} '{v}' is not a byte count")))
            })
            .transpose()
    };
    let offset = parse("offset")?.unwrap_or(0);
    let length = parse("length")?;
    let file_path = loc.dir.join(rel);
    let mut file = std::fs::File::open(&file_path).map_err(|e| {
        loc.external(
            t,
            format!(
                "cannot open data file {}: {e}; keep the external data file next to the model",
                file_path.display()
            ),
        )
    })?;
    let size = file
        .metadata()
        .map_err(|e| loc.external(t, format!("cannot stat {}: {e}", file_path.display())))?
        .len();
    let length = length.unwrap_or(size.saturating_sub(offset));
    let end = offset.saturating_add(length);
    if end > size {
        return Err(loc.external(
            t,
            format!(
                "{} has {size} bytes but the tensor needs bytes {offset}..{end}",
                file_path.display()
            ),
        ));
    }
    let len = usize::try_from(length)
        .map_err(|_| loc.external(t, format!("length {length} is too large")))?;
    let mut buf = vec![0u8; len];
    file.seek(SeekFrom::Start(offset))
        .and_then(|_| file.read_exact(&mut buf))
        .map_err(|e| loc.external(t, format!("reading {}: {e}", file_path.display())))?;
    Ok(buf)
}

/// What a `Constant` node turns into.
pub(crate) enum ConstantValue {
    /// A dense initializer.
    Dense(Box<TensorProto>),
    /// A sparse initializer.
    Sparse(Box<SparseTensorProto>),
}

/// The initializer a `Constant` node defines (named after its output).
pub(crate) fn constant_to_initializer(
    loc: &ModelLocation,
    node: &NodeProto,
    node_name: &str,
) -> Result<ConstantValue> {
    let output = node
        .output
        .first()
        .filter(|o| !o.is_empty())
        .ok_or_else(|| loc.invalid_node(node_name, "Constant node has no output"))?
        .clone();
    let attr = node
        .attribute
        .first()
        .ok_or_else(|| loc.invalid_node(node_name, "Constant node has no value attribute"))?;
    let scalar = |data_type: i32, dims: Vec<i64>| TensorProto {
        name: output.clone(),
        data_type,
        dims,
        ..Default::default()
    };
    let is = |t: AttributeType| attr.r#type == t as i32;
    let tensor = match attr.name.as_str() {
        "value" => {
            let mut t = attr.t.clone().ok_or_else(|| {
                loc.invalid_node(node_name, "Constant attribute 'value' has no tensor")
            })?;
            t.name = output;
            t
        }
        "sparse_value" => {
            let mut s = attr.sparse_tensor.clone().ok_or_else(|| {
                loc.invalid_node(node_name, "Constant attribute 'sparse_value' has no tensor")
            })?;
            let values = s.values.as_mut().ok_or_else(|| {
                loc.invalid_node(node_name, "Constant sparse_value has no values tensor")
            })?;
            values.name = output;
            return Ok(ConstantValue::Sparse(Box::new(s)));
        }
        "value_float" if is(AttributeType::Float) => TensorProto {
            float_data: vec![attr.f],
            ..scalar(1, vec![])
        },
        "value_floats" if is(AttributeType::Floats) => TensorProto {
            float_data: attr.floats.clone(),
            ..scalar(1, vec![attr.floats.len() as i64])
        },
        "value_int" if is(AttributeType::Int) => TensorProto {
            int64_data: vec![attr.i],
            ..scalar(7, vec![])
        },
        "value_ints" if is(AttributeType::Ints) => TensorProto {
            int64_data: attr.ints.clone(),
            ..scalar(7, vec![attr.ints.len() as i64])
        },
        "value_string" if is(AttributeType::String) => TensorProto {
            string_data: vec![attr.s.clone()],
            ..scalar(STRING, vec![])
        },
        "value_strings" if is(AttributeType::Strings) => TensorProto {
            string_data: attr.strings.clone(),
            ..scalar(STRING, vec![attr.strings.len() as i64])
        },
        other => {
            return Err(loc.invalid_node(
                node_name,
                format!("Constant node has unsupported attribute '{other}'"),
            ))
        }
    };
    Ok(ConstantValue::Dense(Box::new(tensor)))
}
