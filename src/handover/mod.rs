//! Restarting the daemon without losing an agent: the running daemon
//! executes the binary at its path (possibly a newer build) **in place**,
//! as systemd's `daemon-reexec` does. The pid stays the same, so every child
//! stays its child; the listening socket and every PTY master stay open
//! across the exec, so no child is hung up and no client has to find a new
//! port; and what lives only in memory (sessions' rings and screens, the
//! tokens, the bootId) is written to an anonymous file the next image reads
//! first thing.
//!
//! - `upgrade.rs`: when and how the running image hands over.
//! - `carrier.rs`: the anonymous file and the descriptors kept across the exec.
//! - `held_signals.rs`: a reload or stop sent during the exec waits for the next image.
//!
//! The handover's format has a version: a binary that does not read the
//! running daemon's version refuses (`ptyhub check-handover`) before the
//! running daemon lets go of anything.

mod carrier;
pub mod held_signals;
pub mod side_text;
pub mod upgrade;

use serde::{Deserialize, Serialize};

pub use carrier::{
    close_on_exec, inherited_fd, listener_from, read as read_carrier, take_from_environment,
    HANDOVER_FD_VAR,
};

use crate::registry::RegistryHandover;
use crate::upstream::agent_api::layout::LayoutState;

/// The version of `DaemonHandover` this build writes. Bump it when the
/// format changes, and keep reading the previous one. 1: everything in one
/// JSON document; 2: bulk text set aside after it (`side_text.rs`).
pub const FORMAT_VERSION: u32 = 2;

/// Versions this build can take over from.
pub const READABLE_FORMATS: &[u32] = &[1, FORMAT_VERSION];

/// Everything one image of the daemon passes to the next.
#[derive(Debug, Serialize, Deserialize)]
pub struct DaemonHandover {
    pub format: u32,
    /// The version of the build that wrote it (for the logs).
    pub written_by: String,
    pub server_instance_id: String,
    /// Kept: clients see the same daemon and simply reattach.
    pub boot_id: String,
    pub token: String,
    pub view_token: String,
    /// The listening socket, left open across the exec.
    pub listener_fd: i32,
    /// The state dir's lock (`state_dir::daemon_lock`), held across the exec.
    pub state_lock_fd: i32,
    /// Handovers this daemon has been through, this one included.
    pub handovers: u64,
    /// Wall-clock time at which every session stopped reading: the
    /// handover's length is measured from here to serving again.
    pub paused_at_ms: u64,
    pub registry: RegistryHandover,
    /// In front of freshell: the browsers' pane layout the agent API
    /// resolves targets in. Absent in handovers written before it was kept.
    #[serde(default)]
    pub layout: Option<LayoutState>,
}

/// Whether this build takes over a handover of `format`, in words.
pub fn check_format(format: u32) -> Result<String, String> {
    let version = env!("CARGO_PKG_VERSION");
    if READABLE_FORMATS.contains(&format) {
        Ok(format!(
            "ptyhub {version} takes over handover format {format}"
        ))
    } else {
        Err(format!(
            "ptyhub {version} reads handover formats {READABLE_FORMATS:?}, not {format}: \
             upgrade through a release that reads both"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A format-1 handover as a build that writes format 1 wrote it (kept in
    /// `tests/fixtures`). Every build that says it reads format 1 must read
    /// it: a field renamed, removed or added without a default — a new
    /// format in all but number — fails here. When the format changes, the
    /// version goes up, this document stays, and a new one joins it.
    #[test]
    fn the_format_1_document_reads() {
        let text = include_str!("../../tests/fixtures/handover-format-1.json");
        let handover = carrier::parse(text.as_bytes().to_vec(), true).expect("format 1 reads");
        assert_eq!(handover.format, 1);
        assert_eq!(handover.boot_id, "boot-5a6b7c8d");
        let session = &handover.registry.sessions[0];
        assert_eq!(session.ring.head_seq, 7);
        assert_eq!(session.ring.frames[1].data, "ECHO:");
        assert_eq!(session.unfinished_output, b"\x1b[");
        assert_eq!(session.screen.through_offset, 40);
        assert_eq!(handover.registry.counters.spawned, [("claude".into(), 1)]);
    }

    /// Format 2 sets bulk text aside: it must come back byte for byte, and
    /// the JSON must not carry it.
    #[test]
    fn format_2_sets_bulk_text_aside_and_reads_it_back() {
        let text = include_str!("../../tests/fixtures/handover-format-1.json");
        let mut handover = carrier::parse(text.as_bytes().to_vec(), true).expect("format 1 reads");
        handover.format = FORMAT_VERSION;
        let frame = "line 1\r\n\u{1b}[31mframe-text\u{1b}[0m é 世界\r\n".repeat(1000);
        handover.registry.sessions[0].ring.frames[0].data = frame.clone();
        let written = carrier::encode(&handover).expect("format 2 writes");
        let json_end = written.iter().position(|&b| b == b'\n').unwrap();
        assert!(
            !String::from_utf8_lossy(&written[..json_end]).contains("frame-text"),
            "the frame went into the JSON"
        );
        let read = carrier::parse(written.clone(), true).expect("format 2 reads");
        let session = &read.registry.sessions[0];
        assert_eq!(session.ring.frames[0].data, frame);
        assert_eq!(session.ring.frames[1].data, "ECHO:");
        assert_eq!(
            session.screen.repaint,
            handover.registry.sessions[0].screen.repaint
        );
        assert_eq!(
            session.ring.checkpoints[0].repaint,
            handover.registry.sessions[0].ring.checkpoints[0].repaint
        );
    }

    #[test]
    fn a_handover_of_an_unknown_format_is_refused_before_its_fields_are_read() {
        let refused =
            carrier::parse(br#"{"format": 3, "anything": "else"}"#.to_vec(), true).unwrap_err();
        assert!(
            refused
                .to_string()
                .contains("reads handover formats [1, 2], not 3"),
            "{refused}"
        );
    }
}
