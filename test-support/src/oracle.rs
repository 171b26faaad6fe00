//! The oracle corpus: models and ORT's own `.ort` files and configs, made by
//! `scripts/oracle/make_oracle.py` with Python onnxruntime 1.21.0.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// One model of the oracle corpus.
#[derive(Debug, Clone)]
pub struct OracleModel {
    /// `<corpus>/<name>`.
    pub id: String,
    /// Directory holding `model.onnx` and, when `ok`, ORT's outputs.
    pub dir: PathBuf,
    /// Whether ONNX Runtime converted it.
    pub ok: bool,
}

impl OracleModel {
    /// The `.onnx` source.
    pub fn onnx(&self) -> PathBuf {
        self.dir.join("model.onnx")
    }
    /// ORT's `.ort` file.
    pub fn ort(&self) -> PathBuf {
        self.dir.join("model.ort")
    }
    /// ORT's plain config.
    pub fn config(&self) -> PathBuf {
        self.dir.join("model.required_operators.config")
    }
    /// ORT's type-reduced config.
    pub fn types_config(&self) -> PathBuf {
        self.dir.join("model.required_operators_and_types.config")
    }
}

/// Where the oracle data lives: `$ORT_COMPACT_ORACLE_DIR`, else
/// `~/.cache/ort-compact-build/oracle`.
pub fn oracle_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("ORT_COMPACT_ORACLE_DIR") {
        return PathBuf::from(d);
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    home.join(".cache/ort-compact-build/oracle")
}

fn script() -> PathBuf {
    crate::workspace().join("scripts/oracle/make_oracle.py")
}

/// The oracle corpus, generated first (by running the Python script) when missing.
pub fn oracle_models() -> &'static [OracleModel] {
    static MODELS: OnceLock<Vec<OracleModel>> = OnceLock::new();
    MODELS.get_or_init(|| {
        let dir = oracle_dir();
        let manifest = dir.join("manifest.json");
        if !manifest.exists() {
            let status = Command::new("python3")
                .arg(script())
                .arg("--out")
                .arg(&dir)
                .status()
                .expect("running python3 scripts/oracle/make_oracle.py");
            assert!(status.success(), "make_oracle.py failed: {status}");
        }
        let text = std::fs::read_to_string(&manifest).expect("reading oracle manifest.json");
        let json: serde_json::Value = serde_json::from_str(&text).expect("parsing manifest.json");
        json["models"]
            .as_array()
            .expect("manifest models")
            .iter()
            .map(|m| OracleModel {
                id: format!(
                    "{}/{}",
                    m["corpus"].as_str().unwrap(),
                    m["name"].as_str().unwrap()
                ),
                dir: dir.join(m["dir"].as_str().unwrap()),
                ok: m["ok"].as_bool().unwrap(),
            })
            .collect()
    })
}

/// A model of the corpus by id (`<corpus>/<name>`).
pub fn oracle_model(id: &str) -> &'static OracleModel {
    oracle_models()
        .iter()
        .find(|m| m.id == id)
        .unwrap_or_else(|| panic!("oracle model {id} missing"))
}

/// A config file's text without comment lines.
pub fn strip_comments(text: &str) -> String {
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect()
}
