//! Where codex keeps its sessions, for binding a fresh codex (which picks
//! its own session id) to the session it started: one rollout file per
//! session, `$CODEX_HOME/sessions/YYYY/MM/DD/rollout-<time>-<id>.jsonl`
//! (`CODEX_HOME` defaults to `~/.codex`), whose first line is a
//! `session_meta` record with the session id and the directory codex runs
//! in. freshell's indexer reads the same files.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use serde_json::Value;

/// The first line of a rollout is small; a longer one is not codex's.
const MAX_FIRST_LINE_BYTES: u64 = 256 * 1024;
/// Day folders looked at: today's and the one before (a session started
/// just before midnight).
const NEWEST_DAY_FOLDERS: usize = 2;

/// A session codex has written down.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RolloutSession {
    pub session_id: String,
    pub cwd: PathBuf,
    /// When the rollout was last written (ms since the epoch).
    pub modified_ms: u64,
}

/// `$CODEX_HOME`, else `~/.codex`.
pub fn codex_home() -> Option<PathBuf> {
    std::env::var_os("CODEX_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".codex")))
}

/// Interactive sessions whose rollout was written at or after `since_ms`,
/// from the newest day folders.
pub fn recent_sessions(home: &Path, since_ms: u64) -> Vec<RolloutSession> {
    let mut found = Vec::new();
    for day in newest_day_folders(&home.join("sessions")) {
        let Ok(entries) = std::fs::read_dir(&day) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|e| e != "jsonl") {
                continue;
            }
            let Some(modified_ms) = entry
                .metadata()
                .ok()
                .filter(|m| m.is_file())
                .and_then(|m| m.modified().ok())
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map(|d| d.as_millis() as u64)
            else {
                continue;
            };
            if modified_ms < since_ms {
                continue;
            }
            if let Some((session_id, cwd)) = read_session_meta(&path) {
                found.push(RolloutSession {
                    session_id,
                    cwd,
                    modified_ms,
                });
            }
        }
    }
    found
}

/// `sessions/YYYY/MM/DD` folders, newest first (the names sort by date).
fn newest_day_folders(sessions: &Path) -> Vec<PathBuf> {
    let mut days = Vec::new();
    for year in sorted_subfolders(sessions) {
        for month in sorted_subfolders(&year) {
            days.extend(sorted_subfolders(&month));
        }
    }
    days.sort();
    days.into_iter().rev().take(NEWEST_DAY_FOLDERS).collect()
}

fn sorted_subfolders(dir: &Path) -> Vec<PathBuf> {
    let mut folders: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .collect();
    folders.sort();
    folders
}

/// The session id and cwd of an interactive session's rollout; `None` for
/// anything else (another record first, `codex exec`, a subagent).
fn read_session_meta(path: &Path) -> Option<(String, PathBuf)> {
    let file = std::fs::File::open(path).ok()?;
    let mut line = String::new();
    BufReader::new(file.take(MAX_FIRST_LINE_BYTES))
        .read_line(&mut line)
        .ok()?;
    parse_session_meta(&line)
}

fn parse_session_meta(line: &str) -> Option<(String, PathBuf)> {
    let record: Value = serde_json::from_str(line.trim()).ok()?;
    if record.get("type")?.as_str()? != "session_meta" {
        return None;
    }
    let payload = record.get("payload")?;
    // Only the interactive CLI's own sessions (not `codex exec` runs or
    // subagents an agent started).
    match payload.get("source") {
        None => {}
        Some(Value::String(source)) if source == "cli" => {}
        Some(_) => return None,
    }
    let id = payload.get("id")?.as_str()?.to_owned();
    let cwd = PathBuf::from(payload.get("cwd")?.as_str()?);
    Some((id, cwd))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(id: &str, cwd: &str, source: &str) -> String {
        format!(
            r#"{{"timestamp":"2026-12-06T10:00:00.000Z","type":"session_meta","payload":{{"id":"{id}","timestamp":"2026-12-06T10:00:00.000Z","cwd":"{cwd}","originator":"codex_cli_rs","cli_version":"0.171.0","source":{source}}}}}"#
        )
    }

    #[test]
    fn only_interactive_sessions_in_the_newest_day_folders_are_read() {
        let home = tempfile::tempdir().unwrap();
        let write = |day: &str, name: &str, text: &str| {
            let dir = home.path().join("sessions").join(day);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join(name), text).unwrap();
        };
        write(
            "2026/12/06",
            "rollout-a-s1.jsonl",
            &(meta("s1", "/projects/a", "\"cli\"") + "\n{}"),
        );
        write(
            "2026/12/05",
            "rollout-b-s2.jsonl",
            &meta("s2", "/projects/b", "\"cli\""),
        );
        write(
            "2026/11/30",
            "rollout-c-s3.jsonl",
            &meta("s3", "/projects/c", "\"cli\""),
        );
        write(
            "2026/12/06",
            "rollout-d-s4.jsonl",
            &meta("s4", "/projects/d", "\"exec\""),
        );
        write(
            "2026/12/06",
            "rollout-e-s5.jsonl",
            &meta("s5", "/projects/e", r#"{"subagent":"review"}"#),
        );
        write(
            "2026/12/06",
            "notes.txt",
            &meta("s6", "/projects/f", "\"cli\""),
        );
        write(
            "2026/12/06",
            "rollout-g-s7.jsonl",
            r#"{"type":"response_item"}"#,
        );

        let mut ids: Vec<String> = recent_sessions(home.path(), 0)
            .into_iter()
            .map(|s| s.session_id)
            .collect();
        ids.sort();
        assert_eq!(ids, ["s1", "s2"]);
        let future = u64::MAX;
        assert!(recent_sessions(home.path(), future).is_empty());
        assert_eq!(
            parse_session_meta(&meta("x", "/w", "\"cli\"")),
            Some(("x".to_owned(), PathBuf::from("/w")))
        );
    }
}
