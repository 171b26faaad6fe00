//! Unpack archives with the system `tar` (and `ar` for Debian binary packages).

use crate::error::{Error, Result};
use crate::util::run_logged;
use std::path::Path;
use std::process::Command;

/// Unpack `archive` into the empty directory `dest`.
///
/// A tarball's single top-level directory is stripped. For a `.deb`, only `include` paths are
/// kept, and the content of its directory `root` becomes the top of `dest`.
pub fn unpack(
    archive: &Path,
    dest: &Path,
    include: &[String],
    root: Option<&str>,
    log: &Path,
) -> Result<()> {
    std::fs::create_dir_all(dest).map_err(|e| Error::io("creating", dest, e))?;
    let name = archive.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if name.ends_with(".deb") {
        unpack_deb(archive, dest, include, root.unwrap_or(""), log)
    } else {
        let what = format!("unpacking {name}");
        run_logged(
            Command::new("tar")
                .arg("-xf")
                .arg(archive)
                .arg("-C")
                .arg(dest)
                .arg("--strip-components=1"),
            &what,
            log,
        )
    }
}

fn unpack_deb(
    archive: &Path,
    dest: &Path,
    include: &[String],
    root: &str,
    log: &Path,
) -> Result<()> {
    let name = archive.display().to_string();
    let staging = dest.join(".deb-staging");
    std::fs::create_dir_all(&staging).map_err(|e| Error::io("creating", &staging, e))?;
    let listing = Command::new("ar")
        .arg("t")
        .arg(archive)
        .output()
        .map_err(|e| Error::io("running `ar t` (install binutils) on", archive, e))?;
    let member = String::from_utf8_lossy(&listing.stdout)
        .lines()
        .find(|l| l.starts_with("data.tar"))
        .map(str::to_string)
        .ok_or_else(|| Error::MissingArchive {
            path: archive.to_path_buf(),
            hint: "it is not a Debian package (no data.tar member); delete it and provision again"
                .into(),
        })?;
    run_logged(
        Command::new("ar")
            .current_dir(&staging)
            .arg("x")
            .arg(archive)
            .arg(&member),
        &format!("extracting {member} from {name}"),
        log,
    )?;
    let mut tar = Command::new("tar");
    tar.current_dir(&staging).arg("-xf").arg(&member);
    for inc in include {
        tar.arg(format!("./{}", inc.trim_start_matches("./")));
    }
    run_logged(&mut tar, &format!("unpacking {member} of {name}"), log)?;
    let kept = staging.join(root.trim_matches('/'));
    for entry in std::fs::read_dir(&kept).map_err(|e| Error::io("reading", &kept, e))? {
        let entry = entry.map_err(|e| Error::io("reading", &kept, e))?;
        let to = dest.join(entry.file_name());
        std::fs::rename(entry.path(), &to).map_err(|e| Error::io("moving into", &to, e))?;
    }
    std::fs::remove_dir_all(&staging).map_err(|e| Error::io("removing", &staging, e))
}

/// Copy a directory tree (used for overlays and for a user's ORT checkout); `.git` is skipped.
pub fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).map_err(|e| Error::io("creating", to, e))?;
    for entry in std::fs::read_dir(from).map_err(|e| Error::io("reading", from, e))? {
        let entry = entry.map_err(|e| Error::io("reading", from, e))?;
        let src = entry.path();
        let dst = to.join(entry.file_name());
        let ty = entry
            .file_type()
            .map_err(|e| Error::io("reading", &src, e))?;
        if ty.is_dir() {
            if entry.file_name() != ".git" {
                copy_tree(&src, &dst)?;
            }
        } else if ty.is_symlink() {
            let target =
                std::fs::read_link(&src).map_err(|e| Error::io("reading link", &src, e))?;
            #[cfg(unix)]
            std::os::unix::fs::symlink(&target, &dst)
                .map_err(|e| Error::io("creating link", &dst, e))?;
            #[cfg(not(unix))]
            std::fs::copy(&src, &dst).map_err(|e| Error::io("copying to", &dst, e))?;
        } else {
            std::fs::copy(&src, &dst).map_err(|e| Error::io("copying to", &dst, e))?;
        }
    }
    Ok(())
}
