//! Verifying a whole output directory: the runtime plus every model its `manifest.json` lists.
//!
//! Only the part of the manifest verification needs is read (other keys are ignored):
//! `{"models": [{"ort": "name.ort", "inputs": [{"name": …, "elem_type": 1, "dims": [1, 3]}]}]}`.
//! A dimension that is not a non-negative integer (a symbolic name, `null`, `-1`) is taken as 1.

use super::{verify_model, InputSpec, VerifyReport};
use crate::error::{Error, Result};
use serde::Deserialize;
use std::path::Path;

/// Name of the manifest file in an output directory.
pub const MANIFEST_FILE: &str = "manifest.json";

/// The subset of `manifest.json` verification reads.
#[derive(Debug, Clone, Deserialize)]
pub struct Manifest {
    /// The models of the output directory.
    #[serde(default)]
    pub models: Vec<ManifestModel>,
}

/// One model entry of the manifest.
#[derive(Debug, Clone, Deserialize)]
pub struct ManifestModel {
    /// File name of the `.ort` model, relative to the directory.
    pub ort: String,
    /// The model's inputs.
    #[serde(default)]
    pub inputs: Vec<ManifestInput>,
}

/// One input of a manifest model; dims may be symbolic.
#[derive(Debug, Clone, Deserialize)]
pub struct ManifestInput {
    /// Input name.
    pub name: String,
    /// ONNX element type code.
    pub elem_type: i32,
    /// Dimensions: integers, or anything else for a symbolic dimension.
    #[serde(default)]
    pub dims: Vec<serde_json::Value>,
}

impl ManifestInput {
    /// The input as an [`InputSpec`], symbolic dimensions replaced by 1.
    pub fn to_spec(&self) -> InputSpec {
        InputSpec {
            name: self.name.clone(),
            elem_type: self.elem_type,
            dims: self
                .dims
                .iter()
                .map(|d| d.as_i64().filter(|v| *v >= 0).unwrap_or(1))
                .collect(),
        }
    }
}

impl Manifest {
    /// Reads `<dir>/manifest.json`.
    pub fn read(dir: &Path) -> Result<Manifest> {
        let path = dir.join(MANIFEST_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io("reading", &path, e))?;
        serde_json::from_str(&text).map_err(|e| {
            Error::Config(format!(
                "{} is not a valid manifest ({e}); expected {{\"models\": [{{\"ort\": …, \"inputs\": […]}}]}}",
                path.display()
            ))
        })
    }
}

/// Verifies every model of the output directory `dir` in its runtime; stops at the first
/// failure. An `.ort` file path in the manifest must stay inside `dir`.
pub fn verify_dir(dir: &Path, node: &Path) -> Result<Vec<VerifyReport>> {
    let manifest = Manifest::read(dir)?;
    if manifest.models.is_empty() {
        return Err(Error::Config(format!(
            "{} lists no models",
            dir.join(MANIFEST_FILE).display()
        )));
    }
    let mut reports = Vec::with_capacity(manifest.models.len());
    for m in &manifest.models {
        let rel = Path::new(&m.ort);
        if rel.is_absolute() || rel.components().any(|c| c.as_os_str() == "..") {
            return Err(Error::Config(format!(
                "manifest model path '{}' must be a file name inside {}",
                m.ort,
                dir.display()
            )));
        }
        let specs: Vec<InputSpec> = m.inputs.iter().map(ManifestInput::to_spec).collect();
        reports.push(verify_model(dir, &dir.join(rel), &specs, node)?);
    }
    Ok(reports)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbolic_dims_become_one() {
        let m: Manifest = serde_json::from_str(
            r#"{"version": 1, "models": [{"ort": "a.ort", "sha256": "x",
                "inputs": [{"name": "x", "elem_type": 1, "dims": ["batch", 3, null, -1, 0]}]}]}"#,
        )
        .unwrap();
        let spec = m.models[0].inputs[0].to_spec();
        assert_eq!(spec.dims, vec![1, 3, 1, 1, 0]);
        assert_eq!(spec.elem_type, 1);
    }

    #[test]
    fn escaping_paths_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(MANIFEST_FILE),
            r#"{"models": [{"ort": "../x.ort", "inputs": []}]}"#,
        )
        .unwrap();
        let err = verify_dir(dir.path(), Path::new("node")).unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{err}");
    }

    #[test]
    fn missing_manifest_is_io_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = verify_dir(dir.path(), Path::new("node")).unwrap_err();
        assert!(matches!(err, Error::Io { .. }), "{err}");
    }
}
