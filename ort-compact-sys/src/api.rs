//! Access to the linked runtime's `OrtApi` table and conversion of `OrtStatus` into [`Error`].
//! Everything `unsafe` that touches ONNX Runtime goes through here or through the owning
//! handle types of the other modules.

use crate::error::{Error, ErrorCode, Result};
use crate::sys;
use std::ffi::CStr;
use std::sync::OnceLock;

/// The API table of the linked runtime, fetched once.
pub(crate) fn api() -> Result<&'static sys::OrtApi> {
    static API: OnceLock<Result<&'static sys::OrtApi>> = OnceLock::new();
    API.get_or_init(load).clone()
}

#[cfg(any(target_os = "emscripten", feature = "host-runtime"))]
fn api_base() -> Option<&'static sys::OrtApiBase> {
    // SAFETY: `OrtGetApiBase` takes no arguments and returns a pointer to a static table (or
    // null, which `as_ref` turns into `None`).
    unsafe { sys::OrtGetApiBase().as_ref() }
}

#[cfg(not(any(target_os = "emscripten", feature = "host-runtime")))]
fn api_base() -> Option<&'static sys::OrtApiBase> {
    None
}

fn load() -> Result<&'static sys::OrtApi> {
    let base = api_base().ok_or(Error::NoRuntime)?;
    let get = base.GetApi.ok_or(Error::NoRuntime)?;
    // SAFETY: `GetApi` returns a pointer to a static table or null for an unknown version.
    let table = unsafe { get(sys::ORT_API_VERSION).as_ref() };
    table.ok_or(Error::ApiVersion {
        requested: sys::ORT_API_VERSION,
    })
}

/// The version string of the linked ONNX Runtime (`"1.21.0"`).
pub fn runtime_version() -> Result<String> {
    let base = api_base().ok_or(Error::NoRuntime)?;
    let get = base.GetVersionString.ok_or(Error::NoRuntime)?;
    // SAFETY: returns a pointer to a static NUL-terminated string (or null).
    let ptr = unsafe { get() };
    if ptr.is_null() {
        return Ok(String::new());
    }
    // SAFETY: non-null, NUL-terminated, static.
    Ok(unsafe { CStr::from_ptr(ptr) }
        .to_string_lossy()
        .into_owned())
}

/// The error for a function pointer the table lacks (never the case for ONNX Runtime 1.21).
pub(crate) fn missing(name: &str) -> Error {
    Error::Ort {
        code: ErrorCode::NotImplemented,
        message: format!("the linked ONNX Runtime's API table has no {name}"),
    }
}

/// Look up a function pointer of the API table, as `Result`.
macro_rules! func {
    ($api:expr, $name:ident) => {
        $api.$name
            .ok_or_else(|| crate::api::missing(stringify!($name)))
    };
}
pub(crate) use func;

/// Turn an `OrtStatus*` into `Ok(())` (null) or the error it describes (and release it).
///
/// # Safety
/// `status` must be null or a status returned by `api` that has not been released.
pub(crate) unsafe fn check(api: &sys::OrtApi, status: sys::OrtStatusPtr) -> Result<()> {
    if status.is_null() {
        return Ok(());
    }
    let code = match api.GetErrorCode {
        // SAFETY: `status` is a live status (caller's contract).
        Some(f) => ErrorCode::from_raw(unsafe { f(status) }),
        None => ErrorCode::Fail,
    };
    let message = match api.GetErrorMessage {
        Some(f) => {
            // SAFETY: as above; the message lives as long as the status.
            let ptr = unsafe { f(status) };
            if ptr.is_null() {
                String::new()
            } else {
                // SAFETY: non-null, NUL-terminated, alive until the status is released below.
                unsafe { CStr::from_ptr(ptr) }
                    .to_string_lossy()
                    .into_owned()
            }
        }
        None => String::new(),
    };
    if let Some(release) = api.ReleaseStatus {
        // SAFETY: released exactly once, after its last use.
        unsafe { release(status) };
    }
    Err(Error::Ort { code, message })
}

/// Call an API function returning `OrtStatus*` and convert the status.
macro_rules! call {
    ($api:expr, $name:ident ( $($arg:expr),* $(,)? )) => {{
        let api: &crate::sys::OrtApi = $api;
        let f = crate::api::func!(api, $name)?;
        // SAFETY: the callers pass pointers that are valid for the call, as each call site
        // documents; the returned status is fresh.
        unsafe { crate::api::check(api, f($($arg),*)) }
    }};
}
pub(crate) use call;

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(not(any(target_os = "emscripten", feature = "host-runtime")))]
    #[test]
    fn host_without_runtime_reports_it() {
        let e = api().unwrap_err();
        assert_eq!(e, Error::NoRuntime);
        assert!(e.to_string().contains("wasm32-unknown-emscripten"));
        assert_eq!(runtime_version().unwrap_err(), Error::NoRuntime);
    }
}
