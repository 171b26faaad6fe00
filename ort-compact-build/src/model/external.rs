//! ONNX tensors whose data lives in an external file (`data_location = EXTERNAL`).
//!
//! `external_data` holds `location` (a path relative to the model's directory), and optionally
//! `offset` and `length` in bytes. Operator analysis never needs tensor data; converters that do
//! call [`read_external_data`].

use super::onnx::{tensor_proto::DataLocation, TensorProto};
use crate::error::{Error, Result};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Component, Path, PathBuf};

/// Where a tensor's external data is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExternalDataRef {
    /// Path relative to the model's directory.
    pub location: String,
    /// Byte offset in the file.
    pub offset: u64,
    /// Byte length (`None`: to the end of the file).
    pub length: Option<u64>,
}

/// True when the tensor's data is stored externally.
pub fn is_external(tensor: &TensorProto) -> bool {
    tensor.data_location == DataLocation::External as i32
}

/// The external data reference of `tensor` (`Ok(None)` when its data is inline).
/// `model_path` is used in errors.
pub fn external_data_ref(
    model_path: &Path,
    tensor: &TensorProto,
) -> Result<Option<ExternalDataRef>> {
    if !is_external(tensor) {
        return Ok(None);
    }
    let err = |reason: String| Error::ExternalData {
        path: model_path.to_owned(),
        tensor: tensor.name.clone(),
        reason,
    };
    let mut location = None;
    let mut offset = 0u64;
    let mut length = None;
    for entry in &tensor.external_data {
        let number = || {
            entry.value.parse::<u64>().map_err(|_| {
                err(format!(
                    "'{}' is not a byte count: '{}'",
                    entry.key, entry.value
                ))
            })
        };
        match entry.key.as_str() {
            "location" => location = Some(entry.value.clone()),
            "offset" => offset = number()?,
            "length" => length = Some(number()?),
            _ => {}
        }
    }
    let location = location
        .filter(|l| !l.is_empty())
        .ok_or_else(|| err("external_data has no 'location'".into()))?;
    Ok(Some(ExternalDataRef {
        location,
        offset,
        length,
    }))
}

/// Resolves `location` against the model's directory, refusing absolute paths and `..`.
fn resolve_location(model_path: &Path, location: &str) -> std::result::Result<PathBuf, String> {
    let rel = Path::new(location);
    if rel
        .components()
        .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(format!(
            "location '{location}' must be a relative path inside the model's directory"
        ));
    }
    let dir = model_path.parent().unwrap_or(Path::new("."));
    Ok(dir.join(rel))
}

/// Reads the external data of `tensor`, checking that the file exists and holds the range.
pub fn read_external_data(model_path: &Path, tensor: &TensorProto) -> Result<Vec<u8>> {
    let err = |reason: String| Error::ExternalData {
        path: model_path.to_owned(),
        tensor: tensor.name.clone(),
        reason,
    };
    let Some(r) = external_data_ref(model_path, tensor)? else {
        return Err(err("the tensor's data is not external".into()));
    };
    let file = resolve_location(model_path, &r.location).map_err(&err)?;
    let mut f = std::fs::File::open(&file)
        .map_err(|e| err(format!("cannot open {}: {e}", file.display())))?;
    let size = f
        .metadata()
        .map_err(|e| err(format!("cannot stat {}: {e}", file.display())))?
        .len();
    let length = r.length.unwrap_or(size.saturating_sub(r.offset));
    let end = r.offset.saturating_add(length);
    if end > size {
        return Err(err(format!(
            "{} has {size} bytes, but the tensor needs bytes {}..{end}",
            file.display(),
            r.offset
        )));
    }
    let len = usize::try_from(length).map_err(|_| err("length too large".into()))?;
    f.seek(SeekFrom::Start(r.offset))
        .map_err(|e| err(format!("cannot seek in {}: {e}", file.display())))?;
    let mut buf = vec![0u8; len];
    f.read_exact(&mut buf)
        .map_err(|e| err(format!("cannot read {}: {e}", file.display())))?;
    Ok(buf)
}
