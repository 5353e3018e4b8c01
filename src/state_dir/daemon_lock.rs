//! One daemon per state dir: the daemon holds an exclusive `flock` on
//! `daemon.lock` for as long as it runs. A second `ptyhub serve` on the same
//! directory is refused (it would overwrite the first one's record and state
//! file); the lock goes when the daemon's process does, however it ends, and
//! stays across an in-place upgrade, whose next image inherits it
//! (`crate::handover`).

use std::fs::OpenOptions;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

const LOCK_FILE: &str = "daemon.lock";

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "another ptyhub daemon{holder} serves the state dir {dir}: stop it first, \
         upgrade it in place with `ptyhub upgrade`, or pass another --state-dir"
    )]
    InUse { dir: String, holder: String },
    #[error("cannot lock {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

/// Takes the state dir's lock; `holder` describes who has it when refused.
pub fn lock(root: &Path, holder: impl FnOnce() -> Option<String>) -> Result<OwnedFd, LockError> {
    let path = root.join(LOCK_FILE);
    let io = |source| LockError::Io {
        path: path.display().to_string(),
        source,
    };
    // Never through a planted symlink; the lock file holds nothing.
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&path)
        .map_err(io)?;
    // SAFETY: flock on a descriptor we own.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        let err = std::io::Error::last_os_error();
        if err.raw_os_error() == Some(libc::EWOULDBLOCK) {
            return Err(LockError::InUse {
                dir: root.display().to_string(),
                holder: holder().map(|h| format!(" ({h})")).unwrap_or_default(),
            });
        }
        return Err(io(err));
    }
    Ok(OwnedFd::from(file))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_dir_is_refused_until_the_first_goes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = lock(dir.path(), || None).expect("first lock");
        let refused = lock(dir.path(), || Some("pid 1".into())).expect_err("second lock");
        assert!(
            refused
                .to_string()
                .contains("another ptyhub daemon (pid 1)"),
            "{refused}"
        );
        drop(first);
        lock(dir.path(), || None).expect("lock after the first went");
    }
}
