//! Small helpers shared by the stages.

use crate::error::{Error, Result};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::Path;

/// Hex sha256 of a file, streamed.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut file = std::fs::File::open(path).map_err(|e| Error::io("opening", path, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file
            .read(&mut buf)
            .map_err(|e| Error::io("reading", path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

/// Hex sha256 of bytes.
pub fn sha256_bytes(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Lower-case hex encoding.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// Run a command with its stdout and stderr appended to `log`; on failure the error carries the
/// last lines of the log.
pub fn run_logged(cmd: &mut std::process::Command, what: &str, log: &Path) -> Result<()> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| Error::io("opening log", log, e))?;
    let _ = writeln!(file, "$ {cmd:?}");
    let err_file = file
        .try_clone()
        .map_err(|e| Error::io("opening log", log, e))?;
    let status = cmd
        .stdout(file)
        .stderr(err_file)
        .status()
        .map_err(|e| Error::CommandFailed {
            what: what.to_string(),
            status: format!("could not start {:?}: {e}", cmd.get_program()),
            tail: String::new(),
            log: log.to_path_buf(),
        })?;
    if status.success() {
        return Ok(());
    }
    Err(Error::CommandFailed {
        what: what.to_string(),
        status: status.to_string(),
        tail: tail_of(log, 30),
        log: log.to_path_buf(),
    })
}

/// The last `n` lines of a text file (empty if unreadable).
pub fn tail_of(path: &Path, n: usize) -> String {
    let text = std::fs::read(path).unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Write `bytes` to `path` atomically: a temporary file in the same directory, renamed into
/// place, so a failure or interruption never leaves a partial file. The file gets ordinary
/// permissions (0644 on Unix; temporary files start private).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(dir)
        .map_err(|e| Error::io("creating a temporary file in", dir, e))?;
    tmp.write_all(bytes)
        .map_err(|e| Error::io("writing", tmp.path().to_path_buf(), e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = tmp
            .as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644));
    }
    tmp.persist(path)
        .map_err(|e| Error::io("renaming into", path, e.error))?;
    Ok(())
}
