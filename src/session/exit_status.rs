//! The exit code a session reports, in freshell's terms: what the child
//! returned; 0 for a child ended by a kill someone asked for (freshell
//! reports a killed terminal as exit 0); and 128 + the signal for a child a
//! signal ended by itself, as a shell reports it (freshell would say 0, which
//! hides a crash).

use portable_pty::ExitStatus;

/// The code to report for `status`; `killed_on_request` when the daemon
/// was asked to end the session.
pub fn reported_exit_code(status: &ExitStatus, killed_on_request: bool) -> i32 {
    if killed_on_request {
        return 0;
    }
    match status.signal() {
        Some(name) => signal_number(name).map_or(1, |signal| 128 + signal),
        None => i32::try_from(status.exit_code()).unwrap_or(-1),
    }
}

/// The number of the signal portable-pty names by its description
/// (`strsignal`'s "Terminated", "Killed"), by asking `strsignal` in turn.
fn signal_number(name: &str) -> Option<i32> {
    (1..=64).find(|&signal| {
        // SAFETY: strsignal returns a pointer to a string owned by libc,
        // valid until the next call on this thread; it is copied at once.
        let described = unsafe { libc::strsignal(signal) };
        !described.is_null()
            && unsafe { std::ffi::CStr::from_ptr(described) }.to_string_lossy() == name
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signalled(signal: i32) -> ExitStatus {
        use std::os::unix::process::ExitStatusExt;
        std::process::ExitStatus::from_raw(signal).into()
    }

    #[test]
    fn a_signal_is_reported_as_a_shell_reports_it() {
        assert_eq!(reported_exit_code(&signalled(libc::SIGTERM), false), 143);
        assert_eq!(reported_exit_code(&signalled(libc::SIGKILL), false), 137);
        assert_eq!(reported_exit_code(&signalled(libc::SIGSEGV), false), 139);
    }

    #[test]
    fn a_requested_kill_is_exit_0_and_a_plain_exit_its_code() {
        assert_eq!(reported_exit_code(&signalled(libc::SIGHUP), true), 0);
        assert_eq!(reported_exit_code(&ExitStatus::with_exit_code(3), true), 0);
        assert_eq!(reported_exit_code(&ExitStatus::with_exit_code(3), false), 3);
    }
}
