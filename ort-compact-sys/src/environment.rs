//! [`Environment`]: ONNX Runtime's process-wide state (logging, default allocators).

use crate::api::{api, call};
use crate::error::{Error, Result};
use crate::sys;
use std::ffi::CString;
use std::ptr::NonNull;
use std::sync::{Arc, Mutex};

/// ONNX Runtime's logging severity (messages go to stderr, i.e. the console under Emscripten).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogLevel {
    /// Everything.
    Verbose,
    /// Informational and above.
    Info,
    /// Warnings and above (the default).
    #[default]
    Warning,
    /// Errors and above.
    Error,
    /// Fatal errors only.
    Fatal,
}

impl LogLevel {
    fn raw(self) -> sys::OrtLoggingLevel {
        match self {
            LogLevel::Verbose => sys::ORT_LOGGING_LEVEL_VERBOSE,
            LogLevel::Info => sys::ORT_LOGGING_LEVEL_INFO,
            LogLevel::Warning => sys::ORT_LOGGING_LEVEL_WARNING,
            LogLevel::Error => sys::ORT_LOGGING_LEVEL_ERROR,
            LogLevel::Fatal => sys::ORT_LOGGING_LEVEL_FATAL,
        }
    }
}

/// Owns one `OrtEnv` reference; released on drop.
#[derive(Debug)]
struct EnvHandle(NonNull<sys::OrtEnv>);

// SAFETY: ONNX Runtime's environment is documented as thread-safe; the handle is only released
// once (in `Drop`), after every `Session` holding an `Arc` to it is gone.
unsafe impl Send for EnvHandle {}
// SAFETY: see above; no method mutates the environment through a shared reference.
unsafe impl Sync for EnvHandle {}

impl Drop for EnvHandle {
    fn drop(&mut self) {
        if let Ok(api) = api() {
            if let Some(release) = api.ReleaseEnv {
                // SAFETY: the pointer came from CreateEnv and is released exactly once.
                unsafe { release(self.0.as_ptr()) };
            }
        }
    }
}

/// An ONNX Runtime environment. Cheap to clone (shared); every [`crate::Session`] keeps the
/// environment it was created in alive.
///
/// Thread safety: `Send + Sync` — ONNX Runtime's environment may be used from any thread.
#[derive(Debug, Clone)]
pub struct Environment {
    handle: Arc<EnvHandle>,
}

impl Environment {
    /// A new environment logging warnings and above under the id `ort-compact`.
    pub fn new() -> Result<Self> {
        Self::with_logging(LogLevel::Warning, "ort-compact")
    }

    /// A new environment with this log level and log id.
    pub fn with_logging(level: LogLevel, log_id: &str) -> Result<Self> {
        let api = api()?;
        let id = CString::new(log_id).map_err(|_| Error::NulInName(log_id.to_string()))?;
        let mut raw: *mut sys::OrtEnv = std::ptr::null_mut();
        call!(api, CreateEnv(level.raw(), id.as_ptr(), &mut raw))?;
        let ptr = NonNull::new(raw).ok_or_else(|| crate::api::missing("OrtEnv (null)"))?;
        Ok(Environment {
            handle: Arc::new(EnvHandle(ptr)),
        })
    }

    /// The process-wide default environment (created on first use, then shared).
    pub fn shared() -> Result<Self> {
        static SHARED: Mutex<Option<Environment>> = Mutex::new(None);
        let mut guard = SHARED.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(env) = guard.as_ref() {
            return Ok(env.clone());
        }
        let env = Environment::new()?;
        *guard = Some(env.clone());
        Ok(env)
    }

    pub(crate) fn as_ptr(&self) -> *const sys::OrtEnv {
        self.handle.0.as_ptr()
    }
}
