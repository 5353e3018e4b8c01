//! `GET /metrics`: the registry's state in Prometheus text format.
//!
//! Built fresh at each scrape from the registry and its last accounting:
//! nothing here is on the output path.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry as Metrics;

use super::own_process::OwnProcess;
use crate::auth_failures::AuthFailures;
use crate::build_info;
use crate::registry::{LabeledCounter, Registry};
use crate::session::{now_ms, Phase, TRACKED_MODES};

type Labels = Vec<(String, String)>;

/// The limits a create can be refused by (`Refusal::limit`).
const REFUSING_LIMITS: &[&str] = &["max_sessions", "max_sessions_per_provider", "memory_budget"];

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn gauge_family(metrics: &mut Metrics, name: &str, help: &str) -> Family<Labels, Gauge> {
    let family = Family::<Labels, Gauge>::default();
    metrics.register(name, help, family.clone());
    family
}

fn float_family(
    metrics: &mut Metrics,
    name: &str,
    help: &str,
) -> Family<Labels, Gauge<f64, AtomicU64>> {
    let family = Family::<Labels, Gauge<f64, AtomicU64>>::default();
    metrics.register(name, help, family.clone());
    family
}

/// A counter family with a series for every `known` label (zero until
/// counted), so dashboards see it from the first scrape.
fn counter_family(
    metrics: &mut Metrics,
    name: &str,
    help: &str,
    (label, known): (&str, &[&str]),
    source: &LabeledCounter,
) {
    let family = Family::<Labels, Counter>::default();
    metrics.register(name, help, family.clone());
    for value in known {
        family.get_or_create(&labels(&[(label, value)])).inc_by(0);
    }
    for (value, count) in source.snapshot() {
        family
            .get_or_create(&labels(&[(label, &value)]))
            .inc_by(count);
    }
}

fn gauge(metrics: &mut Metrics, name: &str, help: &str, value: i64) {
    let gauge = Gauge::<i64>::default();
    gauge.set(value);
    metrics.register(name, help, gauge);
}

fn as_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// Per-provider sums over running sessions.
#[derive(Default)]
struct ProviderFigures {
    sessions: i64,
    viewers: i64,
    processes: i64,
    rss_bytes: i64,
    pss_bytes: i64,
    detached: i64,
    without_session_ref: i64,
    /// Tracked agents working on a turn, and waiting for their user.
    busy: i64,
    waiting: i64,
}

pub fn render(registry: &Registry, auth_failures: &AuthFailures) -> String {
    let mut metrics = Metrics::default();
    let accounting = registry.accounting();
    let now = now_ms();

    let mut by_provider: BTreeMap<String, ProviderFigures> = BTreeMap::new();
    for mode in registry.providers().modes() {
        by_provider.entry(mode.to_owned()).or_default();
    }
    let mut exited = 0;
    let mut detached_seconds_sum = 0.0;
    let mut detached_seconds_max = 0.0_f64;
    let session_memory = gauge_family(
        &mut metrics,
        "ptyhub_session_memory_bytes",
        "Memory of one running session's process tree (rss; pss where readable)",
    );
    for session in registry.list() {
        if !session.is_running() {
            exited += 1;
            continue;
        }
        let info = session.info();
        let figures = by_provider.entry(info.mode.clone()).or_default();
        figures.sessions += 1;
        figures.viewers += session.viewer_count() as i64;
        if session.session_ref().is_none() {
            figures.without_session_ref += 1;
        }
        match session.activity().map(|a| a.phase) {
            Some(Phase::Busy) => figures.busy += 1,
            Some(Phase::Idle) => figures.waiting += 1,
            None => {}
        }
        if let Some(since) = session.detached_since_ms() {
            figures.detached += 1;
            let seconds = now.saturating_sub(since) as f64 / 1000.0;
            detached_seconds_sum += seconds;
            detached_seconds_max = detached_seconds_max.max(seconds);
        }
        if let Some(usage) = accounting.usage_of(session.terminal_id()) {
            figures.processes += as_i64(usage.processes);
            figures.rss_bytes += as_i64(usage.rss_bytes);
            figures.pss_bytes += as_i64(usage.pss_bytes.unwrap_or(usage.rss_bytes));
            let id = session.terminal_id();
            session_memory
                .get_or_create(&labels(&[
                    ("terminal_id", id),
                    ("provider", &info.mode),
                    ("kind", "rss"),
                ]))
                .set(as_i64(usage.rss_bytes));
            if let Some(pss) = usage.pss_bytes {
                session_memory
                    .get_or_create(&labels(&[
                        ("terminal_id", id),
                        ("provider", &info.mode),
                        ("kind", "pss"),
                    ]))
                    .set(as_i64(pss));
            }
        }
    }

    let sessions = gauge_family(
        &mut metrics,
        "ptyhub_sessions",
        "Sessions by provider and status",
    );
    let viewers = gauge_family(
        &mut metrics,
        "ptyhub_viewers",
        "Viewers attached to running sessions",
    );
    let processes = gauge_family(
        &mut metrics,
        "ptyhub_processes",
        "Processes in running sessions' trees",
    );
    let memory = gauge_family(
        &mut metrics,
        "ptyhub_memory_bytes",
        "Memory of running sessions' trees",
    );
    let detached = gauge_family(
        &mut metrics,
        "ptyhub_detached_sessions",
        "Running sessions nobody watches",
    );
    let unbound = gauge_family(
        &mut metrics,
        "ptyhub_sessions_without_session_ref",
        "Running sessions with no provider session id (not resumable, not deduped)",
    );
    let agents = gauge_family(
        &mut metrics,
        "ptyhub_agents",
        "Agents whose turns are tracked, by state: busy (working on a turn) or waiting (for their user)",
    );
    for (mode, figures) in &by_provider {
        let provider = labels(&[("provider", mode)]);
        let mut running = provider.clone();
        running.push(("status".into(), "running".into()));
        sessions.get_or_create(&running).set(figures.sessions);
        viewers.get_or_create(&provider).set(figures.viewers);
        processes.get_or_create(&provider).set(figures.processes);
        let mut rss = provider.clone();
        rss.push(("kind".into(), "rss".into()));
        memory.get_or_create(&rss).set(figures.rss_bytes);
        let mut pss = provider.clone();
        pss.push(("kind".into(), "pss".into()));
        memory.get_or_create(&pss).set(figures.pss_bytes);
        detached.get_or_create(&provider).set(figures.detached);
        unbound
            .get_or_create(&provider)
            .set(figures.without_session_ref);
        if TRACKED_MODES.contains(&mode.as_str()) {
            for (state, count) in [("busy", figures.busy), ("waiting", figures.waiting)] {
                let mut by_state = provider.clone();
                by_state.push(("state".into(), state.into()));
                agents.get_or_create(&by_state).set(count);
            }
        }
    }
    sessions
        .get_or_create(&labels(&[("provider", "all"), ("status", "exited")]))
        .set(exited);
    sessions
        .get_or_create(&labels(&[("provider", "all"), ("status", "resumable")]))
        .set(registry.dormant().len() as i64);

    let detached_seconds = float_family(
        &mut metrics,
        "ptyhub_detached_seconds",
        "How long running sessions have been without a viewer (sum and max)",
    );
    detached_seconds
        .get_or_create(&labels(&[("stat", "sum")]))
        .set(detached_seconds_sum);
    detached_seconds
        .get_or_create(&labels(&[("stat", "max")]))
        .set(detached_seconds_max);

    let counters = &registry.counters;
    let modes: Vec<&str> = registry.providers().modes().collect();
    let by_provider = ("provider", modes.as_slice());
    let by_limit = ("limit", REFUSING_LIMITS);
    counter_family(
        &mut metrics,
        "ptyhub_processes_spawned",
        "Processes started",
        by_provider,
        &counters.spawned,
    );
    counter_family(
        &mut metrics,
        "ptyhub_creates_deduped",
        "Creates answered with a running session instead of a new process",
        by_provider,
        &counters.deduped,
    );
    counter_family(
        &mut metrics,
        "ptyhub_auth_failures",
        "Tokens refused (wrong, not missing), by where they were presented",
        ("route", crate::auth_failures::ROUTES),
        &auth_failures.total,
    );
    counter_family(
        &mut metrics,
        "ptyhub_creates_refused",
        "Creates refused by a limit",
        by_limit,
        &counters.refused,
    );
    counter_family(
        &mut metrics,
        "ptyhub_sessions_reaped",
        "Idle detached sessions ended",
        by_provider,
        &counters.reaped,
    );
    let (mut resync_count, mut skipped_bytes) = counters.retired_viewer_drops();
    for session in registry.list().iter().filter(|s| s.is_running()) {
        let (resyncs, skipped) = session.viewer_drops();
        resync_count += resyncs;
        skipped_bytes += skipped;
    }
    let skipped = Counter::<u64>::default();
    skipped.inc_by(skipped_bytes);
    metrics.register(
        "ptyhub_viewer_skipped_bytes",
        "Output bytes slow viewers skipped (replaced by a screen repaint)",
        skipped,
    );
    let resyncs = Counter::<u64>::default();
    resyncs.inc_by(resync_count);
    metrics.register(
        "ptyhub_viewer_resyncs",
        "Times a slow viewer was resynced with the current screen",
        resyncs,
    );

    gauge(
        &mut metrics,
        "ptyhub_memory_used_bytes",
        "Memory of all session trees together (pss where readable)",
        as_i64(accounting.memory_used_bytes),
    );
    gauge(
        &mut metrics,
        "ptyhub_memory_budget_bytes",
        "The memory budget for all session trees together",
        as_i64(accounting.memory_budget_bytes),
    );
    let usage = float_family(
        &mut metrics,
        "ptyhub_limit_usage_ratio",
        "Share of each limit in use",
    );
    let warning = gauge_family(
        &mut metrics,
        "ptyhub_limit_warning",
        "1 while a limit is past its warning threshold",
    );
    let warned = registry.limits_warned();
    for (limit, ratio) in &accounting.limit_ratios {
        usage
            .get_or_create(&labels(&[("limit", limit)]))
            .set(*ratio);
        warning
            .get_or_create(&labels(&[("limit", limit)]))
            .set(i64::from(warned.contains(limit)));
    }

    own_process_and_build(&mut metrics);

    let mut text = String::new();
    if let Err(err) = encode(&mut text, &metrics) {
        tracing::error!(%err, "encoding metrics failed");
    }
    text
}

/// The daemon's own process, in the names Prometheus client libraries use,
/// and which build it runs.
fn own_process_and_build(metrics: &mut Metrics) {
    let own = OwnProcess::read();
    let whole = |name: &str, help: &str, value: Option<u64>| {
        (name.to_owned(), help.to_owned(), value.map(|v| v as f64))
    };
    let figures = [
        whole("process_resident_memory_bytes", "Resident memory of the daemon", own.resident_memory_bytes),
        whole("process_virtual_memory_bytes", "Virtual memory of the daemon", own.virtual_memory_bytes),
        whole("process_open_fds", "Descriptors the daemon holds open", own.open_fds),
        whole("process_max_fds", "The daemon's limit on open descriptors", own.max_fds),
        whole("process_threads", "Threads of the daemon", own.threads),
        (
            "process_start_time_seconds".to_owned(),
            "When the daemon's process started (an in-place upgrade keeps it), seconds since the epoch".to_owned(),
            own.start_time_seconds,
        ),
    ];
    for (name, help, value) in figures {
        if let Some(value) = value {
            let gauge = Gauge::<f64, AtomicU64>::default();
            gauge.set(value);
            metrics.register(name, help, gauge);
        }
    }
    if let Some(seconds) = own.cpu_seconds {
        let counter = Counter::<f64, AtomicU64>::default();
        counter.inc_by(seconds);
        metrics.register(
            "process_cpu_seconds",
            "CPU time the daemon has used",
            counter,
        );
    }
    let build = gauge_family(
        metrics,
        "ptyhub_build_info",
        "1, labelled with the version and git revision of the running image",
    );
    build
        .get_or_create(&labels(&[
            ("version", build_info::VERSION),
            ("revision", build_info::GIT_REVISION),
        ]))
        .set(1);
}
