//! Which terminal a command means: `<terminalId|sessionId|name>`, as tmux
//! takes a session name or a unique prefix of one.
//!
//! Users know agent sessions by their provider's id (`claude --resume <id>`),
//! and the daemon runs at most one terminal per session, so a session id
//! names a terminal as well as the terminal id does. A name is the title
//! given with `ptyhub new -s` (or a rename). A terminal id from before a
//! resume (a restart, an exit) leads to the terminal that continues it.

use crate::server::api::SessionRecord;

#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("no terminal, session or name matches {target:?}: `ptyhub ls` lists them")]
    NotFound { target: String },
    #[error("{target:?} matches several terminals ({candidates}): give more of an id")]
    Ambiguous { target: String, candidates: String },
}

/// The record `target` names, tried in this order: an exact terminal id;
/// a terminal that resumed it; a session id; a name; a unique prefix of a
/// terminal or session id. An exited terminal whose session runs again
/// elsewhere stands for the running one.
pub fn resolve<'a>(
    records: &'a [SessionRecord],
    target: &str,
) -> Result<&'a SessionRecord, TargetError> {
    let found = find(records, target)?;
    Ok(running_terminal_of_session(records, found).unwrap_or(found))
}

fn find<'a>(records: &'a [SessionRecord], target: &str) -> Result<&'a SessionRecord, TargetError> {
    if let Some(record) = records.iter().find(|r| r.terminal_id == target) {
        return Ok(record);
    }
    let matchers: [&dyn Fn(&SessionRecord) -> bool; 3] = [
        &|r| r.resumed_from.as_deref() == Some(target),
        &|r| session_id(r) == Some(target),
        &|r| r.title == target,
    ];
    for matches in matchers {
        let matching: Vec<&SessionRecord> = records.iter().filter(|r| matches(r)).collect();
        if !matching.is_empty() {
            return pick(target, &matching);
        }
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

/// One of several records matching alike: the one running, else the newest.
fn pick<'a>(
    target: &str,
    matching: &[&'a SessionRecord],
) -> Result<&'a SessionRecord, TargetError> {
    let running: Vec<&SessionRecord> = matching
        .iter()
        .copied()
        .filter(|r| r.is_running())
        .collect();
    match running.as_slice() {
        [one] => Ok(one),
        // Records are oldest first: the newest is the last.
        [] => Ok(matching[matching.len() - 1]),
        several => Err(ambiguous(target, several)),
    }
}

fn running_terminal_of_session<'a>(
    records: &'a [SessionRecord],
    record: &SessionRecord,
) -> Option<&'a SessionRecord> {
    let session = record
        .session_ref
        .as_ref()
        .filter(|_| !record.is_running())?;
    records
        .iter()
        .find(|r| r.is_running() && r.session_ref.as_ref() == Some(session))
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
            session_ref: session.map(|id| SessionRef {
                provider: "claude".to_owned(),
                session_id: id.to_owned(),
            }),
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
        assert_eq!(id("term-new").expect("exact"), "term-new");
        assert_eq!(id("sess-1").expect("running wins"), "term-new");
        assert_eq!(id("sess-2").expect("exited is fine"), "xyz");
        assert_eq!(id("term-s").expect("prefix"), "term-shell");
        assert!(matches!(id("term-"), Err(TargetError::Ambiguous { .. })));
        assert!(matches!(id("nope"), Err(TargetError::NotFound { .. })));
        // An exited terminal whose session runs again stands for the running one.
        assert_eq!(id("term-old").expect("followed"), "term-new");
    }

    #[test]
    fn names_and_resumed_ids_lead_to_their_terminal() {
        let mut named = record("t-named", None, "running");
        named.title = "build".to_owned();
        let mut resumed = record("t-resumed", Some("sess-9"), "running");
        resumed.resumed_from = Some("t-before-restart".to_owned());
        let mut old_name = record("t-gone", None, "exited");
        old_name.title = "build".to_owned();
        let records = vec![old_name, named, resumed];
        let id = |target| resolve(&records, target).map(|r| r.terminal_id.clone());
        assert_eq!(
            id("build").expect("the running one of that name"),
            "t-named"
        );
        assert_eq!(id("t-before-restart").expect("resumed"), "t-resumed");
        let mut twin = record("t-twin", None, "running");
        twin.title = "build".to_owned();
        let records = vec![records[1].clone_for_test(), twin];
        assert!(matches!(
            resolve(&records, "build"),
            Err(TargetError::Ambiguous { .. })
        ));
    }

    impl SessionRecord {
        fn clone_for_test(&self) -> SessionRecord {
            serde_json::from_value(serde_json::to_value(self).expect("json")).expect("back")
        }
    }
}
