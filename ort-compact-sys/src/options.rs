//! [`SessionOptions`]: how a session is created.

use crate::api::{api, call};
use crate::error::{Error, Result};
use crate::sys;
use std::ffi::CString;
use std::ptr::NonNull;

/// Graph optimisation level applied when a session is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptimizationLevel {
    /// No graph optimisations.
    Disabled,
    /// Basic (constant folding, redundant node removal).
    Basic,
    /// Basic plus extended fusions.
    Extended,
    /// Everything available (ONNX Runtime's default).
    All,
}

impl OptimizationLevel {
    fn raw(self) -> sys::GraphOptimizationLevel {
        match self {
            OptimizationLevel::Disabled => sys::ORT_DISABLE_ALL,
            OptimizationLevel::Basic => sys::ORT_ENABLE_BASIC,
            OptimizationLevel::Extended => sys::ORT_ENABLE_EXTENDED,
            OptimizationLevel::All => sys::ORT_ENABLE_ALL,
        }
    }
}

/// Options for [`crate::Session`] creation (an `OrtSessionOptions`, released on drop).
///
/// Thread safety: `Send + Sync` — changing options needs `&mut self`; sessions only read them.
#[derive(Debug)]
pub struct SessionOptions {
    ptr: NonNull<sys::OrtSessionOptions>,
}

// SAFETY: the options object is owned exclusively; ONNX Runtime only reads it during session
// creation, and every mutation goes through `&mut self`.
unsafe impl Send for SessionOptions {}
// SAFETY: shared references only allow reads (session creation).
unsafe impl Sync for SessionOptions {}

impl SessionOptions {
    /// ONNX Runtime's default options.
    pub fn new() -> Result<Self> {
        let api = api()?;
        let mut raw: *mut sys::OrtSessionOptions = std::ptr::null_mut();
        call!(api, CreateSessionOptions(&mut raw))?;
        let ptr = NonNull::new(raw).ok_or_else(|| crate::api::missing("OrtSessionOptions"))?;
        Ok(SessionOptions { ptr })
    }

    /// Set the graph optimisation level.
    pub fn optimization_level(&mut self, level: OptimizationLevel) -> Result<&mut Self> {
        call!(
            api()?,
            SetSessionGraphOptimizationLevel(self.ptr.as_ptr(), level.raw())
        )?;
        Ok(self)
    }

    /// Threads used inside one operator (a single-threaded WebAssembly runtime uses 1).
    pub fn intra_op_threads(&mut self, threads: i32) -> Result<&mut Self> {
        call!(api()?, SetIntraOpNumThreads(self.ptr.as_ptr(), threads))?;
        Ok(self)
    }

    /// Set a session configuration entry (ONNX Runtime's `session.*` keys, e.g.
    /// `session.disable_prepacking` = `1`).
    pub fn config_entry(&mut self, key: &str, value: &str) -> Result<&mut Self> {
        let k = CString::new(key).map_err(|_| Error::NulInName(key.to_string()))?;
        let v = CString::new(value).map_err(|_| Error::NulInName(value.to_string()))?;
        call!(
            api()?,
            AddSessionConfigEntry(self.ptr.as_ptr(), k.as_ptr(), v.as_ptr())
        )?;
        Ok(self)
    }

    pub(crate) fn as_ptr(&self) -> *const sys::OrtSessionOptions {
        self.ptr.as_ptr()
    }
}

impl Drop for SessionOptions {
    fn drop(&mut self) {
        if let Ok(api) = api() {
            if let Some(release) = api.ReleaseSessionOptions {
                // SAFETY: created by CreateSessionOptions, released exactly once.
                unsafe { release(self.ptr.as_ptr()) };
            }
        }
    }
}
