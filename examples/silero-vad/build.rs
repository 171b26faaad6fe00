//! The compact ONNX Runtime for silero VAD: for wasm32-unknown-emscripten the static library
//! (linked into this program) and the typed module `silero_vad.rs`; for the host the typed
//! module alone.
//!
//! The model is not copied into the repository: `SILERO_VAD_ONNX` names it, else the file the
//! `silero-vad` Python package ships (`<site-packages>/silero_vad/data/silero_vad.onnx`).

use std::path::PathBuf;
use std::process::Command;

fn locate_model() -> PathBuf {
    println!("cargo:rerun-if-env-changed=SILERO_VAD_ONNX");
    if let Some(p) = std::env::var_os("SILERO_VAD_ONNX") {
        return PathBuf::from(p);
    }
    let script = "import importlib.util as u, os\n\
                  s = u.find_spec('silero_vad')\n\
                  print(os.path.join(os.path.dirname(s.origin), 'data', 'silero_vad.onnx'))";
    let out = Command::new("python3").args(["-c", script]).output();
    match out {
        Ok(o) if o.status.success() => {
            PathBuf::from(String::from_utf8_lossy(&o.stdout).trim().to_string())
        }
        _ => panic!(
            "silero_vad.onnx not found: set SILERO_VAD_ONNX to its path, or install the \
             `silero-vad` Python package (pip install silero-vad)"
        ),
    }
}

fn main() {
    ort_compact_build::Builder::new(locate_model()).build();
}
