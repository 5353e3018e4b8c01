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
//!
//! The handover's format has a version: a binary that does not read the
//! running daemon's version refuses (`ptyhub check-handover`) before the
//! running daemon lets go of anything.

mod carrier;
pub mod upgrade;

use serde::{Deserialize, Serialize};

pub use carrier::{
    close_on_exec, inherited_fd, listener_from, take_from_environment, HANDOVER_FD_VAR,
};

use crate::registry::RegistryHandover;

/// The version of `DaemonHandover` this build writes and reads. Bump it
/// when the format changes, and keep reading the previous one.
pub const FORMAT_VERSION: u32 = 1;

/// Versions this build can take over from.
pub const READABLE_FORMATS: &[u32] = &[FORMAT_VERSION];

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
    /// Wall-clock time of the exec, to measure the handover.
    pub exec_at_ms: u64,
    pub registry: RegistryHandover,
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
