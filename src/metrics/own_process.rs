//! The daemon's own process, from /proc/self: for `/metrics`, in the names
//! every Prometheus client library uses (`process_resident_memory_bytes`,
//! `process_cpu_seconds_total`, …) so the usual dashboards and alerts work
//! on ptyhub as they are, and for `GET /ptyhub/api/daemon` and `ptyhub
//! status` (its memory and age).
//!
//! The start time is the process's: an in-place upgrade keeps the pid, so it
//! keeps the start time too — the uptime of the service, not of the image,
//! as `ps` and systemd count it.

use std::time::Duration;

/// What /proc/self says of this process; a figure the kernel would not give
/// is left out rather than reported as zero.
#[derive(Debug, Default)]
pub struct OwnProcess {
    pub resident_memory_bytes: Option<u64>,
    pub virtual_memory_bytes: Option<u64>,
    pub cpu_seconds: Option<f64>,
    pub start_time_seconds: Option<f64>,
    pub open_fds: Option<u64>,
    pub max_fds: Option<u64>,
    pub threads: Option<u64>,
}

/// The daemon's resident set, in bytes.
pub fn rss_bytes() -> Option<u64> {
    OwnProcess::read().resident_memory_bytes
}

/// How long this process has run: the system's uptime less the process's
/// start, both counted from boot, so a changed wall clock does not matter.
pub fn uptime() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let started_ticks = stat_fields(&stat).get(19)?.parse::<u64>().ok()?;
    let system_uptime = std::fs::read_to_string("/proc/uptime").ok()?;
    let since_boot: f64 = system_uptime.split_whitespace().next()?.parse().ok()?;
    let started = started_ticks as f64 / clock_ticks_per_second()?;
    Some(Duration::from_secs_f64((since_boot - started).max(0.0)))
}

/// The fields of a `/proc/<pid>/stat` after the command name (which may hold
/// spaces and ')'), numbered from the state (field 3 of proc(5)) as 0.
fn stat_fields(stat: &str) -> Vec<&str> {
    stat.rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default()
}

impl OwnProcess {
    pub fn read() -> OwnProcess {
        let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
        let fields = stat_fields(&stat);
        let field = |index: usize| fields.get(index).and_then(|f| f.parse::<u64>().ok());
        let ticks = clock_ticks_per_second();
        let cpu_seconds = match (field(11), field(12), ticks) {
            (Some(user), Some(system), Some(ticks)) => Some((user + system) as f64 / ticks),
            _ => None,
        };
        let start_time_seconds = match (field(19), boot_time_seconds(), ticks) {
            (Some(since_boot), Some(boot), Some(ticks)) => Some(boot + since_boot as f64 / ticks),
            _ => None,
        };
        OwnProcess {
            resident_memory_bytes: field(21).map(|pages| pages * page_bytes()),
            virtual_memory_bytes: field(20),
            cpu_seconds,
            start_time_seconds,
            open_fds: std::fs::read_dir("/proc/self/fd")
                .ok()
                .map(|entries| entries.count() as u64),
            max_fds: max_open_files(),
            threads: field(17),
        }
    }
}

fn clock_ticks_per_second() -> Option<f64> {
    // SAFETY: sysconf has no memory-safety preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    (ticks > 0).then_some(ticks as f64)
}

fn page_bytes() -> u64 {
    // SAFETY: sysconf has no memory-safety preconditions.
    let bytes = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    u64::try_from(bytes).unwrap_or(4096)
}

/// When the machine booted, in seconds since the epoch (`btime` of /proc/stat).
fn boot_time_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    stat.lines()
        .find_map(|line| line.strip_prefix("btime "))
        .and_then(|value| value.trim().parse().ok())
}

/// The soft limit on open descriptors.
fn max_open_files() -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one rlimit through the pointer.
    let ok = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0;
    (ok && limit.rlim_cur != libc::RLIM_INFINITY).then_some(limit.rlim_cur)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_read_as_it_is() {
        let own = OwnProcess::read();
        let threads_now = std::fs::read_dir("/proc/self/task").unwrap().count() as u64;
        assert!(own.threads.is_some_and(|t| t >= 1 && t <= threads_now + 8));
        assert!(own.resident_memory_bytes.is_some_and(|b| b > 1024 * 1024));
        assert!(own.virtual_memory_bytes >= own.resident_memory_bytes);
        assert!(own.open_fds.is_some_and(|n| n >= 3));
        assert!(own.max_fds.is_some_and(|n| n >= own.open_fds.unwrap()));
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        let started = own.start_time_seconds.unwrap();
        assert!(
            started <= now + 1.0 && started > now - 24.0 * 3600.0,
            "{started} vs {now}"
        );
        assert!(own.cpu_seconds.is_some_and(|s| s >= 0.0));
        assert!(rss_bytes().is_some_and(|bytes| bytes > 0));
        assert!(uptime().is_some_and(|age| age < Duration::from_secs(24 * 3600)));
    }

    #[test]
    fn the_start_time_is_found_after_a_command_name_with_parentheses() {
        let stat = "42 (a (b) c) S 1 42 42 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 987654 1000 100";
        assert_eq!(stat_fields(stat).get(19), Some(&"987654"));
    }
}
