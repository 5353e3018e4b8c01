//! `terminal.attach`: a viewer joins a terminal. Whether its window sets
//! the size (by intent, as freshell decides), what it is replayed (from its
//! `sinceSeq`, within its budget, or a gap and a repaint), and the preamble
//! that precedes its output: `terminal.attach.ready`, the modes a fresh
//! xterm needs, the gap, the repaint.

use std::sync::Arc;

use super::super::inbound::{self, AttachIntent};
use super::super::outbound::{self, AttachReady, ErrorCode, ErrorMessage, ModesSync, OutputGap};
use super::super::output_encoding::{json_string, OutputEnvelope, Source};
use super::super::replies::{exited_summary, identity_mismatch};
use super::super::socket_writer::{self, Attachment, Outgoing};
use super::{Connection, Flow};
use crate::session::{AttachRequest, GeometryAuthority};

/// The pane an attachRequestId belongs to. freshell's client formats it as
/// `<paneId>:<n>:<random>`; anything else is its own pane.
fn pane_key(attach_request_id: Option<&str>) -> String {
    attach_request_id
        .map(|id| id.split(':').next().unwrap_or(id).to_owned())
        .unwrap_or_default()
}

impl Connection {
    pub(super) fn on_attach(&mut self, attach: inbound::Attach) -> Flow {
        let terminal_id = attach.terminal_id.clone();
        let attach_request_id = attach.attach_request_id.clone();
        let Some(session) = self.daemon.registry.get(&terminal_id) else {
            return self.reply_error(
                ErrorMessage::new(ErrorCode::InvalidTerminalId, "Terminal not running")
                    .request(attach_request_id)
                    .terminal(terminal_id),
            );
        };
        if let Some(error) = identity_mismatch(&session, attach.expected_session_ref.as_ref()) {
            return self.reply_error(error.request(attach_request_id));
        }
        if let Some(exit_code) = session.exit_code() {
            let title = self.daemon.registry.title_of(&session);
            let mut error = ErrorMessage::new(
                ErrorCode::InvalidTerminalId,
                exited_summary(&session, &title, exit_code),
            )
            .request(attach_request_id)
            .terminal(terminal_id);
            error.terminal_exit_code = Some(exit_code);
            return self.reply_error(error);
        }
        let pane = pane_key(attach_request_id.as_deref());
        let key = (terminal_id.clone(), pane.clone());
        if let Some(id) = &attach_request_id {
            if self.active_attach_ids.get(&key) == Some(id) {
                // The same generation again: nothing new to do.
                return Flow::Continue;
            }
            self.active_attach_ids.insert(key, id.clone());
        }

        let already_attached = self
            .active_attach_ids
            .keys()
            .any(|(t, p)| *t == terminal_id && *p != pane);
        let others_attached = session.has_viewers_of_other_owners(self.id);
        let resizes = match attach.intent {
            // A read-only viewer never sets the size.
            _ if self.read_only() => false,
            AttachIntent::ViewportHydrate => true,
            AttachIntent::KeepaliveDelta => false,
            AttachIntent::TransportReconnect => !others_attached || already_attached,
        };
        if resizes {
            session.resize(attach.cols, attach.rows, self.id);
        } else {
            session.note_passive_join(self.id);
        }

        let requested_since_seq = attach.since_seq.unwrap_or(0);
        let geometry = session.geometry();
        let reset =
            requested_since_seq > 0 && geometry.authority == GeometryAuthority::MultiClientUnknown;
        let since_seq = if reset { 0 } else { requested_since_seq };
        let info = session.info();
        let envelope =
            OutputEnvelope::new(&terminal_id, &info.stream_id, attach_request_id.as_deref());
        let replay_cost = |frame: &crate::session::Frame| envelope.replay_cost(frame);
        let (plan, viewer) = session.attach(AttachRequest {
            since_seq,
            replay_budget: attach
                .max_replay_bytes
                .unwrap_or(self.daemon.config.sessions.default_replay_budget_bytes)
                .saturating_sub(envelope.replay_budget_reserve()),
            replay_cost: &replay_cost,
            owner: self.id,
            wake: Arc::clone(&self.wake),
            max_queued_bytes: self.daemon.config.sessions.viewer_queue_bytes,
        });

        let mut preamble = vec![outbound::to_json(&AttachReady {
            kind: "terminal.attach.ready",
            terminal_id: terminal_id.clone(),
            stream_id: info.stream_id.clone(),
            head_seq: plan.head_seq,
            replay_from_seq: plan.replay_from_seq,
            replay_to_seq: plan.replay_to_seq,
            requested_since_seq,
            effective_since_seq: since_seq,
            replay_reset_reason: reset.then_some("geometry_authority_unknown"),
            geometry_epoch: geometry.epoch,
            geometry_authority: geometry.authority.into(),
            attach_request_id: attach_request_id.clone(),
            session_ref: session.session_ref().cloned(),
        })];
        // A fresh xterm that will not see the stream's start (and gets no
        // repaint, which carries its own modes) needs the modes re-entered.
        if let (Some(id), true, None) = (
            &attach_request_id,
            attach.surface_reset == Some(true),
            &plan.repaint,
        ) {
            let modes = session.mode_preamble();
            if plan.replay_from_seq > 1 && !modes.is_empty() {
                preamble.push(outbound::to_json(&ModesSync {
                    kind: "terminal.modes.sync",
                    terminal_id: terminal_id.clone(),
                    attach_request_id: id.clone(),
                    stream_id: info.stream_id.clone(),
                    data: modes,
                }));
            }
        }
        if let Some(skipped) = plan.skipped {
            preamble.push(outbound::to_json(&OutputGap {
                kind: "terminal.output.gap",
                terminal_id: terminal_id.clone(),
                stream_id: info.stream_id.clone(),
                from_seq: skipped.from_seq,
                to_seq: skipped.to_seq,
                reason: socket_writer::gap_reason(skipped.reason),
                attach_request_id: attach_request_id.clone(),
            }));
        }
        if let Some(repaint) = &plan.repaint {
            let escaped = json_string(&repaint.repaint);
            preamble.push(envelope.encode_escaped(repaint.through_seq, &escaped, Source::Replay));
        }
        let attachment = Attachment {
            terminal_id,
            pane_key: pane,
            attach_request_id,
            stream_id: info.stream_id.clone(),
            viewer,
            envelope,
            preamble,
        };
        self.outbox.push(Outgoing::Attach(Box::new(attachment)));
        Flow::Continue
    }
}
