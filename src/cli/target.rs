//! Which terminal a command means: `<terminalId|sessionId>`, as tmux takes a
//! session name or a unique prefix of one.
//!
//! Users know agent sessions by their provider's id (`claude --resume <id>`),
//! and the daemon runs at most one terminal per session, so a session id
//! names a terminal as well as the terminal id does.

use crate::server::api::SessionRecord;

#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("no terminal or session matches {target:?}: `ptyhub ls` lists them")]
    NotFound { target: String },
    #[error("{target:?} matches several terminals ({candidates}): give more of the id")]
    Ambiguous { target: String, candidates: String },
}

/// The record `target` names: an exact terminal id, else the terminal of
/// that session id (a running one before an exited one), else a unique
/// prefix of either.
pub fn resolve<'a>(
    records: &'a [SessionRecord],
    target: &str,
) -> Result<&'a SessionRecord, TargetError> {
    if let Some(record) = records.iter().find(|r| r.terminal_id == target) {
        return Ok(record);
    }
    let of_session: Vec<&SessionRecord> = records
        .iter()
        .filter(|r| session_id(r) == Some(target))
        .collect();
    if !of_session.is_empty() {
        let running: Vec<&SessionRecord> = of_session
            .iter()
            .copied()
            .filter(|r| r.status == "running")
            .collect();
        return match running.as_slice() {
            [one] => Ok(one),
            // Records are oldest first: the newest exited one is the last.
            [] => Ok(of_session[of_session.len() - 1]),
            several => Err(ambiguous(target, several)),
        };
    }
    let prefixed: Vec<&SessionRecord> = records
        .iter()
        .filter(|r| {
            r.terminal_id.starts_with(target)
                || session_id(r).is_some_and(|id| id.starts_with(target))
        })
        .collect();
    match prefixed.as_slice() {
        [one] => Ok(one),
        [] => Err(TargetError::NotFound {
            target: target.to_owned(),
        }),
        several => Err(ambiguous(target, several)),
    }
}

fn session_id(record: &SessionRecord) -> Option<&str> {
    record.session_ref.as_ref().map(|r| r.session_id.as_str())
}

fn ambiguous(target: &str, records: &[&SessionRecord]) -> TargetError {
    TargetError::Ambiguous {
        target: target.to_owned(),
        candidates: records
            .iter()
            .map(|r| r.terminal_id.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::SessionRef;

    fn record(terminal_id: &str, session: Option<&str>, status: &str) -> SessionRecord {
        SessionRecord {
            terminal_id: terminal_id.to_owned(),
            mode: "claude".to_owned(),
            title: "Claude CLI".to_owned(),
            status: status.to_owned(),
            exit_code: None,
            session_ref: session.map(|id| SessionRef {
                provider: "claude".to_owned(),
                session_id: id.to_owned(),
            }),
            viewers: 0,
            pid: None,
            created_at: 0,
            last_activity_at: 0,
            cwd: None,
            ..SessionRecord::default()
        }
    }

    #[test]
    fn terminal_ids_session_ids_and_unique_prefixes_name_terminals() {
        let records = vec![
            record("term-old", Some("sess-1"), "exited"),
            record("term-new", Some("sess-1"), "running"),
            record("term-shell", None, "running"),
            record("xyz", Some("sess-2"), "exited"),
        ];
        let id = |target| resolve(&records, target).map(|r| r.terminal_id.clone());
        assert_eq!(id("term-old").expect("exact"), "term-old");
        assert_eq!(id("sess-1").expect("running wins"), "term-new");
        assert_eq!(id("sess-2").expect("exited is fine"), "xyz");
        assert_eq!(id("term-s").expect("prefix"), "term-shell");
        assert!(matches!(id("term-"), Err(TargetError::Ambiguous { .. })));
        assert!(matches!(id("nope"), Err(TargetError::NotFound { .. })));
    }
}
