//! `ort-compact toolchain`: locate and check the build tools.

use ort_compact_build::{tools::Toolchain, Result};

/// Arguments of `ort-compact toolchain`.
#[derive(clap::Args)]
pub struct Args {}

/// Print each tool with its version and path; fail with an install hint if one is unusable.
pub fn run(_args: Args) -> Result<()> {
    let tools = Toolchain::detect()?;
    print!("{}", tools.summary());
    Ok(())
}
