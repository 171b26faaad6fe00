//! The checked-in operator schema table is exactly what `scripts/schema/gen_schema_table.py`
//! generates from the installed `onnx` 1.17 and `onnxruntime` 1.21.0 Python packages.

use std::path::Path;
use std::process::Command;

#[test]
fn regenerating_the_schema_table_reproduces_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let script = root.join("../scripts/schema/gen_schema_table.py");
    let table = root.join("src/ort_format/schema_table.txt");
    let probe = Command::new("python3")
        .args(["-c", "import onnx, onnxruntime"])
        .status();
    assert!(
        probe.map(|s| s.success()).unwrap_or(false),
        "python3 with onnx and onnxruntime is needed: run scripts/test.sh (it installs them)"
    );
    let out = Command::new("python3").arg(&script).output().unwrap();
    assert!(
        out.status.success(),
        "generator failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let checked_in = std::fs::read(&table).unwrap();
    assert!(
        out.stdout == checked_in,
        "{} is stale: run `python3 scripts/schema/gen_schema_table.py {}`",
        table.display(),
        table.display()
    );
}
