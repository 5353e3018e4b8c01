//! What to run in a new PTY: program, argv, cwd, environment, size.
//!
//! Built by the providers from configuration; every client string arrives
//! here as one argv entry or one environment value and is never interpreted
//! by a shell.

use std::ffi::OsString;
use std::path::PathBuf;

#[derive(Clone, Debug)]
pub struct LaunchSpec {
    pub program: OsString,
    pub args: Vec<OsString>,
    pub cwd: Option<PathBuf>,
    /// Variables set for the child on top of the daemon's environment.
    pub env_set: Vec<(OsString, OsString)>,
    /// Variables of the daemon's environment the child must not see.
    pub env_remove: Vec<OsString>,
    pub cols: u16,
    pub rows: u16,
}
