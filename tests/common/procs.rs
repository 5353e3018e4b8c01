//! Looking at real processes through /proc: counting live fixture children and cleaning up.
//!
//! Counting from /proc is the independent witness next to the fake agent's own ledger: the
//! ledger says how many were started, /proc says how many are alive now.

use std::collections::HashSet;
use std::fs;

fn cmdline(pid: u32) -> Option<String> {
    let raw = fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    Some(String::from_utf8_lossy(&raw).replace('\0', " "))
}

fn is_zombie(pid: u32) -> bool {
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return true;
    };
    // The state letter follows the parenthesised command name, which may contain spaces.
    stat.rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .is_none_or(|state| state == "Z" || state == "X")
}

fn all_pids() -> Vec<u32> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect()
}

/// True when `pid` exists and is not a zombie.
pub fn process_is_alive(pid: u32) -> bool {
    fs::metadata(format!("/proc/{pid}")).is_ok() && !is_zombie(pid)
}

/// Pids of live (non-zombie) processes whose command line contains every one of `needles`,
/// e.g. `[FAKE_AGENT, session_id]`.
pub fn live_processes_matching(needles: &[&str]) -> Vec<u32> {
    all_pids()
        .into_iter()
        .filter(|&pid| {
            cmdline(pid).is_some_and(|line| needles.iter().all(|n| line.contains(n)))
                && !is_zombie(pid)
        })
        .collect()
}

/// Pids of processes whose environment contains `NAME=value` exactly (the daemon and every
/// descendant that kept the environment it was given).
pub fn processes_with_env(entry: &str) -> Vec<u32> {
    let me = std::process::id();
    all_pids()
        .into_iter()
        .filter(|&pid| pid != me)
        .filter(|&pid| {
            fs::read(format!("/proc/{pid}/environ"))
                .is_ok_and(|env| env.split(|&b| b == 0).any(|var| var == entry.as_bytes()))
        })
        .collect()
}

/// SIGKILLs `pid`.
pub fn kill_hard(pid: u32) {
    // SAFETY: kill(2) has no memory-safety preconditions.
    unsafe {
        libc::kill(pid as libc::pid_t, libc::SIGKILL);
    }
}

/// What `pid` costs in memory, counted the way the daemon counts a session: PSS from
/// `smaps_rollup` where the kernel lets us read it, else RSS from `status`. `None` once the
/// process is gone.
pub fn memory_bytes(pid: u32) -> Option<u64> {
    let kib_field = |file: &str, field: &str| -> Option<u64> {
        let text = fs::read_to_string(format!("/proc/{pid}/{file}")).ok()?;
        let line = text.lines().find(|l| l.starts_with(field))?;
        line.split_whitespace().nth(1)?.parse::<u64>().ok()
    };
    kib_field("smaps_rollup", "Pss:")
        .or_else(|| kib_field("status", "VmRSS:"))
        .map(|kib| kib * 1024)
}

/// Live (non-zombie) children of `parent`, from /proc: an independent count of what the
/// daemon has running, next to the fake agent's ledger.
pub fn live_children(parent: u32) -> Vec<u32> {
    all_pids()
        .into_iter()
        .filter(|&pid| {
            fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
                // Fields after the parenthesised name: state, ppid, …
                stat.rsplit_once(')')
                    .and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<u32>().ok())
                    == Some(parent)
            })
        })
        .filter(|&pid| !is_zombie(pid))
        .collect()
}

/// What a process holds right now, from /proc: open descriptors, threads, resident memory
/// (and the most it ever had resident).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Footprint {
    pub fds: usize,
    pub threads: usize,
    pub rss_bytes: u64,
    pub peak_rss_bytes: u64,
}

/// The [`Footprint`] of `pid`; `None` once it is gone.
pub fn footprint(pid: u32) -> Option<Footprint> {
    let fds = fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count();
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        line.split_whitespace().nth(1)?.parse().ok()
    };
    Some(Footprint {
        fds,
        threads: field("Threads:")? as usize,
        rss_bytes: field("VmRSS:")? * 1024,
        peak_rss_bytes: field("VmHWM:")? * 1024,
    })
}

/// Live (non-zombie) members of process group `pgid`, from /proc. A session's child is its
/// group's leader, so this is everything still running on that terminal's behalf unless it
/// moved to another group.
pub fn live_group_members(pgid: u32) -> Vec<u32> {
    all_pids()
        .into_iter()
        .filter(|&pid| {
            fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
                // Fields after the parenthesised name: state, ppid, pgrp, …
                stat.rsplit_once(')')
                    .and_then(|(_, rest)| rest.split_whitespace().nth(2)?.parse::<u32>().ok())
                    == Some(pgid)
            })
        })
        .filter(|&pid| !is_zombie(pid))
        .collect()
}

/// Whether `pid` still holds an open TCP socket whose peer is port `peer_port` on this host:
/// the connection a client on that port opened and that this process has not closed. Read from
/// `/proc/<pid>/fd` (socket inodes) and `/proc/net/tcp{,6}`.
pub fn holds_tcp_connection_to_port(pid: u32, peer_port: u16) -> bool {
    let Ok(fds) = fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    let inodes: std::collections::HashSet<u64> = fds
        .filter_map(|fd| fs::read_link(fd.ok()?.path()).ok())
        .filter_map(|target| {
            let target = target.to_str()?.to_owned();
            target
                .strip_prefix("socket:[")?
                .strip_suffix(']')?
                .parse()
                .ok()
        })
        .collect();
    ["/proc/net/tcp", "/proc/net/tcp6"].iter().any(|table| {
        fs::read_to_string(table).is_ok_and(|text| {
            text.lines().skip(1).any(|line| {
                // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
                let fields: Vec<&str> = line.split_whitespace().collect();
                let remote_port = fields
                    .get(2)
                    .and_then(|address| address.rsplit(':').next())
                    .and_then(|port| u16::from_str_radix(port, 16).ok());
                let inode = fields.get(9).and_then(|inode| inode.parse::<u64>().ok());
                remote_port == Some(peer_port) && inode.is_some_and(|i| inodes.contains(&i))
            })
        })
    })
}

/// Live fake agents that are children of this daemon, from /proc.
pub fn live_agents_of(daemon: &super::Daemon) -> Vec<u32> {
    let agents: HashSet<u32> = live_processes_matching(&[super::FAKE_AGENT])
        .into_iter()
        .collect();
    live_children(daemon.pid().expect("the daemon runs"))
        .into_iter()
        .filter(|pid| agents.contains(pid))
        .collect()
}
