//! C API table reduction: the JS module only needs the entries onnxruntime-web's glue calls.
//!
//! ORT's C API is one constant table of function pointers (`ort_api_1_to_21` in
//! `onnxruntime/core/session/onnxruntime_c_api.cc`). Every function it points to, and everything
//! those functions use, stays in the binary, although the JS module's only caller of the table
//! is ORT's wasm glue (`onnxruntime/wasm/api.cc`). [`write_c_api_source`] writes a copy of the
//! C API source to `<cmake build dir>/ort_compact.generated/` in which the entries that glue
//! never names are `nullptr`; our cmake patch (`vendor/patches/ort-compact-c-api-source.patch`)
//! compiles that copy instead of the original. Release functions are always kept.
//!
//! The static library (Rust mode) gets an unmodified copy: Rust code may call any entry.

use super::output::write_if_changed;
use super::read_text;
use crate::error::{Error, Result};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Directory under the cmake build directory that our cmake patch takes the C API source from.
pub const GENERATED_DIR: &str = "ort_compact.generated";
/// The C API source, relative to the ORT source root.
pub const C_API_FILE: &str = "onnxruntime/core/session/onnxruntime_c_api.cc";
/// The wasm glue whose calls decide which entries the JS module keeps.
pub const WASM_GLUE_FILE: &str = "onnxruntime/wasm/api.cc";

/// Which C API table entries to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CApiTable {
    /// Every entry (the static library: Rust code may call any of them).
    Full,
    /// The entries ORT's wasm glue names, and every `Release*` function (the JS module).
    WasmGlue,
}

/// What [`write_c_api_source`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CApiReport {
    /// The file written (or left alone because it was already up to date).
    pub path: PathBuf,
    /// Entries in the table.
    pub entries: usize,
    /// Entries set to `nullptr`.
    pub removed: usize,
    /// Whether the file was (re)written.
    pub rewritten: bool,
}

/// Writes the C API source for `table` under `<cmake_build_dir>/ort_compact.generated/`.
/// Unchanged content keeps the file's mtime, so ninja recompiles nothing.
///
/// Errors: [`Error::RegistrationSource`] when the table (or the glue) is not where ORT 1.21.0
/// has it, [`Error::Io`].
pub fn write_c_api_source(
    ort_source_dir: &Path,
    cmake_build_dir: &Path,
    table: CApiTable,
) -> Result<CApiReport> {
    let source = ort_source_dir.join(C_API_FILE);
    let text = read_text(&source)?;
    let keep = match table {
        CApiTable::Full => None,
        CApiTable::WasmGlue => Some(identifiers(&read_text(
            &ort_source_dir.join(WASM_GLUE_FILE),
        )?)),
    };
    let (out, entries, removed) = reduce_table(&source, &text, keep.as_ref())?;
    let path = cmake_build_dir.join(GENERATED_DIR).join(C_API_FILE);
    let rewritten = write_if_changed(&path, out.as_bytes())?;
    Ok(CApiReport {
        path,
        entries,
        removed,
        rewritten,
    })
}

/// Every identifier in a C++ source (a superset of the API entries it names).
fn identifiers(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_'))
        .map(str::to_owned)
        .collect()
}

/// Returns the source with unkept table entries replaced by `nullptr`, the number of entries,
/// and the number replaced.
fn reduce_table(
    path: &Path,
    text: &str,
    keep: Option<&BTreeSet<String>>,
) -> Result<(String, usize, usize)> {
    let bad = |line: usize, reason: &str| Error::RegistrationSource {
        path: path.to_path_buf(),
        line,
        reason: reason.into(),
    };
    let mut out = String::with_capacity(text.len());
    let (mut in_table, mut seen_table) = (false, false);
    let (mut entries, mut removed) = (0, 0);
    for (n, line) in text.split_inclusive('\n').enumerate() {
        let trimmed = line.trim();
        if trimmed.starts_with("static constexpr OrtApi ort_api_1_to_") {
            if seen_table {
                return Err(bad(n + 1, "a second C API table"));
            }
            (in_table, seen_table) = (true, true);
        } else if in_table && trimmed.starts_with("};") {
            in_table = false;
        } else if in_table {
            if let Some(name) = trimmed
                .strip_prefix("&OrtApis::")
                .and_then(|rest| rest.split(',').next())
            {
                entries += 1;
                let kept = keep.is_none_or(|k| k.contains(name) || name.starts_with("Release"));
                if !kept {
                    removed += 1;
                    let indent = &line[..line.len() - line.trim_start().len()];
                    out.push_str(&format!(
                        "{indent}nullptr,  // {name}: not called by the wasm glue (ort-compact-build)\n"
                    ));
                    continue;
                }
            }
        }
        out.push_str(line);
    }
    if !seen_table || in_table || entries == 0 {
        return Err(bad(
            1,
            "no `static constexpr OrtApi ort_api_1_to_N = {...};` table",
        ));
    }
    Ok((out, entries, removed))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = "int x;\nstatic constexpr OrtApi ort_api_1_to_21 = {\n    // note\n    &OrtApis::CreateStatus,\n    &OrtApis::GetErrorCode,\n    &OrtApis::ReleaseEnv,\n    &OrtApis::CreateLoraAdapter,  // since 1.20\n};\nint y;\n";

    #[test]
    fn keeps_named_and_release_entries() {
        let keep = identifiers("CHECK_STATUS(CreateStatus, 1); Ort::GetApi().GetErrorCode(s);");
        let (out, entries, removed) = reduce_table(Path::new("c.cc"), SOURCE, Some(&keep)).unwrap();
        assert_eq!((entries, removed), (4, 1));
        assert!(out.contains("    &OrtApis::CreateStatus,\n"));
        assert!(out.contains("    &OrtApis::ReleaseEnv,\n"));
        assert!(out.contains(
            "    nullptr,  // CreateLoraAdapter: not called by the wasm glue (ort-compact-build)\n"
        ));
        assert!(out.starts_with("int x;\n") && out.ends_with("};\nint y;\n"));
    }

    #[test]
    fn full_table_is_an_exact_copy() {
        let (out, entries, removed) = reduce_table(Path::new("c.cc"), SOURCE, None).unwrap();
        assert_eq!((out.as_str(), entries, removed), (SOURCE, 4, 0));
    }

    #[test]
    fn missing_table_is_an_error() {
        let err = reduce_table(Path::new("c.cc"), "int x;\n", None).unwrap_err();
        assert!(err.to_string().contains("ort_api_1_to_N"), "{err}");
    }
}
