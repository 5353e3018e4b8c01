//! The state dir must be this user's alone.
//!
//! Whoever can write into it can plant files the daemon reads (a view token
//! of their choosing, a `daemon.json` that sends a client's token to their
//! own server) or names it writes. So a directory owned by another user, or
//! writable by a group or by everyone, is refused at start rather than
//! repaired: what is already in it cannot be trusted.

use std::fs;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum StateDirError {
    #[error("cannot create the state dir {path}: {source}")]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot use the state dir {path}: {source}")]
    Inspect {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the state dir {path} is not a directory; choose another with --state-dir or PTYHUB_STATE_DIR")]
    NotADirectory { path: PathBuf },
    #[error(
        "refusing the state dir {path}: it belongs to uid {owner}, not to this user (uid {me}), \
         so its files cannot be trusted; use a directory of your own (--state-dir or PTYHUB_STATE_DIR)"
    )]
    ForeignOwner { path: PathBuf, owner: u32, me: u32 },
    #[error(
        "refusing the state dir {path}: its mode {mode:o} lets others write into it, so its files \
         cannot be trusted; check its contents and run `chmod 700` on it, or choose another \
         with --state-dir or PTYHUB_STATE_DIR"
    )]
    WritableByOthers { path: PathBuf, mode: u32 },
}

/// Creates `root` (mode 0700) if missing; refuses it if it is not this
/// user's alone; otherwise makes it 0700 (nobody else may even list it).
pub fn open_private_dir(root: &Path) -> Result<(), StateDirError> {
    if !root.exists() {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(root)
            .map_err(|source| StateDirError::Create {
                path: root.to_owned(),
                source,
            })?;
    }
    check_private_dir(root)?;
    fs::set_permissions(root, fs::Permissions::from_mode(0o700)).map_err(|source| {
        StateDirError::Inspect {
            path: root.to_owned(),
            source,
        }
    })
}

/// Refuses a directory another user owns or others may write into.
pub fn check_private_dir(root: &Path) -> Result<(), StateDirError> {
    let meta = fs::metadata(root).map_err(|source| StateDirError::Inspect {
        path: root.to_owned(),
        source,
    })?;
    if !meta.is_dir() {
        return Err(StateDirError::NotADirectory {
            path: root.to_owned(),
        });
    }
    // SAFETY: geteuid(2) has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me {
        return Err(StateDirError::ForeignOwner {
            path: root.to_owned(),
            owner: meta.uid(),
            me,
        });
    }
    let mode = meta.mode() & 0o7777;
    if mode & 0o022 != 0 {
        return Err(StateDirError::WritableByOthers {
            path: root.to_owned(),
            mode,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_writable_dir_is_refused_and_a_missing_one_is_created_private() {
        let dir = tempfile::tempdir().expect("tempdir");
        let fresh = dir.path().join("a/b");
        open_private_dir(&fresh).expect("created");
        let mode = fs::metadata(&fresh).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        fs::set_permissions(&fresh, fs::Permissions::from_mode(0o770)).expect("chmod");
        let err = open_private_dir(&fresh).expect_err("group-writable");
        assert!(
            matches!(err, StateDirError::WritableByOthers { .. }),
            "{err}"
        );
        assert!(err.to_string().contains("chmod 700"), "{err}");
        // A readable one is ours and only tightened.
        fs::set_permissions(&fresh, fs::Permissions::from_mode(0o755)).expect("chmod");
        open_private_dir(&fresh).expect("tightened");
        let mode = fs::metadata(&fresh).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }
}
