//! Counters of what the registry decided, for metrics: what was spawned,
//! what joined a running session instead, what was refused and reaped.

use std::sync::atomic::{AtomicU64, Ordering};

use dashmap::DashMap;

/// Monotonic counts by a label (a provider, or a limit).
#[derive(Debug, Default)]
pub struct LabeledCounter {
    counts: DashMap<String, AtomicU64>,
}

impl LabeledCounter {
    pub fn add(&self, label: &str, by: u64) {
        if let Some(count) = self.counts.get(label) {
            count.fetch_add(by, Ordering::Relaxed);
            return;
        }
        self.counts
            .entry(label.to_owned())
            .or_default()
            .fetch_add(by, Ordering::Relaxed);
    }

    pub fn get(&self, label: &str) -> u64 {
        self.counts
            .get(label)
            .map_or(0, |c| c.load(Ordering::Relaxed))
    }

    /// Every label with its count, sorted by label.
    pub fn snapshot(&self) -> Vec<(String, u64)> {
        let mut all: Vec<(String, u64)> = self
            .counts
            .iter()
            .map(|e| (e.key().clone(), e.value().load(Ordering::Relaxed)))
            .collect();
        all.sort();
        all
    }
}

#[derive(Debug, Default)]
pub struct Counters {
    /// Processes started, by provider.
    pub spawned: LabeledCounter,
    /// Creates answered with a running terminal instead of a new process.
    pub deduped: LabeledCounter,
    /// Creates refused, by limit.
    pub refused: LabeledCounter,
    /// Sessions ended by the idle reaper, by provider.
    pub reaped: LabeledCounter,
    /// Viewer resyncs and skipped output bytes of sessions that have ended
    /// (running sessions count their own).
    retired_viewer_resyncs: AtomicU64,
    retired_viewer_skipped_bytes: AtomicU64,
}

impl Counters {
    pub fn retire_viewer_drops(&self, resyncs: u64, skipped_bytes: u64) {
        self.retired_viewer_resyncs
            .fetch_add(resyncs, Ordering::Relaxed);
        self.retired_viewer_skipped_bytes
            .fetch_add(skipped_bytes, Ordering::Relaxed);
    }

    /// `(resyncs, skipped bytes)` of sessions that have ended.
    pub fn retired_viewer_drops(&self) -> (u64, u64) {
        (
            self.retired_viewer_resyncs.load(Ordering::Relaxed),
            self.retired_viewer_skipped_bytes.load(Ordering::Relaxed),
        )
    }
}

/// The counters as one image of the daemon hands them to the next
/// (`crate::handover`): metrics count on across an upgrade.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct CountersHandover {
    pub spawned: Vec<(String, u64)>,
    pub deduped: Vec<(String, u64)>,
    pub refused: Vec<(String, u64)>,
    pub reaped: Vec<(String, u64)>,
    pub retired_viewer_resyncs: u64,
    pub retired_viewer_skipped_bytes: u64,
}

impl Counters {
    pub fn hand_over(&self) -> CountersHandover {
        CountersHandover {
            spawned: self.spawned.snapshot(),
            deduped: self.deduped.snapshot(),
            refused: self.refused.snapshot(),
            reaped: self.reaped.snapshot(),
            retired_viewer_resyncs: self.retired_viewer_resyncs.load(Ordering::Relaxed),
            retired_viewer_skipped_bytes: self.retired_viewer_skipped_bytes.load(Ordering::Relaxed),
        }
    }

    /// Counts on from what an earlier image counted.
    pub fn take_over(&self, handed: CountersHandover) {
        for (counter, counts) in [
            (&self.spawned, handed.spawned),
            (&self.deduped, handed.deduped),
            (&self.refused, handed.refused),
            (&self.reaped, handed.reaped),
        ] {
            for (label, count) in counts {
                counter.add(&label, count);
            }
        }
        self.retire_viewer_drops(
            handed.retired_viewer_resyncs,
            handed.retired_viewer_skipped_bytes,
        );
    }
}
