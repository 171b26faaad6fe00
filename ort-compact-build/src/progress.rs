//! Progress messages for long work: `cargo:warning=` lines in a build script, stderr in the CLI.

use std::time::Instant;

/// Where progress messages go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressMode {
    /// `cargo:warning=` lines (shown by cargo while a build script runs).
    Cargo,
    /// Plain lines on stderr.
    Stderr,
    /// Nothing.
    Silent,
}

/// Reports pipeline stages with the elapsed time since the reporter was made.
#[derive(Debug, Clone)]
pub struct Progress {
    mode: ProgressMode,
    start: Instant,
}

impl Progress {
    /// A reporter writing to `mode`.
    pub fn new(mode: ProgressMode) -> Self {
        Progress {
            mode,
            start: Instant::now(),
        }
    }

    /// Report one message.
    pub fn say(&self, msg: impl AsRef<str>) {
        let secs = self.start.elapsed().as_secs_f64();
        match self.mode {
            ProgressMode::Cargo => {
                for line in msg.as_ref().lines() {
                    println!("cargo:warning=ort-compact-build [{secs:6.1}s] {line}");
                }
            }
            ProgressMode::Stderr => eprintln!("[{secs:6.1}s] {}", msg.as_ref()),
            ProgressMode::Silent => {}
        }
    }
}

impl Default for Progress {
    fn default() -> Self {
        Progress::new(ProgressMode::Silent)
    }
}
