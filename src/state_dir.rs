//! The daemon's state directory: the installation's identity and the record
//! that lets local clients (`ptyhub attach`, `ls`, …) find the daemon.
//!
//! Files are written atomically (temp file + rename) and readable only by
//! the user, because the daemon record carries the token.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

const INSTANCE_ID_FILE: &str = "instance-id";
const DAEMON_RECORD_FILE: &str = "daemon.json";
const VIEW_TOKEN_FILE: &str = "view-token";

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
    pub fn open(root: &Path) -> std::io::Result<StateDir> {
        fs::create_dir_all(root)?;
        fs::set_permissions(root, fs::Permissions::from_mode(0o700))?;
        Ok(StateDir {
            root: root.to_owned(),
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
            format!("view-{}", uuid::Uuid::new_v4().simple())
        })
    }

    /// A value kept in `name`, made by `create` the first time.
    fn kept_value(&self, name: &str, create: impl FnOnce() -> String) -> std::io::Result<String> {
        let path = self.root.join(name);
        if let Ok(existing) = fs::read_to_string(&path) {
            let existing = existing.trim();
            if !existing.is_empty() {
                return Ok(existing.to_owned());
            }
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
        let text = fs::read_to_string(self.root.join(DAEMON_RECORD_FILE))?;
        serde_json::from_str(&text).map_err(std::io::Error::other)
    }

    pub fn remove_daemon_record(&self) {
        let _ = fs::remove_file(self.root.join(DAEMON_RECORD_FILE));
    }
}

/// Writes `bytes` to `path` so readers see the old file or the new one, never half.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
    }
    fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_instance_id_survives_a_restart() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = StateDir::open(dir.path())
            .and_then(|s| s.server_instance_id())
            .expect("id");
        let second = StateDir::open(dir.path())
            .and_then(|s| s.server_instance_id())
            .expect("id");
        assert_eq!(first, second);
        assert!(first.starts_with("srv-"));
    }
}
