//! Required operators of a set of models, and ORT's operator config format.
//!
//! - [`extract`]: operators (and optionally argument types) of `.onnx` and `.ort` models,
//!   including all subgraphs.
//! - [`config`]: [`OpConfig`] — ORT's `required_operators[_and_types].config` text format
//!   (parse + write).
//! - [`features`]: [`TypeFamilies`] — which optional data-type families (sparse, optional,
//!   float8) the models need, so the runtime can leave the others out.
//! - [`type_rules`]: which argument types matter per operator (type reduction), and the
//!   registration filter the kernel-reduction stage applies.

pub mod config;
#[cfg(any(test, feature = "fuzzing"))]
mod config_read;
pub mod extract;
pub mod features;
pub mod type_rules;

pub use config::{OpConfig, TypeUsage};
#[cfg(any(test, feature = "fuzzing"))]
pub use extract::required_ops;
#[cfg(test)]
pub use extract::required_ops_of_files;
pub use extract::Collector;
pub use features::TypeFamilies;
