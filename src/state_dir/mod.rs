//! The daemon's state directory: the installation's identity and the record
//! that lets local clients (`ptyhub attach`, `ls`, …) find the daemon.
//!
//! Files are written atomically (temp file + rename) and readable only by
//! the user, because the daemon record carries the token; no file is read or
//! written through a symlink (`private_files`), and the directory must be
//! this user's alone (`private_dir`).

mod daemon_lock;
mod private_dir;
mod private_files;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use daemon_lock::LockError;
pub use private_dir::{check_private_dir, StateDirError};
pub use private_files::{read_private, write_atomically, write_atomically_with_mode};

const INSTANCE_ID_FILE: &str = "instance-id";
const DAEMON_RECORD_FILE: &str = "daemon.json";
const VIEW_TOKEN_FILE: &str = "view-token";
const TOKEN_FILE: &str = "token";

/// `$PTYHUB_STATE_DIR`, else `$XDG_STATE_HOME/ptyhub`, else `~/.local/state/ptyhub`.
pub fn default_state_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("PTYHUB_STATE_DIR") {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_STATE_HOME") {
        return PathBuf::from(dir).join("ptyhub");
    }
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("/tmp"), PathBuf::from);
    home.join(".local/state/ptyhub")
}

pub struct StateDir {
    root: PathBuf,
}

/// Where a running daemon listens, for local clients.
#[derive(Debug, Serialize, Deserialize)]
pub struct DaemonRecord {
    pub url: String,
    pub token: String,
    pub pid: u32,
}

impl StateDir {
    /// Opens (or creates) the state dir, refusing one that is not this user's alone.
    pub fn open(root: &Path) -> Result<StateDir, StateDirError> {
        private_dir::open_private_dir(root)?;
        Ok(StateDir {
            root: root.to_owned(),
        })
    }

    /// Takes the lock that keeps a second daemon off this directory
    /// (`daemon_lock.rs`); held as long as the descriptor is open.
    pub fn lock(&self) -> Result<std::os::fd::OwnedFd, LockError> {
        daemon_lock::lock(&self.root, || {
            let record = self.read_daemon_record().ok()?;
            Some(format!("pid {} at {}", record.pid, record.url))
        })
    }

    pub fn path(&self) -> &Path {
        &self.root
    }

    /// The installation's `serverInstanceId`, created on first start.
    pub fn server_instance_id(&self) -> std::io::Result<String> {
        self.kept_value(INSTANCE_ID_FILE, || format!("srv-{}", uuid::Uuid::new_v4()))
    }

    /// The read-only token, created on first start so shared view links
    /// survive restarts.
    pub fn view_token(&self) -> std::io::Result<String> {
        self.kept_value(VIEW_TOKEN_FILE, || {
            format!("view-{}", crate::token_strength::generate())
        })
    }

    /// The full token, when no `AUTH_TOKEN` chose one: created on first
    /// start and kept, so a restart does not turn every open tab and every
    /// printed `?token=` URL into "token refused".
    pub fn token(&self) -> std::io::Result<String> {
        self.kept_value(TOKEN_FILE, crate::token_strength::generate)
    }

    /// A value kept in `name`, made by `create` the first time.
    fn kept_value(&self, name: &str, create: impl FnOnce() -> String) -> std::io::Result<String> {
        let path = self.root.join(name);
        match read_private(&path) {
            Ok(existing) if !existing.trim().is_empty() => return Ok(existing.trim().to_owned()),
            Ok(_) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            // A symlink or a non-file is replaced (never followed), with a word in the log.
            Err(err) => tracing::warn!(%err, "replacing an unusable state file"),
        }
        let value = create();
        write_atomically(&path, value.as_bytes())?;
        Ok(value)
    }

    pub fn write_daemon_record(&self, record: &DaemonRecord) -> std::io::Result<()> {
        let json = serde_json::to_vec_pretty(record).map_err(std::io::Error::other)?;
        write_atomically(&self.root.join(DAEMON_RECORD_FILE), &json)
    }

    pub fn read_daemon_record(&self) -> std::io::Result<DaemonRecord> {
        let text = read_private(&self.root.join(DAEMON_RECORD_FILE))?;
        serde_json::from_str(&text).map_err(std::io::Error::other)
    }

    pub fn remove_daemon_record(&self) {
        let _ = std::fs::remove_file(self.root.join(DAEMON_RECORD_FILE));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_instance_id_survives_a_restart() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = StateDir::open(dir.path())
            .expect("state dir")
            .server_instance_id()
            .expect("id");
        let second = StateDir::open(dir.path())
            .expect("state dir")
            .server_instance_id()
            .expect("id");
        assert_eq!(first, second);
        assert!(first.starts_with("srv-"));
    }
}
