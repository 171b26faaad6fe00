//! The one error type of the crate.
//!
//! Every variant names the file, node or tool it is about and, where there is one, the fix: what
//! to install, which environment variable to set, or what to change in the model.

use std::path::PathBuf;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong between a model file and a finished runtime.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    // ---- files ---------------------------------------------------------------------------
    /// An I/O operation on a named file failed.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What was being done ("reading", "creating", …).
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A write failed because the disk is full.
    #[error(
        "{action} {}: no space left on device. Free space on that disk, remove old cache entries \
         with `ort-compact cache prune`, or set ORT_COMPACT_CACHE_DIR to a disk with room \
         (sources, one warm build dir and the archives take about 1 GB)",
        path.display()
    )]
    DiskFull {
        /// What was being done.
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A model path does not exist.
    #[error("model file {} does not exist{}", path.display(), relative_hint(path))]
    ModelNotFound {
        /// The path given.
        path: PathBuf,
    },
    /// A directory was given where a model file was expected.
    #[error("{} is a directory, not a model file (.onnx or .ort)", path.display())]
    ModelIsDirectory {
        /// The path given.
        path: PathBuf,
    },
    /// The model file is empty.
    #[error("model file {} is empty", path.display())]
    EmptyModel {
        /// The path given.
        path: PathBuf,
    },

    // ---- model (ONNX protobuf / ORT flatbuffer) ------------------------------------------
    /// The file is not a valid ONNX protobuf.
    #[error("{} is not a valid ONNX model: {reason}", path.display())]
    InvalidOnnx {
        /// The model file.
        path: PathBuf,
        /// What the decoder said.
        reason: String,
    },
    /// The file is not a valid ORT-format flatbuffer.
    #[error("{} is not a valid ORT-format model: {reason}", path.display())]
    InvalidOrtFormat {
        /// The model file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The ORT-format file has a format version this crate cannot read.
    #[error(
        "{} uses ORT format version {found}; ONNX Runtime 1.21.0 reads version {expected}. \
         Re-convert the model with ONNX Runtime 1.21.0 or give the .onnx file instead",
        path.display()
    )]
    OrtFormatVersion {
        /// The model file.
        path: PathBuf,
        /// Version found in the file.
        found: String,
        /// Version supported.
        expected: String,
    },
    /// Something in a graph is invalid; `node` names where.
    #[error("{}: node '{node}': {reason}", path.display())]
    InvalidNode {
        /// The model file.
        path: PathBuf,
        /// Node name (or `#index` when unnamed).
        node: String,
        /// What is wrong.
        reason: String,
    },
    /// A node uses an operator domain that ONNX Runtime 1.21.0's CPU kernels do not provide.
    #[error(
        "{}: node '{node}' uses operator domain '{domain}', which ONNX Runtime 1.21.0 has no CPU \
         kernels for (known: ai.onnx, ai.onnx.ml, com.microsoft)",
        path.display()
    )]
    UnknownDomain {
        /// The model file.
        path: PathBuf,
        /// Node name.
        node: String,
        /// The domain.
        domain: String,
    },
    /// A tensor stores its data in an external file that could not be used.
    #[error("{}: tensor '{tensor}' uses external data: {reason}", path.display())]
    ExternalData {
        /// The model file.
        path: PathBuf,
        /// Tensor name.
        tensor: String,
        /// What went wrong (missing file, bad offset …).
        reason: String,
    },
    /// The model imports an opset newer than ONNX Runtime 1.21.0 supports.
    #[error(
        "{}: opset {version} of domain '{domain}' is newer than ONNX Runtime 1.21.0 supports \
         (at most {max}); export the model with opset <= {max}",
        path.display()
    )]
    OpsetTooNew {
        /// The model file.
        path: PathBuf,
        /// Domain.
        domain: String,
        /// Imported version.
        version: i64,
        /// Highest supported.
        max: i64,
    },
    /// An operator is not known at the model's opset.
    #[error(
        "{}: node '{node}': operator {domain}:{op_type} is unknown at opset {opset} to ONNX \
         Runtime 1.21.0",
        path.display()
    )]
    UnknownOperator {
        /// The model file.
        path: PathBuf,
        /// Node name.
        node: String,
        /// Domain.
        domain: String,
        /// Operator type.
        op_type: String,
        /// Opset imported for the domain.
        opset: i64,
    },
    /// The element type of a value could not be determined.
    #[error(
        "{}: node '{node}': cannot infer the element type of value '{value}'; add value_info \
         for it to the model (e.g. run onnx.shape_inference)",
        path.display()
    )]
    TypeInference {
        /// The model file.
        path: PathBuf,
        /// Node name.
        node: String,
        /// Value name.
        value: String,
    },

    // ---- sources -------------------------------------------------------------------------
    /// The pin file could not be read or parsed.
    #[error("pin file {}: {reason}", path.display())]
    PinFile {
        /// The pin file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A source archive does not have the pinned hash.
    #[error(
        "sha256 mismatch for {}: expected {expected}, got {actual}. The file is not the pinned \
         source; delete it and run `ort-compact provision` again",
        path.display()
    )]
    HashMismatch {
        /// The archive.
        path: PathBuf,
        /// Pinned hash.
        expected: String,
        /// Actual hash.
        actual: String,
    },
    /// Pinned source archives could not be found in the cache, a mirror or apt.
    #[error("{} pinned source archive(s) could not be found:\n{listing}{hint}", files.len())]
    ArchivesUnavailable {
        /// The archives' file names.
        files: Vec<String>,
        /// Each file with its sha256, its path in a Debian mirror and what was tried.
        listing: String,
        /// How to provide them.
        hint: String,
    },
    /// A mirror (`ORT_COMPACT_MIRROR`, `Builder::mirror`) that cannot be used.
    #[error(
        "mirror '{spec}' cannot be used: {reason}. A mirror is an http:// or https:// base URL, \
         a file:// URL or a directory"
    )]
    BadMirror {
        /// The mirror as given.
        spec: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A source archive is missing and could not be fetched.
    #[error("source archive {} is missing: {hint}", path.display())]
    MissingArchive {
        /// Where the archive was expected.
        path: PathBuf,
        /// How to provide it.
        hint: String,
    },
    /// A user-provided ONNX Runtime checkout is unusable.
    #[error("ONNX Runtime source at {} (from {var}): {reason}", path.display())]
    BadSourceDir {
        /// The directory.
        path: PathBuf,
        /// The environment variable it came from.
        var: &'static str,
        /// What is wrong.
        reason: String,
    },

    // ---- toolchain -----------------------------------------------------------------------
    /// A required tool is missing.
    #[error("{tool} not found ({searched}). {hint}")]
    ToolMissing {
        /// The tool.
        tool: &'static str,
        /// Where it was looked for.
        searched: String,
        /// What to install or set.
        hint: String,
    },
    /// A required tool is too old (or its version unreadable).
    #[error("{tool} at {} is version {found}; {required} is required. {hint}", path.display())]
    ToolTooOld {
        /// The tool.
        tool: &'static str,
        /// Where it was found.
        path: PathBuf,
        /// The version it reported.
        found: String,
        /// The version needed.
        required: String,
        /// What to install or set.
        hint: String,
    },

    // ---- build ---------------------------------------------------------------------------
    /// An external command failed.
    #[error(
        "{what} failed ({status}); last lines of the log:\n{tail}\nfull log: {}",
        log.display()
    )]
    CommandFailed {
        /// Which step.
        what: String,
        /// Exit status text.
        status: String,
        /// Last lines of output.
        tail: String,
        /// The full log.
        log: PathBuf,
    },
    /// The built runtime could not run a model.
    #[error("verification of {} in the built runtime failed: {reason}", model.display())]
    Verification {
        /// The model.
        model: PathBuf,
        /// What happened (names the missing op where that is the cause).
        reason: String,
    },
    /// Invalid builder configuration.
    #[error("invalid configuration: {0}")]
    Config(String),

    /// The built runtime pair could not be stamped with its build id (a damaged cache entry).
    #[error(
        "stamping the runtime pair with its build id: {0}; rebuild the runtime \
         (`ort-compact cache prune` removes a damaged cache entry)"
    )]
    Pair(String),
    /// A deploy bundle could not be written; the bundle directory was left as it was.
    #[error("bundle {}: {reason}", dir.display())]
    Bundle {
        /// The bundle directory.
        dir: PathBuf,
        /// What went wrong and what to do about it.
        reason: String,
    },

    // ---- reduce (operator-kernel reduction) ----------------------------------------------
    /// A required operator has no CPU kernel registration in ONNX Runtime 1.21.0.
    #[error(
        "operator {domain}:{op_type} (opset {opset}) has no CPU kernel in ONNX Runtime 1.21.0 \
         ({available}); export the model with an opset that has a kernel, or replace the operator"
    )]
    NoKernel {
        /// Domain as written in the op config ("ai.onnx", "com.microsoft", …).
        domain: String,
        /// Operator type.
        op_type: String,
        /// Opset required by the config for this domain.
        opset: i64,
        /// Which opset ranges do have kernels ("no kernel for this operator at all" if none).
        available: String,
    },
    /// A kernel registration source of ONNX Runtime could not be processed.
    #[error(
        "{}:{line}: {reason}; the ONNX Runtime source is not the pinned 1.21.0 or was modified",
        path.display()
    )]
    RegistrationSource {
        /// The registration file (in the ONNX Runtime source tree).
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What could not be parsed.
        reason: String,
    },
}

/// For a relative path, where it was looked for and why (empty for an absolute one).
fn relative_hint(path: &std::path::Path) -> String {
    match std::path::absolute(path) {
        Ok(abs) if path.is_relative() => format!(
            " (looked for {}: relative paths start at the current directory, which in a build \
             script is the crate's directory)",
            abs.display()
        ),
        _ => String::new(),
    }
}

impl Error {
    /// Shorthand for [`Error::Io`], or [`Error::DiskFull`] when `source` says the disk is full.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        let path = path.into();
        if source.kind() == std::io::ErrorKind::StorageFull {
            return Error::DiskFull {
                action,
                path,
                source,
            };
        }
        Error::Io {
            action,
            path,
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_says_how_to_make_room() {
        // Linux's /dev/full fails every write with ENOSPC.
        if !std::path::Path::new("/dev/full").exists() {
            return;
        }
        let e = std::fs::write("/dev/full", b"x").unwrap_err();
        let err = Error::io("writing", "/dev/full", e);
        assert!(matches!(err, Error::DiskFull { .. }), "{err:?}");
        let text = err.to_string();
        assert!(
            text.contains("no space left") && text.contains("cache prune"),
            "{text}"
        );
        let other = Error::io("reading", "/x", std::io::ErrorKind::NotFound.into());
        assert!(matches!(other, Error::Io { .. }));
    }
}
