//! Looking at real processes through /proc: counting live fixture children and cleaning up.
//!
//! Counting from /proc is the independent witness next to the fake agent's own ledger: the
//! ledger says how many were started, /proc says how many are alive now.

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
