//! The node that runs the verify driver: located and version-checked by [`crate::toolchain`].

use crate::env::Env;
use crate::error::Result;
use std::path::{Path, PathBuf};

/// The node to use: `$ORT_COMPACT_NODE` if set, else `node` on `PATH` (version-checked).
pub fn find_node() -> Result<PathBuf> {
    crate::toolchain::find_node(&Env::new()).map(|t| t.path)
}

/// Checks that `node` runs and is at least the version the driver needs (18: ES modules,
/// `performance`, top-level await); returns its version (e.g. `20.20.2`).
pub fn check_node(node: &Path) -> Result<String> {
    crate::toolchain::check_node(node).map(|t| t.version.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn missing_node_is_tool_missing() {
        let err = check_node(Path::new("/nonexistent/node")).unwrap_err();
        assert!(
            matches!(err, Error::ToolMissing { tool: "node", .. }),
            "{err}"
        );
        assert!(err.to_string().contains("ORT_COMPACT_NODE"), "{err}");
    }

    #[test]
    fn non_node_executable_is_refused() {
        // `true` prints nothing: version unreadable → ToolTooOld with the install hint.
        let Some(t) = ["/bin/true", "/usr/bin/true"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.is_file())
        else {
            return;
        };
        let err = check_node(&t).unwrap_err();
        assert!(
            matches!(err, Error::ToolTooOld { tool: "node", .. }),
            "{err}"
        );
    }
}
