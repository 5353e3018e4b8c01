//! Agent activity in freshell's shapes: `<provider>.activity.list.response`
//! and `.activity.updated` (busy or idle per agent terminal),
//! `terminal.turn.complete` and `terminal.idle` — from the session core's
//! activity (`session/activity.rs`).

use serde::Serialize;

use super::inbound::ActivityProvider;
use super::outbound::to_json;
use crate::session::{ActivityChange, ActivityEvent, Phase, Session, TurnChange};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ActivityRecord<'a> {
    terminal_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    session_id: Option<&'a str>,
    phase: &'static str,
    updated_at: u64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct TurnCompletion<'a> {
    terminal_id: &'a str,
    at: u64,
    completion_seq: u64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ActivityListResponse<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    request_id: &'a str,
    terminals: Vec<ActivityRecord<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    latest_turn_completions: Vec<TurnCompletion<'a>>,
}

#[derive(Debug, Serialize)]
struct ActivityUpdated<'a> {
    #[serde(rename = "type")]
    kind: String,
    upsert: Vec<ActivityRecord<'a>>,
    remove: Vec<&'a str>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct TurnComplete<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    terminal_id: &'a str,
    provider: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    session_id: Option<&'a str>,
    at: u64,
    completion_seq: u64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Idle<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    terminal_id: &'a str,
    at: u64,
    reason: &'static str,
}

impl ActivityProvider {
    /// The mode whose terminals this list covers.
    fn mode(self) -> &'static str {
        match self {
            ActivityProvider::Claude => "claude",
            ActivityProvider::Codex => "codex",
            ActivityProvider::Opencode => "opencode",
            ActivityProvider::Amplifier => "amplifier",
        }
    }
}

/// The answer to `<provider>.activity.list`: every running agent of that
/// provider whose turns are tracked.
pub fn activity_list_response(
    provider: ActivityProvider,
    request_id: &str,
    sessions: &[std::sync::Arc<Session>],
) -> String {
    let mut terminals = Vec::new();
    let mut latest_turn_completions = Vec::new();
    for session in sessions {
        if session.info().mode != provider.mode() {
            continue;
        }
        let Some(activity) = session.activity() else {
            continue;
        };
        let terminal_id = session.terminal_id();
        if activity.phase == Phase::Busy || !lists_only_busy(provider.mode()) {
            terminals.push(ActivityRecord {
                terminal_id,
                session_id: session_id_of(session),
                phase: activity.phase.as_str(),
                updated_at: activity.updated_at,
            });
        }
        if let Some((completion_seq, at)) = activity.latest_completion {
            latest_turn_completions.push(TurnCompletion {
                terminal_id,
                at,
                completion_seq,
            });
        }
    }
    to_json(&ActivityListResponse {
        kind: provider.response_type(),
        request_id,
        terminals,
        latest_turn_completions,
    })
}

/// freshell lists an opencode terminal only while it works: its record
/// has no idle phase, an idle one is removed.
fn lists_only_busy(mode: &str) -> bool {
    mode == "opencode"
}

fn session_id_of(session: &Session) -> Option<&str> {
    session.session_ref().map(|r| r.session_id.as_str())
}

/// What every authenticated client is told of one activity change.
pub fn activity_message(event: &ActivityEvent) -> String {
    let terminal_id = event.terminal_id.as_str();
    let session_id = event.session_id.as_deref();
    let updated = |upsert, remove| {
        to_json(&ActivityUpdated {
            kind: format!("{}.activity.updated", event.provider),
            upsert,
            remove,
        })
    };
    match event.change {
        ActivityChange::Turn(TurnChange::Phase {
            phase: Phase::Idle, ..
        }) if lists_only_busy(&event.provider) => updated(Vec::new(), vec![terminal_id]),
        ActivityChange::Turn(TurnChange::Phase { phase, at }) => updated(
            vec![ActivityRecord {
                terminal_id,
                session_id,
                phase: phase.as_str(),
                updated_at: at,
            }],
            Vec::new(),
        ),
        ActivityChange::Gone => updated(Vec::new(), vec![terminal_id]),
        ActivityChange::Turn(TurnChange::TurnComplete { completion_seq, at }) => {
            to_json(&TurnComplete {
                kind: "terminal.turn.complete",
                terminal_id,
                provider: &event.provider,
                session_id,
                at,
                completion_seq,
            })
        }
        ActivityChange::Turn(TurnChange::Idle { at }) => to_json(&Idle {
            kind: "terminal.idle",
            terminal_id,
            at,
            reason: "grace",
        }),
    }
}
