//! Owning guards for the short-lived ONNX Runtime objects the safe layer creates internally
//! (values, type infos, memory infos): each is released exactly once when dropped, including
//! on every early error return.

use crate::sys;

macro_rules! guard {
    ($(#[$doc:meta])* $name:ident, $raw:ty, $release:ident) => {
        $(#[$doc])*
        pub(crate) struct $name {
            api: &'static sys::OrtApi,
            ptr: *mut $raw,
        }

        impl $name {
            /// Take ownership of `ptr` (may be null: then nothing is released).
            ///
            /// # Safety
            /// `ptr` is null or a live object of this kind that nothing else releases.
            pub(crate) unsafe fn new(api: &'static sys::OrtApi, ptr: *mut $raw) -> Self {
                $name { api, ptr }
            }

            /// The raw pointer (still owned by the guard).
            pub(crate) fn ptr(&self) -> *mut $raw {
                self.ptr
            }
        }

        impl Drop for $name {
            fn drop(&mut self) {
                if !self.ptr.is_null() {
                    if let Some(release) = self.api.$release {
                        // SAFETY: owned (constructor contract), released once.
                        unsafe { release(self.ptr) };
                    }
                }
            }
        }
    };
}

guard!(
    /// An `OrtValue`.
    Value,
    sys::OrtValue,
    ReleaseValue
);
guard!(
    /// An `OrtTypeInfo`.
    TypeInfo,
    sys::OrtTypeInfo,
    ReleaseTypeInfo
);
guard!(
    /// An `OrtTensorTypeAndShapeInfo` (owned, as `GetTensorTypeAndShape` returns it).
    ShapeInfo,
    sys::OrtTensorTypeAndShapeInfo,
    ReleaseTensorTypeAndShapeInfo
);
guard!(
    /// An `OrtMemoryInfo`.
    MemoryInfo,
    sys::OrtMemoryInfo,
    ReleaseMemoryInfo
);

// SAFETY: a CPU memory info is an immutable description; ONNX Runtime reads it from any thread.
unsafe impl Send for MemoryInfo {}
// SAFETY: as above, only read.
unsafe impl Sync for MemoryInfo {}
