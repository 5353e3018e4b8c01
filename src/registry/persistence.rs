//! The state file: the provider sessions this daemon has run, so that after
//! a restart they are listed as resumable and the first create naming one
//! resumes it (once, however many tabs ask: creates for one session are
//! serialized). Nothing is respawned eagerly.
//!
//! Written atomically after changes (debounced). A file that cannot be read
//! or parsed is moved aside with a warning and never stops the daemon.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Registry;
use crate::session::{now_ms, Session, SessionRef};
use crate::state_dir::{read_private, write_atomically};

pub const STATE_FILE: &str = "sessions.json";
const STATE_VERSION: u32 = 1;
/// Changes are written at most this often.
const SAVE_DEBOUNCE: Duration = Duration::from_millis(200);

/// A provider session remembered across restarts.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RememberedSession {
    pub terminal_id: String,
    /// The mode that ran it (and the provider of its session id).
    pub provider: String,
    pub session_id: String,
    pub cwd: Option<String>,
    pub title: String,
    pub created_at: u64,
    pub last_activity_at: u64,
}

impl RememberedSession {
    pub fn session_ref(&self) -> SessionRef {
        SessionRef {
            provider: self.provider.clone(),
            session_id: self.session_id.clone(),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StateFile {
    version: u32,
    sessions: Vec<RememberedSession>,
}

/// Reads the state file; a broken one is moved aside.
fn load(path: &Path) -> Vec<RememberedSession> {
    let text = match read_private(path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
        Err(err) => {
            move_aside(path, &err.to_string());
            return Vec::new();
        }
    };
    match serde_json::from_str::<StateFile>(&text) {
        Ok(state) if state.version == STATE_VERSION => state.sessions,
        Ok(state) => {
            move_aside(path, &format!("unknown version {}", state.version));
            Vec::new()
        }
        Err(err) => {
            move_aside(path, &err.to_string());
            Vec::new()
        }
    }
}

fn move_aside(path: &Path, why: &str) {
    let aside = path.with_extension(format!("corrupt-{}", now_ms()));
    match std::fs::rename(path, &aside) {
        Ok(()) => tracing::warn!(
            file = %path.display(),
            moved_to = %aside.display(),
            why,
            "the state file could not be read; moved it aside and starting without remembered sessions"
        ),
        Err(err) => tracing::warn!(
            file = %path.display(),
            why,
            %err,
            "the state file could not be read, nor moved aside; starting without remembered sessions"
        ),
    }
}

fn remembered(registry: &Registry, session: &Session) -> Option<RememberedSession> {
    let info = session.info();
    let session_ref = session.session_ref()?;
    Some(RememberedSession {
        terminal_id: info.terminal_id.clone(),
        provider: session_ref.provider.clone(),
        session_id: session_ref.session_id.clone(),
        cwd: info.cwd.clone(),
        title: registry.title_of(session),
        created_at: info.created_at_ms,
        last_activity_at: session.last_activity_ms(),
    })
}

impl Registry {
    /// Sessions from a previous run that have not been resumed yet.
    pub fn dormant(&self) -> Vec<RememberedSession> {
        self.persistence.dormant.lock().clone()
    }

    /// Forgets a dormant record once its session runs again.
    pub(super) fn wake_dormant(&self, session_ref: &SessionRef) {
        self.persistence
            .dormant
            .lock()
            .retain(|d| d.session_ref() != *session_ref);
    }

    /// Forgets a remembered session by the terminal id it last ran in.
    pub(super) fn forget_dormant(&self, terminal_id: &str) -> bool {
        let mut dormant = self.persistence.dormant.lock();
        let before = dormant.len();
        dormant.retain(|d| d.terminal_id != terminal_id);
        dormant.len() != before
    }

    /// Changes a remembered session's title to `title(provider)`.
    pub(super) fn retitle_dormant(
        &self,
        terminal_id: &str,
        title: impl FnOnce(&str) -> String,
    ) -> bool {
        let mut dormant = self.persistence.dormant.lock();
        match dormant.iter_mut().find(|d| d.terminal_id == terminal_id) {
            Some(record) => {
                record.title = title(&record.provider);
                true
            }
            None => false,
        }
    }

    /// Loads the state file in `state_dir` and keeps it up to date from now on.
    pub fn enable_persistence(self: &Arc<Self>, state_dir: &Path) {
        let path = state_dir.join(STATE_FILE);
        let loaded = load(&path);
        if !loaded.is_empty() {
            tracing::info!(count = loaded.len(), "remembered sessions can be resumed");
        }
        *self.persistence.dormant.lock() = loaded;
        *self.persistence.path.lock() = Some(path);
        let registry = Arc::downgrade(self);
        let dirty = Arc::clone(&self.persistence.dirty);
        tokio::spawn(async move {
            loop {
                dirty.notified().await;
                tokio::time::sleep(SAVE_DEBOUNCE).await;
                let Some(registry) = registry.upgrade() else {
                    return;
                };
                let _ = tokio::task::spawn_blocking(move || registry.save_state()).await;
            }
        });
    }

    /// Asks for the state file to be written soon.
    pub(super) fn state_changed(&self) {
        self.persistence.dirty.notify_one();
    }

    /// Writes the state file now: every session with a provider session id
    /// (running or exited, newest last), and dormant ones not yet resumed.
    pub fn save_state(&self) {
        let Some(path) = self.persistence.path.lock().clone() else {
            return;
        };
        let mut sessions = self.dormant();
        for session in self.list() {
            if let Some(record) = remembered(self, &session) {
                sessions.retain(|d| d.session_ref() != record.session_ref());
                sessions.push(record);
            }
        }
        sessions.sort_by_key(|s| s.last_activity_at);
        let keep = self.config.sessions.max_exited_terminals.max(1);
        let excess = sessions.len().saturating_sub(keep);
        sessions.drain(..excess);
        let state = StateFile {
            version: STATE_VERSION,
            sessions,
        };
        let result = serde_json::to_vec_pretty(&state)
            .map_err(std::io::Error::other)
            .and_then(|json| write_atomically(&path, &json));
        if let Err(err) = result {
            tracing::warn!(file = %path.display(), %err, "could not write the state file");
        }
    }
}

#[derive(Default)]
pub struct PersistenceState {
    path: parking_lot::Mutex<Option<PathBuf>>,
    dormant: parking_lot::Mutex<Vec<RememberedSession>>,
    dirty: Arc<tokio::sync::Notify>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_corrupt_state_file_is_moved_aside() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(STATE_FILE);
        std::fs::write(&path, b"{ not json").expect("write");
        assert!(load(&path).is_empty());
        assert!(!path.exists());
        let moved: Vec<_> = std::fs::read_dir(dir.path())
            .expect("read dir")
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains("corrupt"))
            .collect();
        assert_eq!(moved.len(), 1);
    }

    #[test]
    fn a_written_state_file_reads_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(STATE_FILE);
        let record = RememberedSession {
            terminal_id: "t1".into(),
            provider: "claude".into(),
            session_id: "0b6c5e5e-3f7c-4c39-9d8e-3f3b8e1f2a11".into(),
            cwd: Some("/tmp".into()),
            title: "Claude CLI".into(),
            created_at: 1,
            last_activity_at: 2,
        };
        let state = StateFile {
            version: STATE_VERSION,
            sessions: vec![record.clone()],
        };
        write_atomically(&path, &serde_json::to_vec(&state).expect("json")).expect("write");
        assert_eq!(load(&path), vec![record]);
    }
}
