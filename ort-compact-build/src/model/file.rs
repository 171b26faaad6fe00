//! Reading a model file from disk and telling the two formats apart.

use super::onnx_reader::OnnxModel;
use super::ort::{has_ort_identifier, OrtModel};
use crate::error::{Error, Result};
use std::path::Path;

/// Reads a whole model file, with typed errors for a missing path, a directory and an empty
/// file.
pub fn read_model_file(path: &Path) -> Result<Vec<u8>> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::ModelNotFound {
                path: path.to_owned(),
            })
        }
        Err(e) => return Err(Error::io("reading", path, e)),
    };
    if meta.is_dir() {
        return Err(Error::ModelIsDirectory {
            path: path.to_owned(),
        });
    }
    let bytes = std::fs::read(path).map_err(|e| Error::io("reading", path, e))?;
    if bytes.is_empty() {
        return Err(Error::EmptyModel {
            path: path.to_owned(),
        });
    }
    Ok(bytes)
}

/// A loaded model of either format.
// One value per model file: the size difference of the variants does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum ModelFile {
    /// An ONNX model.
    Onnx(OnnxModel),
    /// An ORT-format model.
    Ort(OrtModel),
}

impl ModelFile {
    /// Loads `path`. The format is the one the content shows (the `ORTM` identifier), except
    /// that a `.ort` file without it is reported as an invalid ORT-format model.
    pub fn load(path: &Path) -> Result<ModelFile> {
        let bytes = read_model_file(path)?;
        ModelFile::from_bytes(bytes, path)
    }

    /// Like [`ModelFile::load`] for bytes already in memory; `path` names them in errors.
    pub fn from_bytes(bytes: Vec<u8>, path: &Path) -> Result<ModelFile> {
        let says_ort = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("ort"));
        if has_ort_identifier(&bytes) || says_ort {
            Ok(ModelFile::Ort(OrtModel::from_bytes(bytes, path)?))
        } else {
            Ok(ModelFile::Onnx(OnnxModel::from_bytes(&bytes, path)?))
        }
    }
}
