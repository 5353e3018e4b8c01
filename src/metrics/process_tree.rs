//! Process trees and their memory, read from /proc.
//!
//! A session's cost is its child's whole tree: an agent CLI starts
//! language servers, shells and tools of its own. One scan of /proc gives
//! every process's parent; each session's tree is then a walk from its
//! child's pid. Resident memory is RSS from `statm`, and PSS from
//! `smaps_rollup` where the kernel lets us read it (shared pages counted
//! once across processes, the fairer figure for many similar agents).

use std::collections::HashMap;
use std::fs;

/// One scan of the processes on this machine.
#[derive(Debug, Default)]
pub struct ProcessTable {
    children: HashMap<u32, Vec<u32>>,
    page_bytes: u64,
}

/// What one process tree costs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TreeUsage {
    pub processes: u64,
    pub rss_bytes: u64,
    /// `None` when some process's PSS could not be read.
    pub pss_bytes: Option<u64>,
}

/// The parent pid from `/proc/<pid>/stat` (the field after the command
/// name, which may itself contain spaces and parentheses).
fn parent_of(stat: &str) -> Option<u32> {
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_whitespace().nth(1)?.parse().ok()
}

fn page_bytes() -> u64 {
    // SAFETY: sysconf has no memory-safety preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    u64::try_from(size).unwrap_or(4096)
}

fn rss_bytes(pid: u32, page_bytes: u64) -> u64 {
    fs::read_to_string(format!("/proc/{pid}/statm"))
        .ok()
        .and_then(|statm| statm.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * page_bytes)
}

fn pss_bytes(pid: u32) -> Option<u64> {
    let rollup = fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    let line = rollup.lines().find(|l| l.starts_with("Pss:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

impl ProcessTable {
    pub fn scan() -> ProcessTable {
        let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
        if let Ok(entries) = fs::read_dir("/proc") {
            for entry in entries.flatten() {
                let Some(pid) = entry
                    .file_name()
                    .to_str()
                    .and_then(|n| n.parse::<u32>().ok())
                else {
                    continue;
                };
                let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
                    continue;
                };
                if let Some(parent) = parent_of(&stat) {
                    children.entry(parent).or_default().push(pid);
                }
            }
        }
        ProcessTable {
            children,
            page_bytes: page_bytes(),
        }
    }

    /// `root` and all its descendants that were alive at the scan.
    pub fn tree(&self, root: u32) -> Vec<u32> {
        let mut tree = vec![root];
        let mut next = 0;
        while next < tree.len() {
            if let Some(kids) = self.children.get(&tree[next]) {
                tree.extend(kids.iter().copied());
            }
            next += 1;
        }
        tree
    }

    /// Process count and memory of `root`'s tree, read now.
    pub fn usage(&self, root: u32) -> TreeUsage {
        let mut usage = TreeUsage {
            pss_bytes: Some(0),
            ..TreeUsage::default()
        };
        for pid in self.tree(root) {
            if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
                continue;
            }
            usage.processes += 1;
            usage.rss_bytes += rss_bytes(pid, self.page_bytes);
            usage.pss_bytes = match (usage.pss_bytes, pss_bytes(pid)) {
                (Some(total), Some(pss)) => Some(total + pss),
                _ => None,
            };
        }
        usage
    }
}

/// `MemAvailable` from /proc/meminfo, in bytes.
pub fn mem_available_bytes() -> Option<u64> {
    let meminfo = fs::read_to_string("/proc/meminfo").ok()?;
    let line = meminfo.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parent_is_read_past_a_command_name_with_spaces_and_parens() {
        assert_eq!(parent_of("42 (my (odd) name) S 7 42 42 0"), Some(7));
        assert_eq!(parent_of("garbage"), None);
    }

    #[test]
    fn a_child_process_is_in_our_tree_and_costs_memory() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .expect("spawn sleep");
        let table = ProcessTable::scan();
        let me = std::process::id();
        assert!(table.tree(me).contains(&child.id()));
        let usage = table.usage(child.id());
        assert_eq!(usage.processes, 1);
        assert!(usage.rss_bytes > 0);
        let _ = child.kill();
        let _ = child.wait();
    }
}
