//! A child process on a PTY: spawn, input, resize, signals and its exit.
//!
//! The child is a session leader (portable-pty calls `setsid`), so its pid is
//! also its process-group id and one `killpg` reaches everything it started
//! on that terminal.
//!
//! portable-pty opens the PTY and starts the child; from then on the PTY is
//! one descriptor of the master this file owns, and the child one pid this
//! process waits for. Both survive an exec of the daemon (`crate::handover`):
//! a daemon that executes a newer build of itself adopts them as they are
//! (`PtyProcess::adopt`), and the child never notices.

use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use portable_pty::{native_pty_system, CommandBuilder, PtySize};
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

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

/// The parts of a child on a PTY, handed to the session's threads.
pub struct SpawnedPty {
    pub process: PtyProcess,
    /// The master's read side, for the session's reader.
    pub output: File,
    /// The master's write side, for the session's input queue.
    pub input: File,
}

pub struct PtyProcess {
    /// The PTY's master: resizes, pending-output counts, readiness, and
    /// what a handover passes on.
    master: OwnedFd,
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
        let master_fd = pair
            .master
            .as_raw_fd()
            .ok_or_else(|| SpawnError::Setup("the PTY master has no descriptor".into()))?;
        let master = duplicate(master_fd).map_err(|e| SpawnError::Setup(e.to_string()))?;
        // The duplicate keeps the PTY open; portable-pty's handles go. So
        // does its child handle: the exit is collected by pid
        // (`exited`), which an adopting daemon can do too.
        drop(pair.master);
        let pid = child.process_id();
        drop(child);
        Self::adopt(master, pid).map_err(|e| SpawnError::Setup(e.to_string()))
    }

    /// A child this process is the parent of, on the PTY whose master is
    /// `master`: one it spawned, or one an earlier image of this process
    /// spawned before it executed the present one.
    pub fn adopt(master: OwnedFd, pid: Option<u32>) -> std::io::Result<SpawnedPty> {
        // Non-blocking: the runtime reads and writes it when it is ready
        // (`pty_io.rs`, `input_queue.rs`). The flag belongs to the open
        // file, shared by every descriptor below.
        set_nonblocking(&master)?;
        let output = File::from(master.try_clone()?);
        let input = File::from(master.try_clone()?);
        Ok(SpawnedPty {
            process: PtyProcess { master, pid },
            output,
            input,
        })
    }

    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// The master's descriptor (for a handover, which keeps it open across
    /// the exec).
    pub fn master_fd(&self) -> RawFd {
        self.master.as_raw_fd()
    }

    /// Output the child has written that the PTY holds for the next read.
    pub fn pending_output_bytes(&self) -> usize {
        let mut pending: libc::c_int = 0;
        // SAFETY: FIONREAD writes one c_int through the pointer, which is
        // valid for the call; the descriptor is owned by `self`.
        let ok = unsafe { libc::ioctl(self.master.as_raw_fd(), libc::FIONREAD, &mut pending) } == 0;
        if ok {
            usize::try_from(pending).unwrap_or(0)
        } else {
            0
        }
    }

    pub fn resize(&self, cols: u16, rows: u16) -> Result<(), String> {
        let size = libc::winsize {
            ws_row: rows,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: TIOCSWINSZ reads one winsize through the pointer, valid
        // for the call; the descriptor is owned by `self`.
        let ok = unsafe { libc::ioctl(self.master.as_raw_fd(), libc::TIOCSWINSZ, &size) } == 0;
        if ok {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error().to_string())
        }
    }

    /// Returns once the child has exited, without collecting its status:
    /// the child stays a zombie until `collect_exit`, so a daemon that
    /// executes itself in between can still collect it afterwards. Waits on
    /// a pidfd, which the runtime watches like any descriptor; on a kernel
    /// without pidfds (before 5.3), on a thread.
    pub async fn exited(&self) -> std::io::Result<()> {
        let pid = self.pid_t()?;
        // SAFETY: pidfd_open takes a pid and flags and returns a new
        // descriptor (or -1), which the OwnedFd then owns alone.
        let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
        if pidfd < 0 {
            let err = std::io::Error::last_os_error();
            if err.raw_os_error() != Some(libc::ENOSYS) {
                return Err(err);
            }
            let (exited_tx, exited_rx) = tokio::sync::oneshot::channel();
            std::thread::Builder::new()
                .name(format!("pty-wait-{pid}"))
                .spawn(move || exited_tx.send(wait_for_exit(pid)))?;
            return exited_rx
                .await
                .unwrap_or_else(|_| Err(std::io::Error::other("the waiter stopped")));
        }
        let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd as RawFd) };
        // SAFETY: the OwnedFd owns its descriptor, open and the same until
        // the AsyncFd (which owns it) is dropped.
        let pidfd = unsafe { AsyncFd::register_with_interest(pidfd, Interest::READABLE) }
            .map_err(std::io::Error::from)?;
        // A pidfd is readable once its process has exited.
        let _exited = pidfd.readable().await?;
        Ok(())
    }

    /// Collects the exited child's status (after `exited`).
    pub fn collect_exit(&self) -> std::io::Result<std::process::ExitStatus> {
        use std::os::unix::process::ExitStatusExt;
        let pid = self.pid_t()?;
        loop {
            let mut status: libc::c_int = 0;
            // SAFETY: waitpid writes one c_int through the pointer.
            let reaped = unsafe { libc::waitpid(pid, &mut status, 0) };
            if reaped == pid {
                return Ok(std::process::ExitStatus::from_raw(status));
            }
            let err = std::io::Error::last_os_error();
            if err.kind() != std::io::ErrorKind::Interrupted {
                return Err(err);
            }
        }
    }

    fn pid_t(&self) -> std::io::Result<libc::pid_t> {
        self.pid
            .and_then(|pid| libc::pid_t::try_from(pid).ok())
            .ok_or_else(|| std::io::Error::other("the child has no pid"))
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

fn set_nonblocking(fd: &OwnedFd) -> std::io::Result<()> {
    // SAFETY: F_GETFL/F_SETFL on a descriptor we hold only read and set
    // its status flags.
    let flags = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) };
    if flags < 0
        || unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK) } < 0
    {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Blocks until child `pid` has exited, leaving it to be collected.
fn wait_for_exit(pid: libc::pid_t) -> std::io::Result<()> {
    loop {
        // SAFETY: waitid writes one siginfo_t through the pointer.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        let waited = unsafe {
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOWAIT,
            )
        };
        if waited == 0 {
            return Ok(());
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

/// A second descriptor of `fd`, closed on exec like every other until a
/// handover says otherwise.
fn duplicate(fd: RawFd) -> std::io::Result<OwnedFd> {
    // SAFETY: F_DUPFD_CLOEXEC on a descriptor we hold returns a new one
    // (or -1), which the OwnedFd then owns alone.
    let copy = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) };
    if copy < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(unsafe { OwnedFd::from_raw_fd(copy) })
}
