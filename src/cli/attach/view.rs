//! What this terminal shows of the session: its output as it is when the
//! PTY has this terminal's size, else its screen clipped, with a status line.
//!
//! Output passed through raw is only right on a terminal of the PTY's size:
//! the program wraps and positions for the PTY's width. When the sizes
//! differ (another viewer typed last, a read-only attach, a window of
//! another size under `largest` or `smallest`), the attach does what tmux
//! does for a client smaller or larger than its window: it keeps a screen
//! model of the session (the daemon's own, `crate::session::ScreenModel`)
//! and draws it clipped to this terminal (`session/terminal/clipped.rs`),
//! at most [`MIN_REDRAW_INTERVAL`] apart, with a status line at the bottom
//! (`status_line.rs`). When the sizes agree again, the model's repaint puts
//! the terminal back in step with the raw output, which passes byte for
//! byte as before.
//!
//! The model is fed every frame, in either mode, so switching needs no
//! round trip. It must be at the PTY's size: every attach starts it from the
//! daemon's repaint at the size the daemon gave just after the attach was
//! ready, and when the PTY's size changes, the attach attaches again for a
//! fresh repaint (`needs_resync`): frames that raced the change are then
//! parsed at the right size, not at the old one.

use std::time::{Duration, Instant};

use crate::server::api::PtySize;
use crate::session::{ClipArea, ClippedView, ScreenModel};

use super::local_terminal::LocalTerminal;
use super::status_line::SizeStatus;

/// At most about 30 clipped redraws a second: a burst of output is drawn
/// once per interval, not once per frame.
pub const MIN_REDRAW_INTERVAL: Duration = Duration::from_millis(33);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shown {
    /// The output as it is: the PTY has this terminal's size.
    Raw,
    /// The model, clipped, with the status line.
    Clipped,
}

pub struct SessionView {
    model: ScreenModel,
    /// Seq of the last frame fed to the model.
    modeled_seq: u64,
    /// Seq of the last frame written raw (or drawn by a repaint).
    written_seq: u64,
    /// The PTY's size as last learned.
    pty: Option<PtySize>,
    /// This terminal's (cols, rows).
    local: (u16, u16),
    shown: Shown,
    clipped: ClippedView,
    /// An attach is ready and its repaint comes next, drawn at this size.
    awaiting_repaint: Option<(u16, u16)>,
    /// This terminal sent its size and waits to learn what the PTY took:
    /// what is shown does not change meanwhile (no status line flashing up
    /// while the window is dragged).
    settling: bool,
    /// The model changed since the last clipped draw.
    dirty: bool,
    last_draw: Option<Instant>,
    read_only: bool,
    take_size_key: Option<String>,
}

impl SessionView {
    pub fn new(local: (u16, u16), read_only: bool, take_size_key: Option<String>) -> SessionView {
        SessionView {
            model: ScreenModel::new(local.0, local.1),
            modeled_seq: 0,
            written_seq: 0,
            pty: None,
            local,
            shown: Shown::Raw,
            clipped: ClippedView::new(),
            awaiting_repaint: None,
            settling: false,
            dirty: false,
            last_draw: None,
            read_only,
            take_size_key,
        }
    }

    /// An attach is ready: its repaint follows when the session has any
    /// output (`head_seq > 0`). `pty` is the size the daemon gave right
    /// after, the size the repaint is drawn at. On a `new_socket` (the
    /// first, or after the daemon restarted) no earlier answer is awaited.
    pub fn attached(
        &mut self,
        local: &mut LocalTerminal,
        head_seq: u64,
        pty: Option<PtySize>,
        new_socket: bool,
    ) -> std::io::Result<()> {
        if pty.is_some() {
            self.pty = pty;
        }
        if new_socket {
            self.settling = false;
        }
        let size = self.pty.map_or(self.local, |pty| (pty.cols, pty.rows));
        if head_seq > 0 {
            self.awaiting_repaint = Some(size);
            return Ok(());
        }
        self.model = ScreenModel::new(size.0, size.1);
        self.modeled_seq = 0;
        self.awaiting_repaint = None;
        if self.shown == Shown::Raw {
            // Without output no repaint comes to clear the screen.
            local.clear()?;
        }
        self.settle(local)
    }

    /// A frame of the current attach (the first after `attached` is its repaint).
    pub fn output(
        &mut self,
        local: &mut LocalTerminal,
        seq: u64,
        data: &str,
    ) -> std::io::Result<()> {
        if let Some((cols, rows)) = self.awaiting_repaint.take() {
            self.model = ScreenModel::new(cols, rows);
            self.model.feed_bytes(data.as_bytes());
            self.modeled_seq = seq;
            // Drawn at the right size from here: maybe the other way.
            self.settle(local)?;
        } else if seq > self.modeled_seq {
            self.model.feed_bytes(data.as_bytes());
            self.modeled_seq = seq;
        }
        match self.shown {
            Shown::Raw if seq > self.written_seq => {
                self.written_seq = seq;
                local.write(data)
            }
            Shown::Raw => Ok(()),
            Shown::Clipped => {
                self.dirty = true;
                Ok(())
            }
        }
    }

    /// The long poll learned the PTY's size.
    pub fn pty_changed(&mut self, local: &mut LocalTerminal, pty: PtySize) -> std::io::Result<()> {
        self.pty = Some(pty);
        self.dirty = true;
        self.settle(local)
    }

    /// This terminal changed size; `sent` when the new size went to the
    /// daemon and `settled` follows with what the PTY took.
    pub fn window_changed(
        &mut self,
        local: &mut LocalTerminal,
        size: (u16, u16),
        sent: bool,
    ) -> std::io::Result<()> {
        self.local = size;
        if self.shown == Shown::Clipped {
            // The terminal rewrapped or cut what was drawn: all of it again.
            self.clipped.invalidate();
            self.dirty = true;
        }
        if sent {
            self.settling = true;
            return Ok(());
        }
        self.settle(local)
    }

    /// This terminal asked for the size (or sent its own); `settled` follows.
    pub fn asked_for_size(&mut self) {
        self.settling = true;
    }

    /// The daemon's answer after this terminal's size reached it.
    pub fn settled(
        &mut self,
        local: &mut LocalTerminal,
        pty: Option<PtySize>,
    ) -> std::io::Result<()> {
        self.settling = false;
        if pty.is_some() {
            self.pty = pty;
        }
        self.dirty = true;
        self.settle(local)
    }

    /// The PTY's size is known and the model is at another: attach again
    /// for a repaint at the right size.
    pub fn needs_resync(&self) -> bool {
        let Some(pty) = self.pty else {
            return false;
        };
        self.awaiting_repaint.is_none() && self.model.size() != (pty.cols, pty.rows)
    }

    /// When the next clipped draw is due, if one is.
    pub fn redraw_due(&self) -> Option<Instant> {
        if self.shown != Shown::Clipped || !self.dirty {
            return None;
        }
        Some(
            self.last_draw
                .map_or_else(Instant::now, |last| last + MIN_REDRAW_INTERVAL),
        )
    }

    /// Draws the clipped screen and the status line.
    pub fn redraw(&mut self, local: &mut LocalTerminal) -> std::io::Result<()> {
        if self.shown != Shown::Clipped {
            return Ok(());
        }
        let Some(pty) = self.pty else {
            return Ok(());
        };
        self.dirty = false;
        self.last_draw = Some(Instant::now());
        let on_alternate = self.model.on_alternate_screen();
        if local.alternate_screen() != on_alternate {
            // On the screen the program is on, so leaving restores what it would.
            local.write(if on_alternate {
                "\x1b[?1049h"
            } else {
                "\x1b[?1049l"
            })?;
            self.clipped.invalidate();
        }
        let (cols, rows) = self.local;
        let status = SizeStatus {
            pty,
            local: self.local,
            read_only: self.read_only,
            take_size_key: self.take_size_key.as_deref(),
        };
        let area = ClipArea {
            cols,
            rows: rows.saturating_sub(1),
        };
        let drawn = self
            .model
            .draw_clipped(&mut self.clipped, area, &status.draw(rows, cols));
        local.write(&drawn)
    }

    /// The attach ends: the last output drawn, the status line gone, the
    /// cursor on the last row so what the shell prints lands below.
    pub fn finish(&mut self, local: &mut LocalTerminal) -> std::io::Result<()> {
        if self.shown != Shown::Clipped {
            return Ok(());
        }
        if self.dirty {
            self.redraw(local)?;
        }
        let rows = self.local.1;
        local.write(&format!(
            "\x1b[{rows};1H\x1b[0m\x1b[2K\x1b[{};1H",
            rows.saturating_sub(1).max(1)
        ))
    }

    /// Shows the output raw or clipped, as the sizes say, once the model is
    /// at the PTY's size and no answer about this terminal's size is awaited.
    fn settle(&mut self, local: &mut LocalTerminal) -> std::io::Result<()> {
        let Some(pty) = self.pty else {
            return Ok(());
        };
        let pty_size = (pty.cols, pty.rows);
        if self.settling || self.awaiting_repaint.is_some() || self.model.size() != pty_size {
            return Ok(());
        }
        let wanted = if pty_size == self.local {
            Shown::Raw
        } else {
            Shown::Clipped
        };
        match (self.shown, wanted) {
            (Shown::Raw, Shown::Clipped) => {
                self.shown = Shown::Clipped;
                self.clipped.invalidate();
                self.dirty = true;
                self.redraw(local)
            }
            (Shown::Clipped, Shown::Raw) => {
                self.shown = Shown::Raw;
                self.dirty = false;
                self.clipped.invalidate();
                // The model's state, then the output after it, raw.
                self.written_seq = self.modeled_seq;
                local.write(&self.model.snapshot().repaint)
            }
            (Shown::Raw, Shown::Raw) | (Shown::Clipped, Shown::Clipped) => Ok(()),
        }
    }
}
