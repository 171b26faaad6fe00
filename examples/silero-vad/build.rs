//! Builds a compact ONNX Runtime for silero VAD (static library when the target is
//! wasm32-unknown-emscripten) and the typed module `silero_vad.rs`.
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
    let model = locate_model();
    assert!(
        model.is_file(),
        "silero VAD model {} does not exist (set SILERO_VAD_ONNX)",
        model.display()
    );
    let out =
        PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets it")).join("ort-compact");
    println!("cargo:rerun-if-changed={}", model.display());
    if std::env::var("TARGET").as_deref() == Ok("wasm32-unknown-emscripten") {
        ort_compact_build::Builder::new(&model)
            .out_dir(&out)
            .build();
    } else {
        // Host builds: typed module only (no runtime is linked on the host).
        if let Err(e) = ort_compact_build::codegen::write_without_runtime(&model, &out) {
            panic!("generating the typed module for {}: {e}", model.display());
        }
    }
}
