//! One attach while it runs: the daemon's messages, the keys, the signals
//! and the PTY's size it reacts to, and the attaches it sends.
//!
//! Every attach asks for the screen from seq 0 with a 1-byte budget, so the
//! daemon's repaint comes first and the view's model starts from it: the
//! command's first, a reconnect's after the daemon restarted, and a
//! resync's — an attach again on the same socket (the daemon replaces the
//! one before, it never resizes) when the PTY's size changed under the
//! model (`view.rs`). Output goes on from the current attach until the new
//! one is ready.

use crate::session::Utf8Stream;

use super::detach_key::{DetachKey, DetachKeyFilter};
use super::keyboard::Keyboard;
use super::local_terminal::LocalTerminal;
use super::pty_size::PtySizes;
use super::signals::{AttachSignal, AttachSignals};
use super::view::SessionView;
use super::Ending;
use crate::cli::protocol_client::{ClientError, MessageWriter, ProtocolClient};
use crate::cli::wire::{AttachIntent, ClientMessage, ServerMessage};

/// `maxReplayBytes` of every attach: smaller than any frame, so any history
/// is replaced by one repaint of the current screen.
const ATTACH_REPLAY_BUDGET_BYTES: u64 = 1;

/// The state of one attach while it runs.
pub struct AttachedSession<'a> {
    terminal_id: &'a str,
    /// The part of every attach id before the `:` (the daemon's pane key:
    /// an attach again on the same socket replaces the one before).
    pane_id: String,
    /// Counts this command's attaches (first, resyncs, reconnects).
    generation: u32,
    /// The attach whose output is shown (empty before the first is ready).
    attach_request_id: String,
    /// An attach sent and not ready yet; its output replaces the current's.
    pending_attach: Option<PendingAttach>,
    /// The daemon refused an attach for a repaint (the session is ending):
    /// no more are asked for.
    resync_refused: bool,
    read_only: bool,
    local: &'a mut LocalTerminal,
    view: SessionView,
    sizes: PtySizes,
    /// Pings sent after this terminal's size; the answer to the last one
    /// means the daemon applied it, and the PTY's size is asked then.
    size_checks: u32,
    keys: DetachKeyFilter,
    /// Typed bytes as text: `terminal.input` carries a JSON string, and a
    /// read can end inside a multi-byte character (a large paste).
    text: Utf8Stream,
}

impl<'a> AttachedSession<'a> {
    pub fn new(
        terminal_id: &'a str,
        local: &'a mut LocalTerminal,
        detach_key: &DetachKey,
        read_only: bool,
        sizes: PtySizes,
    ) -> AttachedSession<'a> {
        let view = SessionView::new(local.size(), read_only, detach_key.take_size_label());
        AttachedSession {
            terminal_id,
            pane_id: format!("ptyhub-cli-{}", uuid::Uuid::new_v4().simple()),
            generation: 0,
            attach_request_id: String::new(),
            pending_attach: None,
            resync_refused: false,
            read_only,
            local,
            view,
            sizes,
            size_checks: 0,
            keys: DetachKeyFilter::new(detach_key.clone()),
            text: Utf8Stream::new(),
        }
    }

    /// The attach ends: the last output shown, the status line gone (the
    /// terminal may be gone already; that is not an error here).
    pub fn finish(&mut self) {
        let _ = self.view.finish(self.local);
    }
}

/// An attach on its way.
struct PendingAttach {
    attach_request_id: String,
    /// Asked for a repaint at a new size (not the command's own attach):
    /// its failure does not end the command.
    resync: bool,
}

impl AttachedSession<'_> {
    pub async fn run(
        &mut self,
        client: &mut ProtocolClient,
        keyboard: &mut Keyboard,
        signals: &mut AttachSignals,
    ) -> Ending {
        loop {
            let redraw_due = self.view.redraw_due();
            let redraw_at =
                tokio::time::Instant::from_std(redraw_due.unwrap_or_else(std::time::Instant::now));
            let step = tokio::select! {
                message = client.reader.next() => match message {
                    Ok(message) => self.on_message(message).await,
                    Err(err) => Err(Ending::DaemonLost(err)),
                },
                read = keyboard.next() => match read {
                    Some(bytes) => self.on_keys(&bytes, &mut client.writer).await,
                    None => Err(Ending::KeyboardClosed),
                },
                signal = signals.next() => match signal {
                    AttachSignal::WindowChanged => self.on_window_change(&mut client.writer).await,
                    AttachSignal::End(name) => Err(Ending::Signal(name)),
                },
                pty = self.sizes.next_change() => {
                    self.view.pty_changed(self.local, pty).map_err(Ending::LocalTerminalGone)
                },
                () = tokio::time::sleep_until(redraw_at), if redraw_due.is_some() => {
                    self.view.redraw(self.local).map_err(Ending::LocalTerminalGone)
                },
            };
            if let Err(ending) = step {
                return ending;
            }
            if let Err(ending) = self.resync_if_needed(&mut client.writer).await {
                return ending;
            }
        }
    }

    /// Sends `terminal.attach` (the first, a reconnect's, or a resync's):
    /// always from seq 0 with a 1-byte budget, so the daemon's repaint of
    /// the screen comes first and the model starts from it.
    pub async fn send_attach(
        &mut self,
        writer: &mut MessageWriter,
        intent: AttachIntent,
        resync: bool,
    ) -> Result<(), ClientError> {
        self.generation += 1;
        let attach_request_id = format!("{}:{}", self.pane_id, self.generation);
        let (cols, rows) = self.local.size();
        let sent = writer
            .send(&ClientMessage::Attach {
                terminal_id: self.terminal_id,
                intent,
                cols,
                rows,
                since_seq: 0,
                attach_request_id: &attach_request_id,
                max_replay_bytes: ATTACH_REPLAY_BUDGET_BYTES,
            })
            .await;
        self.pending_attach = Some(PendingAttach {
            attach_request_id,
            resync,
        });
        sent
    }

    /// The PTY changed size under the model: attach again (on this socket,
    /// replacing the current attach; never resizing) for a repaint at the
    /// new size. Output goes on meanwhile from the current attach.
    async fn resync_if_needed(&mut self, writer: &mut MessageWriter) -> Result<(), Ending> {
        if self.pending_attach.is_some() || self.resync_refused || !self.view.needs_resync() {
            return Ok(());
        }
        self.send_attach(writer, AttachIntent::KeepaliveDelta, true)
            .await
            .map_err(Ending::DaemonLost)
    }

    fn is_mine(&self, terminal_id: &str, attach_request_id: Option<&str>) -> bool {
        terminal_id == self.terminal_id
            && attach_request_id == Some(self.attach_request_id.as_str())
    }

    fn is_pending(&self, terminal_id: &str, attach_request_id: Option<&str>) -> bool {
        terminal_id == self.terminal_id
            && attach_request_id.is_some()
            && self
                .pending_attach
                .as_ref()
                .map(|p| p.attach_request_id.as_str())
                == attach_request_id
    }

    async fn on_message(&mut self, message: ServerMessage) -> Result<(), Ending> {
        match message {
            ServerMessage::AttachReady {
                terminal_id,
                head_seq,
                attach_request_id,
            } if self.is_pending(&terminal_id, attach_request_id.as_deref()) => {
                let new_socket = match self.pending_attach.take() {
                    Some(pending) => {
                        self.attach_request_id = pending.attach_request_id;
                        !pending.resync
                    }
                    None => false,
                };
                if new_socket {
                    // Pings sent on a socket the daemon closed are never answered.
                    self.size_checks = 0;
                }
                // The size the repaint that follows is drawn at.
                let pty = self.sizes.now().await;
                self.view
                    .attached(self.local, head_seq, pty, new_socket)
                    .map_err(Ending::LocalTerminalGone)?;
            }
            ServerMessage::Output {
                terminal_id,
                seq_end,
                data,
                attach_request_id,
                ..
            } if self.is_mine(&terminal_id, attach_request_id.as_deref()) => {
                self.view
                    .output(self.local, seq_end, &data)
                    .map_err(Ending::LocalTerminalGone)?;
            }
            ServerMessage::Exit {
                terminal_id,
                exit_code,
            } if terminal_id == self.terminal_id => return Err(Ending::Exited(exit_code)),
            ServerMessage::Pong if self.size_checks > 0 => {
                self.size_checks -= 1;
                if self.size_checks == 0 {
                    // Every size sent before the ping has been applied.
                    let pty = self.sizes.now().await;
                    self.view
                        .settled(self.local, pty)
                        .map_err(Ending::LocalTerminalGone)?;
                }
            }
            // An attach failed (the terminal exited or vanished meanwhile):
            // the command's own ends it; a resync's is followed by the exit.
            ServerMessage::Error {
                code,
                message,
                request_id: Some(request_id),
                ..
            } if self
                .pending_attach
                .as_ref()
                .is_some_and(|p| p.attach_request_id == request_id) =>
            {
                if self.pending_attach.take().is_some_and(|p| p.resync) {
                    self.resync_refused = true;
                } else {
                    return Err(Ending::Refused { code, message });
                }
            }
            // Other errors answer keys or a resize sent while the session was
            // exiting; its `terminal.exit` follows and ends the attach. Gaps
            // are followed by a repaint. The rest concerns other terminals.
            _ => {}
        }
        Ok(())
    }

    /// Sends this terminal's size (taking the PTY's size with it when
    /// `take_size`), then a ping: its pong says the daemon applied it.
    async fn send_size(
        &mut self,
        writer: &mut MessageWriter,
        take_size: bool,
    ) -> Result<(), Ending> {
        let (cols, rows) = self.local.size();
        writer
            .send(&ClientMessage::Resize {
                terminal_id: self.terminal_id,
                cols,
                rows,
                take_size,
            })
            .await
            .map_err(Ending::DaemonLost)?;
        writer
            .send(&ClientMessage::Ping)
            .await
            .map_err(Ending::DaemonLost)?;
        self.size_checks += 1;
        Ok(())
    }

    async fn on_keys(&mut self, bytes: &[u8], writer: &mut MessageWriter) -> Result<(), Ending> {
        let filtered = self.keys.feed(bytes);
        if !self.read_only && !filtered.forward.is_empty() {
            let data = self.text.decode(&filtered.forward);
            if !data.is_empty() {
                writer
                    .send(&ClientMessage::Input {
                        terminal_id: self.terminal_id,
                        data: &data,
                    })
                    .await
                    .map_err(Ending::DaemonLost)?;
            }
        }
        if filtered.detach {
            return Err(Ending::Detached);
        }
        if filtered.take_size && !self.read_only {
            self.send_size(writer, true).await?;
            self.view.asked_for_size();
        }
        Ok(())
    }

    async fn on_window_change(&mut self, writer: &mut MessageWriter) -> Result<(), Ending> {
        let size = self.local.size();
        // A read-only attach leaves the size alone.
        let sent = !self.read_only;
        if sent {
            self.send_size(writer, false).await?;
        }
        self.view
            .window_changed(self.local, size, sent)
            .map_err(Ending::LocalTerminalGone)
    }
}
