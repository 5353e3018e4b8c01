//! A child process on a PTY: spawn, input, resize and signals.
//!
//! The child is a session leader (portable-pty calls `setsid`), so its pid is
//! also its process-group id and one `killpg` reaches everything it started
//! on that terminal.

use std::io::{Read, Write};

use parking_lot::Mutex;
use portable_pty::{native_pty_system, Child, CommandBuilder, MasterPty, PtySize};

use super::launch::LaunchSpec;

#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    #[error("could not open a PTY: {0}")]
    OpenPty(String),
    #[error("could not start {program}: {reason}")]
    Spawn { program: String, reason: String },
    #[error("could not set up the PTY: {0}")]
    Setup(String),
}

/// The parts of a freshly spawned child, handed to the session's threads.
pub struct SpawnedPty {
    pub process: PtyProcess,
    pub output: Box<dyn Read + Send>,
    pub child: Box<dyn Child + Send + Sync>,
}

pub struct PtyProcess {
    master: Mutex<Box<dyn MasterPty + Send>>,
    /// The master's descriptor, valid as long as `master` is held.
    master_fd: Option<std::os::fd::RawFd>,
    input: Mutex<Box<dyn Write + Send>>,
    pid: Option<u32>,
}

impl PtyProcess {
    pub fn spawn(spec: &LaunchSpec) -> Result<SpawnedPty, SpawnError> {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows: spec.rows,
                cols: spec.cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .map_err(|e| SpawnError::OpenPty(e.to_string()))?;
        let mut command = CommandBuilder::new(&spec.program);
        command.args(&spec.args);
        if let Some(cwd) = &spec.cwd {
            command.cwd(cwd);
        }
        for key in &spec.env_remove {
            command.env_remove(key);
        }
        for (key, value) in &spec.env_set {
            command.env(key, value);
        }
        let child = pair
            .slave
            .spawn_command(command)
            .map_err(|e| SpawnError::Spawn {
                program: spec.program.to_string_lossy().into_owned(),
                reason: e.to_string(),
            })?;
        // The slave end belongs to the child now; holding it would keep the
        // PTY open after the child exits and hide the end of its output.
        drop(pair.slave);
        let output = pair
            .master
            .try_clone_reader()
            .map_err(|e| SpawnError::Setup(e.to_string()))?;
        let input = pair
            .master
            .take_writer()
            .map_err(|e| SpawnError::Setup(e.to_string()))?;
        let pid = child.process_id();
        let master_fd = pair.master.as_raw_fd();
        Ok(SpawnedPty {
            process: PtyProcess {
                master_fd,
                master: Mutex::new(pair.master),
                input: Mutex::new(input),
                pid,
            },
            output,
            child,
        })
    }

    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// Output the child has written that the PTY holds for the next read.
    pub fn pending_output_bytes(&self) -> usize {
        let Some(fd) = self.master_fd else {
            return 0;
        };
        let mut pending: libc::c_int = 0;
        // SAFETY: FIONREAD writes one c_int through the pointer, which is
        // valid for the call; `fd` stays open while `self.master` is held.
        let ok = unsafe { libc::ioctl(fd, libc::FIONREAD, &mut pending) } == 0;
        if ok {
            usize::try_from(pending).unwrap_or(0)
        } else {
            0
        }
    }

    /// Writes input to the child. Blocks while the PTY's input buffer is full,
    /// so callers run it off the async runtime.
    pub fn write_input(&self, bytes: &[u8]) -> std::io::Result<()> {
        let mut input = self.input.lock();
        input.write_all(bytes)?;
        input.flush()
    }

    pub fn resize(&self, cols: u16, rows: u16) -> Result<(), String> {
        self.master
            .lock()
            .resize(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .map_err(|e| e.to_string())
    }

    /// Whether anything still runs in the child's process group: the child, or
    /// what it started there, even after the child itself has exited.
    pub fn group_alive(&self) -> bool {
        let Some(pid) = self.pid.and_then(|p| libc::pid_t::try_from(p).ok()) else {
            return false;
        };
        // SAFETY: killpg with signal 0 only checks that the group exists.
        unsafe { libc::killpg(pid, 0) == 0 }
    }

    /// Sends `signal` to the child's whole process group.
    pub fn signal_group(&self, signal: libc::c_int) -> bool {
        let Some(pid) = self.pid.and_then(|p| libc::pid_t::try_from(p).ok()) else {
            return false;
        };
        // SAFETY: killpg has no memory-safety preconditions.
        unsafe { libc::killpg(pid, signal) == 0 }
    }
}
