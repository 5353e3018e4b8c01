//! The running terminal a command that types or watches should talk to:
//! the one named, or — for a session that can be resumed — the terminal
//! resuming it starts.
//!
//! The resume is the daemon's one create path with the session's id (what
//! freshell's frontend sends for a restored pane), so two commands resuming
//! the same session at once start one process: the daemon serializes
//! creates per session, and the second finds the first's terminal.

use crate::server::api::{NewSession, SessionRecord};

use super::api_client::ApiClient;
use super::endpoint::Endpoint;
use super::target;

/// The id of the running terminal `target` names, after resuming it if need be.
pub fn live_terminal(endpoint: &Endpoint, target: &str) -> anyhow::Result<String> {
    let api = ApiClient::new(endpoint);
    let records = api.sessions()?;
    let record = target::resolve(&records, target)?;
    if record.is_running() {
        return Ok(record.terminal_id.clone());
    }
    match (&record.session_ref, record.resumable) {
        (Some(session), true) => {
            let resumed = api
                .create(&NewSession {
                    mode: Some(session.provider.clone()),
                    session_id: Some(session.session_id.clone()),
                    // Agents keep their conversations per directory.
                    cwd: record.cwd.clone(),
                    ..NewSession::default()
                })
                .map_err(|err| {
                    anyhow::anyhow!(
                        "cannot resume {} session {}: {err}",
                        session.provider,
                        session.session_id
                    )
                })?;
            eprintln!(
                "ptyhub: resumed {} session {} in terminal {}",
                session.provider, session.session_id, resumed.terminal_id
            );
            Ok(resumed.terminal_id)
        }
        _ => Err(anyhow::anyhow!(exited_without_resume(record))),
    }
}

/// Why an exited terminal cannot be used, and what can be done instead.
pub fn exited_without_resume(record: &SessionRecord) -> String {
    let code = record
        .exit_code
        .map(|code| format!(" with code {code}"))
        .unwrap_or_default();
    format!(
        "{id} has exited{code} and cannot be resumed: `ptyhub snapshot {id}` shows its last screen, `ptyhub new` starts another session",
        id = record.terminal_id
    )
}

/// A session of a previous run, known by its record only: it has no screen
/// until it runs again.
pub fn is_remembered_only(record: &SessionRecord) -> bool {
    !record.is_running() && record.exit_code.is_none()
}
