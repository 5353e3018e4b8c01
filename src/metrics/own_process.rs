//! The daemon's own process, from /proc/self: its resident memory and how
//! long it has run, for `GET /ptyhub/api/daemon` and `ptyhub status`.
//!
//! The age is the process's, not the image's: an in-place upgrade keeps the
//! pid and so the start time, as `ps` and systemd count it too.

use std::fs;
use std::time::Duration;

/// The daemon's resident set (`VmRSS` in /proc/self/status), in bytes.
pub fn rss_bytes() -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    vm_rss_bytes(&status)
}

/// How long this process has run: the system's uptime less the process's
/// start time (both counted from boot, so a changed wall clock does not matter).
pub fn uptime() -> Option<Duration> {
    let stat = fs::read_to_string("/proc/self/stat").ok()?;
    let system_uptime = fs::read_to_string("/proc/uptime").ok()?;
    let since_boot_s: f64 = system_uptime.split_whitespace().next()?.parse().ok()?;
    // SAFETY: sysconf has no memory-safety preconditions.
    let ticks_per_s = u64::try_from(unsafe { libc::sysconf(libc::_SC_CLK_TCK) }).ok()?;
    let started_ticks = start_ticks(&stat)?;
    let started_s = started_ticks as f64 / ticks_per_s.max(1) as f64;
    Some(Duration::from_secs_f64((since_boot_s - started_s).max(0.0)))
}

fn vm_rss_bytes(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Field 22 of `/proc/<pid>/stat`, `starttime`, in clock ticks after boot;
/// counted after the command name, which may hold spaces and parentheses.
fn start_ticks(stat: &str) -> Option<u64> {
    let (_, rest) = stat.rsplit_once(')')?;
    // `rest` starts at field 3 (state); starttime is field 22.
    rest.split_whitespace().nth(22 - 3)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vm_rss_is_read_in_kibibytes() {
        let status = "Name:\tptyhub\nVmPeak:\t  9000 kB\nVmRSS:\t    1536 kB\nThreads:\t4\n";
        assert_eq!(vm_rss_bytes(status), Some(1536 * 1024));
    }

    #[test]
    fn start_time_is_found_after_a_command_name_with_parentheses() {
        let stat = "42 (a (b) c) S 1 42 42 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 987654 1000 100";
        assert_eq!(start_ticks(stat), Some(987_654));
    }

    #[test]
    fn this_process_has_memory_and_an_age() {
        assert!(rss_bytes().is_some_and(|bytes| bytes > 0));
        assert!(uptime().is_some());
    }
}
