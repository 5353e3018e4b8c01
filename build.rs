//! Records the git revision the binary is built from, for `ptyhub --version`,
//! `ptyhub status` and the daemon's API (`src/build_info.rs`).
//!
//! Two binaries both called "0.1.0" can differ by a hundred commits here, and
//! an in-place upgrade makes "which build is the daemon running?" a real
//! question. So the revision goes into the binary as `PTYHUB_GIT_REVISION`:
//! `c07e26e`, `c07e26e-dirty` when the tree had uncommitted changes, or
//! `unknown` when there is no repository (a crate tarball) or no git.
//! Packagers building outside git may set `PTYHUB_GIT_REVISION` themselves.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=PTYHUB_GIT_REVISION");
    let revision = match std::env::var("PTYHUB_GIT_REVISION") {
        Ok(given) if !given.trim().is_empty() => given.trim().to_owned(),
        _ => {
            let manifest_dir = PathBuf::from(
                std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
            );
            git_revision(&manifest_dir).unwrap_or_else(|| "unknown".to_owned())
        }
    };
    println!("cargo:rustc-env=PTYHUB_GIT_REVISION={revision}");
}

/// The short revision of HEAD, `-dirty` when the tree differs from it; `None`
/// without git or outside a repository that holds this crate.
fn git_revision(manifest_dir: &Path) -> Option<String> {
    // A crate tarball unpacked inside someone else's repository (a vendor
    // folder) must not report that repository's revision: the crate's own
    // Cargo.toml has to be tracked by the repository git finds.
    git(manifest_dir, &["ls-files", "--error-unmatch", "Cargo.toml"])?;
    watch_git_files(manifest_dir);
    let short = git(manifest_dir, &["rev-parse", "--short", "HEAD"])?;
    // Untracked files count too: a new source file not yet added changes the build.
    let changes = git(manifest_dir, &["status", "--porcelain"])?;
    Some(if changes.is_empty() {
        short
    } else {
        format!("{short}-dirty")
    })
}

/// Reruns this script when HEAD moves (a commit, a checkout) or the tree
/// changes, so the revision stays current. Paths come from git itself: in a
/// worktree `.git` is a file and the refs live in the common directory.
fn watch_git_files(manifest_dir: &Path) {
    let mut watched = vec![
        "HEAD".to_owned(),
        "index".to_owned(),
        "packed-refs".to_owned(),
    ];
    if let Some(branch) = git(manifest_dir, &["symbolic-ref", "-q", "HEAD"]) {
        watched.push(branch);
    }
    for name in watched {
        if let Some(path) = git(manifest_dir, &["rev-parse", "--git-path", &name]) {
            let path = manifest_dir.join(path);
            // A path that does not exist would make cargo rerun this on every build.
            if path.exists() {
                println!("cargo:rerun-if-changed={}", path.display());
            }
        }
    }
    // Edits not yet staged change no git file; the sources themselves are watched
    // for `-dirty` (cargo rebuilds the crate for them anyway).
    for source in [
        "src",
        "build.rs",
        "Cargo.toml",
        "Cargo.lock",
        "web-client/dist",
    ] {
        println!("cargo:rerun-if-changed={source}");
    }
}

/// `git -C <dir> <args>`'s trimmed stdout when it succeeds.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    Some(String::from_utf8(output.stdout).ok()?.trim().to_owned())
}
