//! The writing half of one freshell socket.
//!
//! A single task owns the socket's sink and interleaves, in order: control
//! messages queued by the connection, each attachment's preamble (attach.ready,
//! modes, gap, repaint) and then its output, pulled from the session through
//! its viewer cursor. Because the attachment itself is queued behind the
//! messages before it, `attach.ready` always precedes that attach's frames,
//! and `terminal.exit` follows every byte of output.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::stream::SplitSink;
use futures_util::{FutureExt, SinkExt};
use tokio::sync::{broadcast, mpsc, watch, Notify};

use super::activity_messages::activity_message;
use super::outbound::{self, Detached, Exit, OutputGap, SessionAssociated, TerminalsChanged};
use super::output_encoding::{pack_runs, OutputEnvelope, Source};
use crate::daemon::Closing;
use crate::registry;
use crate::session::{now_ms, ActivityEvent};
use crate::session::{Resync, SkipReason, Viewer, ViewerEvent};
use crate::upstream::ui_commands::UiCommands;

/// Output pulled from one attachment before moving to the next, so panes on
/// one socket share it fairly.
const OUTPUT_BYTES_PER_TURN: u64 = 64 * 1024;

/// Mirrors freshell's `MAX_WS_BUFFERED_AMOUNT`: control messages queued
/// beyond this mean the client stopped reading; the socket is closed 4008.
pub const MAX_QUEUED_CONTROL_BYTES: usize = 2 * 1024 * 1024;

/// One pane's view of one terminal on this socket.
pub struct Attachment {
    pub terminal_id: String,
    /// Attachments are keyed by (terminal, pane): a new attach from the same
    /// pane replaces the old one, another pane's attach adds a viewer.
    pub pane_key: String,
    pub attach_request_id: Option<String>,
    pub stream_id: String,
    pub viewer: Viewer,
    pub envelope: OutputEnvelope,
    /// Sent before any output of this attachment.
    pub preamble: Vec<String>,
}

impl Drop for Attachment {
    fn drop(&mut self) {
        let stats = self.viewer.stats();
        if stats.resyncs > 0 {
            tracing::info!(
                terminal = %self.terminal_id,
                pane = %self.pane_key,
                resyncs = stats.resyncs,
                skipped_frames = stats.skipped_frames,
                skipped_bytes = stats.skipped_bytes,
                "viewer detached after falling behind"
            );
        }
    }
}

pub enum Outgoing {
    Message(String),
    Attach(Box<Attachment>),
    /// Ends every attachment of this socket to the terminal, then sends `ack`.
    Detach {
        terminal_id: String,
        ack: String,
    },
    /// Sends a close frame and ends the socket.
    Close {
        code: u16,
        reason: &'static str,
    },
    /// The socket passed hello: forward `terminals.changed` from now on.
    Authenticated,
}

/// How long the socket may make no progress at all, with more than
/// `MAX_QUEUED_CONTROL_BYTES` waiting, before it counts as not reading.
const CONTROL_STALL: Duration = Duration::from_secs(2);

/// Control messages waiting for the writer, and when it last moved bytes.
#[derive(Default)]
struct ControlBacklog {
    bytes: AtomicUsize,
    last_progress_ms: AtomicU64,
}

impl ControlBacklog {
    fn progressed(&self) {
        self.last_progress_ms.store(now_ms(), Ordering::Relaxed);
    }

    fn stalled(&self) -> bool {
        let idle_ms = now_ms().saturating_sub(self.last_progress_ms.load(Ordering::Relaxed));
        u128::from(idle_ms) >= CONTROL_STALL.as_millis()
    }
}

/// The connection's handle for queueing messages to its socket.
#[derive(Clone)]
pub struct Outbox {
    tx: mpsc::UnboundedSender<Outgoing>,
    backlog: Arc<ControlBacklog>,
}

impl Outbox {
    /// Queues a message; false when the client stopped reading and the
    /// socket must be dropped.
    pub fn send(&self, message: String) -> bool {
        // What is already waiting decides (as freshell), and only if the
        // socket has stopped moving: a burst of large messages to a client
        // that reads still goes out.
        let waiting = self
            .backlog
            .bytes
            .fetch_add(message.len(), Ordering::Relaxed);
        if waiting > MAX_QUEUED_CONTROL_BYTES && self.backlog.stalled() {
            let _ = self.tx.send(Outgoing::Close {
                code: 4008,
                reason: "Backpressure",
            });
            return false;
        }
        self.tx.send(Outgoing::Message(message)).is_ok()
    }

    pub fn push(&self, item: Outgoing) -> bool {
        self.tx.send(item).is_ok()
    }
}

pub struct SocketWriter {
    sink: SplitSink<WebSocket, Message>,
    commands: mpsc::UnboundedReceiver<Outgoing>,
    backlog: Arc<ControlBacklog>,
    attachments: VecDeque<Attachment>,
    wake: Arc<Notify>,
    registry: Arc<registry::Registry>,
    /// In front of freshell: layout changes for the browser.
    ui_commands: Option<UiCommands>,
    /// Daemon-wide news, once the client is authenticated.
    news: Option<News>,
    ping_interval: Duration,
    awaiting_pong: Arc<AtomicBool>,
    shutdown: watch::Receiver<Closing>,
}

/// What every authenticated client hears: list changes, agent activity
/// and, in front of freshell, layout commands.
struct News {
    changes: broadcast::Receiver<registry::TerminalsChanged>,
    activity: broadcast::Receiver<ActivityEvent>,
    associations: broadcast::Receiver<registry::Association>,
    ui_commands: Option<broadcast::Receiver<String>>,
}

/// Something other than output or a command that the writer must act on.
enum Event {
    PingDue,
    Changed(registry::TerminalsChanged),
    Activity(ActivityEvent),
    Associated(registry::Association),
    /// A pre-encoded `ui.command`.
    UiCommand(String),
    /// Every socket is being closed, for this reason.
    Shutdown(Closing),
}

/// Why the writer stopped.
enum Stop {
    Closed,
    Gone,
}

impl SocketWriter {
    pub fn new(
        sink: SplitSink<WebSocket, Message>,
        wake: Arc<Notify>,
        registry: Arc<registry::Registry>,
        ui_commands: Option<UiCommands>,
        ping_interval: Duration,
        awaiting_pong: Arc<AtomicBool>,
        shutdown: watch::Receiver<Closing>,
    ) -> (Outbox, SocketWriter) {
        let (tx, commands) = mpsc::unbounded_channel();
        let backlog = Arc::new(ControlBacklog::default());
        backlog.progressed();
        let outbox = Outbox {
            tx,
            backlog: Arc::clone(&backlog),
        };
        let writer = SocketWriter {
            sink,
            commands,
            backlog,
            attachments: VecDeque::new(),
            wake,
            registry,
            ui_commands,
            news: None,
            ping_interval,
            awaiting_pong,
            shutdown,
        };
        (outbox, writer)
    }

    pub async fn run(mut self) {
        let _ = self.serve().await;
        // Viewers leave now, even if the close frame never gets out.
        self.attachments.clear();
        let _ = tokio::time::timeout(self.ping_interval, self.sink.close()).await;
    }

    /// One write or flush, bounded: a client that takes in nothing for two ping
    /// intervals cannot have answered a ping either, and is dropped as freshell
    /// drops it, whatever is still buffered for it.
    async fn io(
        limit: Duration,
        io: impl std::future::Future<Output = Result<(), axum::Error>>,
    ) -> Result<(), Stop> {
        match tokio::time::timeout(limit, io).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(Stop::Gone),
            Err(_) => {
                tracing::info!(
                    limit_ms = limit.as_millis() as u64,
                    "the client read nothing for two ping intervals; dropping the socket"
                );
                Err(Stop::Gone)
            }
        }
    }

    async fn serve(&mut self) -> Result<(), Stop> {
        let mut ping = tokio::time::interval(self.ping_interval);
        ping.tick().await;
        loop {
            while let Ok(command) = self.commands.try_recv() {
                self.handle(command).await?;
            }
            if self.pump_output().await? {
                Self::io(self.ping_interval * 2, self.sink.flush()).await?;
                // A continuous flood must not starve pings, list changes or
                // shutdown: look at them without waiting, then go on.
                if let Some(event) =
                    Self::next_event(&mut ping, &mut self.news, &mut self.shutdown).now_or_never()
                {
                    self.on_event(event).await?;
                }
                tokio::task::yield_now().await;
                continue;
            }
            Self::io(self.ping_interval * 2, self.sink.flush()).await?;
            tokio::select! {
                command = self.commands.recv() => match command {
                    Some(command) => self.handle(command).await?,
                    None => return Err(Stop::Closed),
                },
                () = self.wake.notified() => {}
                event = Self::next_event(&mut ping, &mut self.news, &mut self.shutdown) => {
                    self.on_event(event).await?;
                }
            }
        }
    }

    /// The next timer, list change or shutdown, whichever comes first.
    async fn next_event(
        ping: &mut tokio::time::Interval,
        news: &mut Option<News>,
        shutdown: &mut watch::Receiver<Closing>,
    ) -> Event {
        tokio::select! {
            _ = ping.tick() => Event::PingDue,
            news = recv_news(news) => news,
            reason = closing(shutdown) => Event::Shutdown(reason),
        }
    }

    async fn on_event(&mut self, event: Event) -> Result<(), Stop> {
        match event {
            Event::PingDue => {
                if self.awaiting_pong.swap(true, Ordering::SeqCst) {
                    tracing::info!("no pong since the last ping; dropping the socket");
                    return Err(Stop::Gone);
                }
                self.write(Message::Ping(Default::default())).await
            }
            Event::Changed(change) => {
                let message = outbound::to_json(&TerminalsChanged {
                    kind: "terminals.changed",
                    revision: change.revision,
                    recoverable_terminal_ids: change.recoverable_terminal_ids,
                });
                self.write_text(message).await
            }
            Event::Activity(event) => self.write_text(activity_message(&event)).await,
            Event::UiCommand(text) => self.write_text(text).await,
            Event::Associated(association) => {
                let message = outbound::to_json(&SessionAssociated {
                    kind: "terminal.session.associated",
                    terminal_id: association.terminal_id,
                    session_ref: association.session_ref,
                });
                self.write_text(message).await
            }
            Event::Shutdown(reason) => {
                let said = match reason {
                    Closing::Restarting => "Server restarting",
                    _ => "Server shutting down",
                };
                self.close(4009, said).await;
                Err(Stop::Closed)
            }
        }
    }

    async fn handle(&mut self, command: Outgoing) -> Result<(), Stop> {
        match command {
            Outgoing::Message(text) => {
                let len = text.len();
                let written = self.write_text(text).await;
                self.backlog.bytes.fetch_sub(len, Ordering::Relaxed);
                written
            }
            Outgoing::Attach(attachment) => {
                let mut attachment = *attachment;
                self.attachments.retain(|a| {
                    !(a.terminal_id == attachment.terminal_id && a.pane_key == attachment.pane_key)
                });
                for message in std::mem::take(&mut attachment.preamble) {
                    self.write_text(message).await?;
                }
                self.attachments.push_back(attachment);
                Ok(())
            }
            Outgoing::Detach { terminal_id, ack } => {
                self.attachments.retain(|a| a.terminal_id != terminal_id);
                self.write_text(ack).await
            }
            Outgoing::Close { code, reason } => {
                self.close(code, reason).await;
                Err(Stop::Closed)
            }
            Outgoing::Authenticated => {
                if self.news.is_none() {
                    self.news = Some(News {
                        changes: self.registry.subscribe(),
                        activity: self.registry.subscribe_activity(),
                        associations: self.registry.subscribe_associations(),
                        ui_commands: self.ui_commands.as_ref().map(UiCommands::subscribe),
                    });
                }
                Ok(())
            }
        }
    }

    /// Moves one turn of output for every attachment; true if anything moved.
    async fn pump_output(&mut self) -> Result<bool, Stop> {
        let mut progressed = false;
        let mut index = 0;
        while index < self.attachments.len() {
            let event = self.attachments[index].viewer.poll(OUTPUT_BYTES_PER_TURN);
            match event {
                ViewerEvent::Idle => index += 1,
                ViewerEvent::Output {
                    frames,
                    replay_to_seq,
                } => {
                    progressed = true;
                    // A replay goes out packed into as few messages as fit
                    // (its budget counts their envelopes); live frames one
                    // message each, so every viewer sees the same messages.
                    let live_from = frames.partition_point(|frame| frame.seq <= replay_to_seq);
                    let (replay, live) = frames.split_at(live_from);
                    let mut start = 0;
                    for end in pack_runs(replay) {
                        let text = self.attachments[index]
                            .envelope
                            .encode_run(&replay[start..end], Source::Replay);
                        start = end;
                        self.feed_text(text).await?;
                    }
                    for frame in live {
                        let text = self.attachments[index].envelope.encode(frame, Source::Live);
                        self.feed_text(text).await?;
                    }
                    index += 1;
                }
                ViewerEvent::Resync(resync) => {
                    progressed = true;
                    for text in resync_messages(&self.attachments[index], resync) {
                        self.feed_text(text).await?;
                    }
                    index += 1;
                }
                ViewerEvent::Exited { exit_code } => {
                    progressed = true;
                    let ended = self.attachments.remove(index);
                    let Some(ended) = ended else { continue };
                    let others_remain = self
                        .attachments
                        .iter()
                        .any(|a| a.terminal_id == ended.terminal_id);
                    if !others_remain {
                        let exit = outbound::to_json(&Exit {
                            kind: "terminal.exit",
                            terminal_id: ended.terminal_id.clone(),
                            exit_code,
                        });
                        self.feed_text(exit).await?;
                    }
                }
            }
        }
        Ok(progressed)
    }

    async fn write_text(&mut self, text: String) -> Result<(), Stop> {
        self.write(Message::Text(text.into())).await
    }

    async fn feed_text(&mut self, text: String) -> Result<(), Stop> {
        Self::io(
            self.ping_interval * 2,
            self.sink.feed(Message::Text(text.into())),
        )
        .await?;
        self.backlog.progressed();
        Ok(())
    }

    async fn write(&mut self, message: Message) -> Result<(), Stop> {
        Self::io(self.ping_interval * 2, self.sink.send(message)).await?;
        self.backlog.progressed();
        Ok(())
    }

    async fn close(&mut self, code: u16, reason: &'static str) {
        let frame = CloseFrame {
            code,
            reason: reason.into(),
        };
        let _ = self.sink.send(Message::Close(Some(frame))).await;
    }
}

/// The next piece of news (a client that fell behind skips what it missed:
/// the list is re-read on the next change, activity on the next list).
async fn recv_news(news: &mut Option<News>) -> Event {
    let Some(News {
        changes,
        activity,
        associations,
        ui_commands,
    }) = news
    else {
        return std::future::pending().await;
    };
    loop {
        tokio::select! {
            change = changes.recv() => match change {
                Ok(change) => return Event::Changed(change),
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return std::future::pending().await,
            },
            event = activity.recv() => match event {
                Ok(event) => return Event::Activity(event),
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return std::future::pending().await,
            },
            association = associations.recv() => match association {
                Ok(association) => return Event::Associated(association),
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return std::future::pending().await,
            },
            command = recv_optional(ui_commands) => match command {
                Ok(text) => return Event::UiCommand(text),
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return std::future::pending().await,
            },
        }
    }
}

/// The next message of a channel a client may not have.
async fn recv_optional(
    receiver: &mut Option<broadcast::Receiver<String>>,
) -> Result<String, broadcast::error::RecvError> {
    match receiver {
        Some(receiver) => receiver.recv().await,
        None => std::future::pending().await,
    }
}

pub fn gap_reason(reason: SkipReason) -> &'static str {
    match reason {
        SkipReason::OverReplayBudget => "replay_budget_exceeded",
        SkipReason::OlderThanRing => "replay_window_exceeded",
        SkipReason::QueueOverflow => "queue_overflow",
    }
}

/// The gap for what a lagging viewer skipped, then the screen repaint.
fn resync_messages(attachment: &Attachment, resync: Resync) -> Vec<String> {
    let mut messages = Vec::with_capacity(2);
    if let Some(skipped) = resync.skipped {
        messages.push(outbound::to_json(&OutputGap {
            kind: "terminal.output.gap",
            terminal_id: attachment.terminal_id.clone(),
            stream_id: attachment.stream_id.clone(),
            from_seq: skipped.from_seq,
            to_seq: skipped.to_seq,
            reason: gap_reason(skipped.reason),
            attach_request_id: attachment.attach_request_id.clone(),
        }));
    }
    let escaped = super::output_encoding::json_string(&resync.repaint.repaint);
    messages.push(attachment.envelope.encode_escaped(
        resync.repaint.through_seq,
        &escaped,
        Source::Live,
    ));
    messages
}

/// A `terminal.detached` acknowledgement.
pub fn detached(terminal_id: &str) -> String {
    outbound::to_json(&Detached {
        kind: "terminal.detached",
        terminal_id: terminal_id.to_owned(),
    })
}

/// Resolves once every socket is to close, with the reason (a closing
/// called off before this socket noticed it is not one).
async fn closing(closing: &mut watch::Receiver<Closing>) -> Closing {
    loop {
        let reason = *closing.borrow_and_update();
        if reason != Closing::No {
            return reason;
        }
        if closing.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}
