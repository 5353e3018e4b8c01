//! Periodic accounting: what every session's process tree costs, and how
//! close the daemon is to its limits (warned past `warn_ratio`).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use super::Registry;
use crate::metrics::process_tree::{ProcessTable, TreeUsage};

/// The latest measurement of every running session and of the limits.
#[derive(Clone, Debug, Default)]
pub struct Accounting {
    /// `(terminalId, usage)` of running sessions.
    pub sessions: Vec<(String, TreeUsage)>,
    pub memory_used_bytes: u64,
    pub memory_budget_bytes: u64,
    /// `(limit, used / allowed)` for each limit in force.
    pub limit_ratios: Vec<(String, f64)>,
}

impl Accounting {
    pub fn usage_of(&self, terminal_id: &str) -> Option<TreeUsage> {
        self.sessions
            .iter()
            .find(|(id, _)| id == terminal_id)
            .map(|(_, usage)| *usage)
    }
}

#[derive(Default)]
pub struct AccountingState {
    latest: Mutex<Accounting>,
    /// Limits currently past the warning threshold (warned once per crossing).
    warned: Mutex<HashSet<String>>,
}

impl Registry {
    pub fn accounting(&self) -> Accounting {
        self.accounting.latest.lock().clone()
    }

    /// Measures now and stores the result.
    pub fn account(&self) -> Accounting {
        let table = ProcessTable::scan();
        let sessions: Vec<(String, TreeUsage)> = self
            .list()
            .into_iter()
            .filter(|s| s.is_running())
            .filter_map(|s| Some((s.terminal_id().to_owned(), table.usage(s.pid()?))))
            .collect();
        let memory_used_bytes = sessions
            .iter()
            .map(|(_, u)| u.pss_bytes.unwrap_or(u.rss_bytes))
            .sum();
        let memory_budget_bytes = self.memory_budget_bytes(memory_used_bytes);
        let limits = &self.config.limits;
        let running = sessions.len();
        let mut limit_ratios = vec![
            (
                "max_sessions".to_owned(),
                ratio(running as u64, limits.max_sessions as u64),
            ),
            (
                "memory_budget".to_owned(),
                ratio(memory_used_bytes, memory_budget_bytes),
            ),
        ];
        for (mode, max) in &limits.max_sessions_per_provider {
            let of_mode = self
                .list()
                .iter()
                .filter(|s| s.is_running() && s.info().mode == *mode)
                .count();
            limit_ratios.push((
                format!("max_sessions_per_provider.{mode}"),
                ratio(of_mode as u64, *max as u64),
            ));
        }
        let accounting = Accounting {
            sessions,
            memory_used_bytes,
            memory_budget_bytes,
            limit_ratios,
        };
        self.warn_near_limits(&accounting);
        *self.accounting.latest.lock() = accounting.clone();
        accounting
    }

    fn warn_near_limits(&self, accounting: &Accounting) {
        let threshold = self.config.limits.warn_ratio;
        let mut warned = self.accounting.warned.lock();
        for (limit, used) in &accounting.limit_ratios {
            if *used >= threshold {
                if warned.insert(limit.clone()) {
                    tracing::warn!(
                        limit,
                        used_percent = (used * 100.0).round(),
                        "ptyhub is past {}% of a limit; new sessions will be refused at 100%",
                        (threshold * 100.0).round()
                    );
                }
            } else {
                warned.remove(limit);
            }
        }
    }

    /// Limits past the warning threshold, as of the last accounting.
    pub fn limits_warned(&self) -> HashSet<String> {
        self.accounting.warned.lock().clone()
    }

    /// Measures every `accounting_interval_ms` from now on.
    pub fn start_accounting(self: &Arc<Self>) {
        let interval = Duration::from_millis(self.config.limits.accounting_interval_ms.max(100));
        self.every(interval, |registry| {
            registry.account();
        });
    }
}

fn ratio(used: u64, allowed: u64) -> f64 {
    if allowed == 0 {
        0.0
    } else {
        used as f64 / allowed as f64
    }
}
