//! What viewers send the child: keystrokes, written in order with their
//! focus reports folded into one (`shared_focus.rs`), and window sizes, of
//! which the PTY takes the one the size policy picks (`size_policy.rs`) —
//! typing under `latest`, a wish under `manual`, the extremes under
//! `largest`/`smallest`.

use std::sync::atomic::Ordering;

use super::{now_ms, Session, SizePolicy};

impl Session {
    /// Queues `owner`'s input for the child, in order, without blocking the
    /// caller. Its focus reports become the session's one focus signal
    /// (`shared_focus.rs`), and typing makes it the viewer whose window
    /// size the PTY takes under the `latest` policy.
    pub fn write_input(&self, owner: u64, bytes: Vec<u8>) -> bool {
        if !self.is_running() {
            return false;
        }
        let now = now_ms();
        self.last_activity_ms.store(now, Ordering::Relaxed);
        self.last_meaningful_activity_ms
            .store(now, Ordering::Relaxed);
        let (bytes, focus_report) = self.focus.lock().take_reports(owner, bytes);
        if let Some(report) = focus_report {
            self.report_focus(report);
        }
        if bytes.is_empty() {
            return true;
        }
        let owners = self.attached_owners_with(owner);
        let typed = self.sizes.lock().typed(owner, &owners);
        if let Some(size) = typed {
            self.apply_size(size, owners.len() > 1);
        }
        self.track_input(&bytes);
        self.input.send(bytes)
    }

    /// `owner`'s window is `cols`×`rows`; the PTY takes it if the size
    /// policy picks it (see `size_policy.rs`).
    pub fn resize(&self, cols: u16, rows: u16, owner: u64) {
        let owners = self.attached_owners_with(owner);
        let picked = self.sizes.lock().wants(owner, (cols, rows), &owners);
        if let Some(size) = picked {
            self.apply_size(size, owners.len() > 1);
        }
    }

    /// `owner` asks for the PTY to take its window's size without typing
    /// (see `SizeArbiter::take`).
    pub fn take_size(&self, owner: u64) {
        let owners = self.attached_owners_with(owner);
        let picked = self.sizes.lock().take(owner, &owners);
        if let Some(size) = picked {
            self.apply_size(size, owners.len() > 1);
        }
    }

    /// Waits (blocking) until the input queued so far is in the PTY, or
    /// until `deadline`; returns the bytes still unwritten (a child that
    /// does not read its input blocks the writer).
    pub fn wait_input_written(&self, deadline: std::time::Instant) -> usize {
        self.input.wait_written(deadline)
    }

    pub fn size_policy(&self) -> SizePolicy {
        self.sizes.lock().policy()
    }

    /// Changes which viewer's size this session's PTY takes; the new policy
    /// picks among the attached viewers at once.
    pub fn set_size_policy(&self, policy: SizePolicy) {
        let owners = self.attached_owners();
        let picked = self.sizes.lock().set_policy(policy, &owners);
        if let Some(size) = picked {
            self.apply_size(size, owners.len() > 1);
        }
    }

    /// Sets the PTY's size (a no-op when it is the size already).
    pub(super) fn apply_size(&self, (cols, rows): (u16, u16), others_attached: bool) {
        let changed = self
            .geometry
            .send_if_modified(|geometry| geometry.record(cols, rows, others_attached));
        if changed {
            if let Err(err) = self.process.resize(cols, rows) {
                tracing::warn!(terminal = %self.info.terminal_id, %err, "PTY resize failed");
            }
            // Output before this point was drawn at the old size.
            self.up_to_date_screen().resize(cols, rows);
            self.ring.lock().clear_checkpoints();
        }
    }

    /// Sends a focus report, if the child asked for them (mode 1004).
    pub(super) fn report_focus(&self, report: &[u8]) {
        if self.up_to_date_screen().reports_focus() {
            let _ = self.input.send(report.to_vec());
        }
    }

    /// The distinct owners of attached viewers, and `owner`.
    fn attached_owners_with(&self, owner: u64) -> Vec<u64> {
        let mut owners = self.attached_owners();
        if let Err(at) = owners.binary_search(&owner) {
            owners.insert(at, owner);
        }
        owners
    }

    /// The distinct owners of attached viewers, sorted.
    fn attached_owners(&self) -> Vec<u64> {
        let mut owners: Vec<u64> = self.viewers.lock().iter().map(|v| v.owner).collect();
        owners.sort_unstable();
        owners.dedup();
        owners
    }
}
