//! Operator-kernel reduction: our native equivalent of ORT's `tools/ci_build/reduce_op_kernels.py`.
//!
//! With `onnxruntime_REDUCED_OPS_BUILD=ON`, ORT's cmake compiles the copies of its kernel
//! registration files found under `<cmake build dir>/op_reduction.generated/<path in the ORT
//! tree>` instead of the originals. [`write_reduced_sources`] writes those copies:
//!
//! | file (relative to the ORT source root) | content |
//! |---|---|
//! | `onnxruntime/core/providers/cpu/cpu_execution_provider.cc` | ONNX and ML op kernels, unused entries commented out |
//! | `onnxruntime/contrib_ops/cpu/cpu_contrib_kernels.cc` | com.microsoft (contrib) kernels, same |
//! | `orttraining/orttraining/training_ops/cpu/cpu_training_kernels.cc` | training kernels, same (only if present; not compiled by our builds) |
//! | `onnxruntime/core/providers/op_kernel_type_control_overrides.inc` | with type reduction, the allowed-types lines; otherwise an exact copy |
//!
//! A registration of operator X with opsets `[a, b]` (or `a` and later) is kept when an opset the
//! config requires for X's domain lies in that range and lists X. With type reduction, typed
//! registrations (`…_TYPED_KERNEL_CLASS_NAME(…, float, X)`) of operators that have a type rule are
//! also dropped when their type was not required. The output is byte-identical to what ORT 1.21's
//! script writes for the same inputs (the integration tests check this against the script).
//!
//! [`c_api`] reduces the C API function table the same way (JS module only).
//!
//! Differences from the script, on purpose: a required operator that has no CPU kernel at the
//! required opset is an error ([`Error::NoKernel`]) instead of a runtime failure later; files whose
//! content did not change are left alone (same bytes, same mtime) so ninja recompiles nothing, and
//! changed files are replaced atomically; other files under `op_reduction.generated/` are removed;
//! the report lists required operators whose kernels were all removed by type reduction or exist
//! only under preprocessor conditions (such as `#ifndef ORT_MINIMAL_BUILD`); a missing training
//! registration file is skipped. Not reproduced: the script's parser shares one operator set
//! between the opsets of a multi-opset line (`ai.onnx;11,12;…`) so that a later line for one of
//! them also adds to the other; configs written by ORT's tools have one opset per line.

pub mod c_api;
mod checks;
mod input;
mod output;
mod registrations;
mod required;
mod types;

use crate::error::{Error, Result};
use crate::ops::OpConfig;
use registrations::{domain_of_constant, Segment};
use required::Requirements;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use types::TypeReduction;

pub use c_api::{write_c_api_source, CApiTable};

/// Directory under the cmake build directory that ORT's cmake takes reduced sources from.
pub const OP_REDUCTION_DIR: &str = "op_reduction.generated";

/// The CPU execution provider's registration file (ONNX and ML ops).
pub const CPU_PROVIDER_FILE: &str = "onnxruntime/core/providers/cpu/cpu_execution_provider.cc";
/// The contrib (com.microsoft) ops registration file.
pub const CPU_CONTRIB_FILE: &str = "onnxruntime/contrib_ops/cpu/cpu_contrib_kernels.cc";
/// The training ops registration file (reduced when present; our builds do not compile it).
pub const CPU_TRAINING_FILE: &str =
    "orttraining/orttraining/training_ops/cpu/cpu_training_kernels.cc";
/// The type-control overrides include file.
pub const TYPE_CONTROL_FILE: &str =
    "onnxruntime/core/providers/op_kernel_type_control_overrides.inc";

/// Options of [`write_reduced_sources`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReduceOptions {
    /// Use the config's type information (per-operator types or `!globally_allowed_types`) to
    /// drop typed registrations and restrict the types kernels are compiled for
    /// (ORT's `--enable_reduced_operator_type_support`).
    pub type_reduction: bool,
    /// The build is an *extended* minimal build (or a full build): keep the kernels ORT's graph
    /// transformations may insert (`layout_transformation_potentially_added_ops.h`). Our basic
    /// minimal builds leave this off.
    pub extended_minimal_build: bool,
}

/// Counts for one generated registration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileReport {
    /// Path relative to the ORT source root (and to `op_reduction.generated/`).
    pub relative_path: PathBuf,
    /// The generated file.
    pub output_path: PathBuf,
    /// Registration entries left active.
    pub kept: usize,
    /// Registration entries commented out.
    pub removed: usize,
    /// Whether this run (re)wrote the file; `false` when it already had this content.
    pub rewritten: bool,
}

/// What [`write_reduced_sources`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReduceReport {
    /// The registration files, in the order of the table in the module docs.
    pub files: Vec<FileReport>,
    /// The generated `op_kernel_type_control_overrides.inc`.
    pub type_control_path: PathBuf,
    /// Lines written into its allowed-types section (0 without type reduction).
    pub type_control_lines: usize,
    /// Whether that file was (re)written.
    pub type_control_rewritten: bool,
    /// Whether the config needs contrib ops (any domain other than ai.onnx / ai.onnx.ml). When
    /// `false` the build can set `onnxruntime_DISABLE_CONTRIB_OPS=ON`.
    pub contrib_ops_needed: bool,
    /// Whether the config needs ai.onnx.ml ops. When `false` the build can set
    /// `onnxruntime_DISABLE_ML_OPS=ON`.
    pub ml_ops_needed: bool,
    /// Files removed from `op_reduction.generated/` because this run does not generate them.
    pub removed_stale: Vec<PathBuf>,
    /// Required operators for which every kernel registration was removed by type reduction
    /// (`domain:Op(opset)`); the runtime will not be able to run them with the model's types.
    pub type_reduced_away: Vec<String>,
    /// Required operators whose kept registrations all sit inside preprocessor conditions other
    /// than `DISABLE_ML_OPS` / `DISABLE_CONTRIB_OPS` (`domain:Op(opset): #ifdef X`); whether the
    /// kernel exists depends on the build flags (e.g. `#ifndef ORT_MINIMAL_BUILD`).
    pub conditional_kernels: Vec<String>,
}

impl ReduceReport {
    /// The report of one registration file, by its relative path constant.
    #[cfg(test)]
    pub fn file(&self, relative_path: &str) -> Option<&FileReport> {
        self.files
            .iter()
            .find(|f| f.relative_path == Path::new(relative_path))
    }
}

/// Operators that need no kernel: ORT turns `Constant` nodes into initializers when it loads a
/// model.
const NO_KERNEL_NEEDED: &[(&str, &str)] = &[("ai.onnx", "Constant")];

/// Writes the reduced registration sources for `config` under
/// `<cmake_build_dir>/op_reduction.generated/`, reading the originals from `ort_source_dir` (an
/// ONNX Runtime 1.21.0 source tree). Deterministic and idempotent; see the module docs.
///
/// Errors: [`Error::NoKernel`] naming the first required operator without a CPU kernel,
/// [`Error::Config`] for contradictory type information, [`Error::RegistrationSource`] when a
/// registration file cannot be parsed, [`Error::Io`].
pub fn write_reduced_sources(
    ort_source_dir: &Path,
    cmake_build_dir: &Path,
    config: &OpConfig,
    options: &ReduceOptions,
) -> Result<ReduceReport> {
    let user_requirements = input::requirements(config);
    let mut requirements = user_requirements.clone();
    let filter = input::type_filter(config, options.type_reduction)?;
    let mut always_keep = BTreeSet::new();
    if options.extended_minimal_build {
        for (domain, op, opset) in required::extended_minimal_build_ops(ort_source_dir)? {
            if !requirements.all {
                requirements.add(&domain, opset, &op);
            }
            always_keep.insert((domain, op));
        }
    }
    let type_reduction = filter.map(|filter| TypeReduction {
        filter,
        always_keep,
    });

    let root = cmake_build_dir.join(OP_REDUCTION_DIR);
    let mut files = Vec::new();
    let mut outputs = Vec::new();
    let mut entries: Vec<checks::Entry> = Vec::new();
    for relative in [CPU_PROVIDER_FILE, CPU_CONTRIB_FILE, CPU_TRAINING_FILE] {
        let source = ort_source_dir.join(relative);
        if relative == CPU_TRAINING_FILE && !source.is_file() {
            continue;
        }
        let text = read_text(&source)?;
        let segments = registrations::parse(&source, &text)?;
        let reduced = reduce_segments(&source, &segments, &requirements, type_reduction.as_ref())?;
        if relative != CPU_TRAINING_FILE {
            entries.extend(reduced.entries);
        }
        let output_path = root.join(relative);
        outputs.push((output_path.clone(), reduced.text.into_bytes()));
        files.push(FileReport {
            relative_path: PathBuf::from(relative),
            output_path,
            kept: reduced.kept,
            removed: reduced.removed,
            rewritten: false,
        });
    }

    checks::kernels_exist(&user_requirements, &entries, NO_KERNEL_NEEDED)?;
    let type_reduced_away = checks::reduced_away(&user_requirements, &entries);
    let conditional_kernels = checks::conditional(&user_requirements, &entries);

    let type_source = ort_source_dir.join(TYPE_CONTROL_FILE);
    let cpp_lines = type_reduction
        .as_ref()
        .map(|t| t.filter.cpp_lines())
        .unwrap_or_default();
    let type_control = type_control_overrides(&type_source, &cpp_lines)?;
    let type_control_path = root.join(TYPE_CONTROL_FILE);
    outputs.push((type_control_path.clone(), type_control));

    let keep: BTreeSet<PathBuf> = outputs.iter().map(|(p, _)| p.clone()).collect();
    let removed_stale = output::remove_stale(&root, &keep)?;
    let mut rewritten = Vec::with_capacity(outputs.len());
    for (path, bytes) in &outputs {
        rewritten.push(output::write_if_changed(path, bytes)?);
    }
    for (file, was_rewritten) in files.iter_mut().zip(&rewritten) {
        file.rewritten = *was_rewritten;
    }
    Ok(ReduceReport {
        files,
        type_control_path,
        type_control_lines: cpp_lines.len(),
        type_control_rewritten: rewritten.last().copied().unwrap_or(false),
        contrib_ops_needed: user_requirements.needs_domain(|d| d != "ai.onnx" && d != "ai.onnx.ml"),
        ml_ops_needed: user_requirements.needs_domain(|d| d == "ai.onnx.ml"),
        removed_stale,
        type_reduced_away,
        conditional_kernels,
    })
}

/// Reads a source file as text with `\n` line endings (as ORT's script reads it).
fn read_text(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|e| Error::io("reading", path, e))?;
    let text = String::from_utf8(bytes).map_err(|_| Error::RegistrationSource {
        path: path.to_path_buf(),
        line: 1,
        reason: "the file is not UTF-8".into(),
    })?;
    Ok(if text.contains('\r') {
        text.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        text
    })
}

/// A reduced registration file.
struct Reduced {
    text: String,
    kept: usize,
    removed: usize,
    /// Every entry with its domain name and whether it was kept.
    entries: Vec<checks::Entry>,
}

fn reduce_segments(
    path: &Path,
    segments: &[Segment<'_>],
    requirements: &Requirements,
    types: Option<&TypeReduction>,
) -> Result<Reduced> {
    let mut out = Reduced {
        text: String::new(),
        kept: 0,
        removed: 0,
        entries: Vec::new(),
    };
    for segment in segments {
        let (registration, lines, line_number) = match segment {
            Segment::Other(line) => {
                out.text.push_str(line);
                continue;
            }
            Segment::Entry {
                registration,
                lines,
                line_number,
            } => (registration, lines, *line_number),
        };
        let domain = domain_of_constant(&registration.domain_constant).ok_or_else(|| {
            Error::RegistrationSource {
                path: path.to_path_buf(),
                line: line_number,
                reason: format!(
                    "unknown domain constant `{}` in a kernel registration",
                    registration.domain_constant
                ),
            }
        })?;
        let mut keep = requirements.is_required(
            domain,
            &registration.op_type,
            registration.since,
            registration.end,
        );
        if let (true, Some(reg_type), Some(types)) = (keep, &registration.type_string, types) {
            keep = types.is_needed(domain, &registration.op_type, reg_type)?;
        }
        if keep {
            out.kept += 1;
            lines.iter().for_each(|line| out.text.push_str(line));
        } else {
            out.removed += 1;
            for line in lines {
                out.text.push_str("// ");
                out.text.push_str(line);
            }
            // The table's last entry may carry the closing `};`, which must stay active.
            if lines.last().is_some_and(|l| l.trim_end().ends_with("};")) {
                out.text.push_str("};\n");
            }
        }
        out.entries.push(checks::Entry {
            domain: domain.to_string(),
            registration: registration.clone(),
            kept: keep,
        });
    }
    Ok(out)
}

/// The overrides include: the original bytes, or with `cpp_lines` replacing the content between
/// the `@@insertion_point_begin(allowed_types)@@` / `…end…` marker lines.
fn type_control_overrides(source: &Path, cpp_lines: &[String]) -> Result<Vec<u8>> {
    if cpp_lines.is_empty() {
        return std::fs::read(source).map_err(|e| Error::io("reading", source, e));
    }
    let text = read_text(source)?;
    let mut out = String::with_capacity(text.len() + 80 * cpp_lines.len());
    let mut inside = false;
    let mut inserted = false;
    for line in text.split_inclusive('\n') {
        if line.contains("@@insertion_point_begin(allowed_types)@@") {
            out.push_str(line);
            for cpp in cpp_lines {
                out.push_str(cpp);
                out.push('\n');
            }
            inside = true;
            inserted = true;
            continue;
        }
        if inside {
            if line.contains("@@insertion_point_end(allowed_types)@@") {
                inside = false;
            } else {
                continue;
            }
        }
        out.push_str(line);
    }
    if !inserted {
        return Err(Error::RegistrationSource {
            path: source.to_path_buf(),
            line: 1,
            reason: "no `@@insertion_point_begin(allowed_types)@@` marker".into(),
        });
    }
    Ok(out.into_bytes())
}
