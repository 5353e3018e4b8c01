//! Admission: whether one more process may be spawned.
//!
//! Limits are counted with the spawns still under way, under one lock, so
//! two creates can never both take the last place. Memory is measured from
//! /proc at the moment of the decision: the trees of all running sessions,
//! plus what a new session of that provider is expected to cost (the mean
//! of its running sessions).

use std::sync::atomic::{AtomicUsize, Ordering};

use parking_lot::Mutex;
use tokio::sync::{Semaphore, SemaphorePermit};

use super::Registry;
use crate::config::LimitsConfig;
use crate::metrics::process_tree::{mem_available_bytes, ProcessTable};
use crate::session::now_ms;

const MIB: u64 = 1024 * 1024;
/// A session younger than this may still be growing (an agent loading).
const WARM_UP_MS: u64 = 30_000;

pub struct Admission {
    decide: Mutex<()>,
    spawns: Semaphore,
    /// Spawns admitted and not yet registered, by provider.
    spawning: Mutex<Vec<String>>,
    spawning_total: AtomicUsize,
}

/// A place taken by a spawn in progress; given back when dropped.
pub struct Reservation<'a> {
    admission: &'a Admission,
    mode: String,
}

impl Reservation<'_> {
    /// Turns the place into a running session: `register` runs under the
    /// admission lock, so no decision sees the session twice (as running
    /// and as spawning) or not at all.
    pub fn complete(self, register: impl FnOnce()) {
        let _deciding = self.admission.decide.lock();
        register();
        drop(self);
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        let mut spawning = self.admission.spawning.lock();
        if let Some(index) = spawning.iter().position(|m| *m == self.mode) {
            spawning.swap_remove(index);
        }
        self.admission.spawning_total.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A create refused by a limit.
#[derive(Debug)]
pub struct Refusal {
    /// Which limit: `max_sessions`, `max_sessions_per_provider` or `memory_budget`.
    pub limit: &'static str,
    /// For the user: the limit, the current figure and what to do.
    pub message: String,
}

/// How much of the memory budget is used, as of a measurement.
#[derive(Clone, Copy, Debug, Default)]
pub struct MemoryPicture {
    pub used_bytes: u64,
    pub budget_bytes: u64,
}

impl Admission {
    pub fn new(limits: &LimitsConfig) -> Admission {
        Admission {
            decide: Mutex::new(()),
            spawns: Semaphore::new(limits.max_concurrent_spawns.max(1)),
            spawning: Mutex::new(Vec::new()),
            spawning_total: AtomicUsize::new(0),
        }
    }

    /// Waits for a free spawn slot (the gate on concurrent spawns).
    pub async fn spawn_slot(&self) -> Option<SemaphorePermit<'_>> {
        self.spawns.acquire().await.ok()
    }
}

fn mib(bytes: u64) -> u64 {
    bytes.div_ceil(MIB)
}

impl Registry {
    /// The memory budget for all session trees together, given what they
    /// use now.
    pub fn memory_budget_bytes(&self, used_bytes: u64) -> u64 {
        let limits = &self.config.limits;
        if limits.memory_budget_mib > 0 {
            return limits.memory_budget_mib * MIB;
        }
        let available = mem_available_bytes().unwrap_or(0);
        ((available + used_bytes) as f64 * limits.memory_budget_share.clamp(0.0, 1.0)) as u64
    }

    /// Measures every running session's tree now: `(mode, bytes, age_ms)`.
    pub fn measure_memory(&self, table: &ProcessTable) -> (MemoryPicture, Vec<(String, u64, u64)>) {
        let now = now_ms();
        let per_session: Vec<(String, u64, u64)> = self
            .list()
            .into_iter()
            .filter(|s| s.is_running())
            .filter_map(|s| {
                let usage = table.usage(s.pid()?);
                let age_ms = now.saturating_sub(s.info().created_at_ms);
                Some((
                    s.info().mode.clone(),
                    usage.pss_bytes.unwrap_or(usage.rss_bytes),
                    age_ms,
                ))
            })
            .collect();
        let used_bytes = per_session.iter().map(|(_, b, _)| b).sum();
        let picture = MemoryPicture {
            used_bytes,
            budget_bytes: self.memory_budget_bytes(used_bytes),
        };
        (picture, per_session)
    }

    /// Takes a place for one more `mode` session, or says which limit
    /// forbids it, with the figures and what to do.
    pub fn reserve_spawn(&self, mode: &str) -> Result<Reservation<'_>, Refusal> {
        let admission = &self.admission;
        let _deciding = admission.decide.lock();
        let limits = &self.config.limits;
        let spawning = admission.spawning_total.load(Ordering::SeqCst);
        let running = self.running_count() + spawning;
        if running >= limits.max_sessions {
            return Err(Refusal { limit: "max_sessions", message: format!(
                "Session limit reached: {running} of {} sessions are running ([limits] max_sessions). \
                 Close sessions you no longer need (ptyhub ls, ptyhub kill <id>), or raise [limits] max_sessions in the config.",
                limits.max_sessions
            )});
        }
        if let Some(&max) = limits.max_sessions_per_provider.get(mode) {
            let of_mode = self
                .list()
                .iter()
                .filter(|s| s.is_running() && s.info().mode == mode)
                .count()
                + admission
                    .spawning
                    .lock()
                    .iter()
                    .filter(|m| *m == mode)
                    .count();
            if of_mode >= max {
                return Err(Refusal { limit: "max_sessions_per_provider", message: format!(
                    "{mode} session limit reached: {of_mode} of {max} {mode} sessions are running \
                     ([limits] max_sessions_per_provider.{mode}). Close {mode} sessions you no longer need, \
                     or raise the limit in the config."
                )});
            }
        }
        let (memory, per_session) = self.measure_memory(&ProcessTable::scan());
        // What one session of each mode may grow to: the largest tree of
        // that mode now. An agent starts small and grows, so a session still
        // warming up is counted at least that much; otherwise creates that
        // arrive faster than agents grow would all fit.
        let typical = |of: &str| {
            per_session
                .iter()
                .filter(|(m, _, _)| m == of)
                .map(|(_, bytes, _)| *bytes)
                .max()
                .unwrap_or(0)
        };
        let expected = typical(mode);
        let committed: u64 = per_session
            .iter()
            .map(|(m, bytes, age_ms)| {
                if *age_ms < WARM_UP_MS {
                    (*bytes).max(typical(m))
                } else {
                    *bytes
                }
            })
            .sum();
        let projected = committed + expected * (spawning as u64 + 1);
        if projected > memory.budget_bytes {
            let setting = if limits.memory_budget_mib > 0 {
                "[limits] memory_budget_mib".to_owned()
            } else {
                format!(
                    "[limits] memory_budget_share = {} of available memory",
                    limits.memory_budget_share
                )
            };
            return Err(Refusal { limit: "memory_budget", message: format!(
                "Memory budget reached: sessions use {} MiB of a {} MiB budget ({setting}), and a new {mode} \
                 session is expected to need about {} MiB. Close sessions you no longer need \
                 (ptyhub ls, ptyhub kill <id>), or raise the budget in the config.",
                mib(committed.max(memory.used_bytes)),
                mib(memory.budget_bytes),
                mib(expected)
            )});
        }
        admission.spawning.lock().push(mode.to_owned());
        admission.spawning_total.fetch_add(1, Ordering::SeqCst);
        Ok(Reservation {
            admission,
            mode: mode.to_owned(),
        })
    }
}
