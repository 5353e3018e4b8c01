//! Measure 5, the flood (issue 16's target): while idle TCP connections, slow-header
//! connections and reconnecting sockets that never say hello hammer a daemon with its default
//! `[server]` budgets, how long does the owner's `hello` take to be answered with `ready`,
//! and how much memory does the daemon hold? The target: 20 000 idle, 3 000 slow-header and
//! 50 never-hello sockets; hello → ready under 100 ms at p99, RSS under 64 MiB.
//!
//! The attackers are processes of their own (`flood_attacker.rs`), since one process holds
//! at most its descriptor limit; each keeps its count of connections up, reconnecting as soon
//! as the daemon closes one. The owner's client runs here: it opens a WebSocket, sends hello
//! and times it to `ready`, closes, and does it again every 100 ms — first on the quiet
//! daemon (the baseline), then under the flood. The daemon's RSS and descriptors are read
//! every 100 ms throughout.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::ptyhub::{Daemon, Provider, STEP};
use crate::stats::{percentile, Table, MIB};
use crate::{procfs, Plan};

/// How many attackers of each kind, and how many owner samples.
pub struct FloodSize {
    pub idle: usize,
    /// Idle connections per attacker process (under its descriptor limit).
    pub idle_per_process: usize,
    pub slow: usize,
    pub silent: usize,
    pub samples: usize,
    /// Longest wait for the attackers to hold their connections before sampling.
    pub ramp_up: Duration,
}

const SAMPLE_SPACING: Duration = Duration::from_millis(100);
const TARGET_P99_MS: f64 = 100.0;
const TARGET_RSS_MIB: f64 = 64.0;

/// One owner connection: TCP + WebSocket upgrade, then hello → ready, in milliseconds.
struct OwnerSample {
    connect_ms: f64,
    hello_to_ready_ms: f64,
}

/// What the owner saw over one phase, and what the daemon held meanwhile.
#[derive(Default)]
struct Phase {
    samples: Vec<OwnerSample>,
    failures: Vec<String>,
    max_rss: u64,
    max_descriptors: usize,
    /// What the attackers held when sampling began, by role: (open, target).
    attackers: Vec<(String, u64, u64)>,
    /// Connections the attackers made per second while the owner was sampled.
    attacker_connects_per_second: f64,
}

pub async fn tables(plan: &Plan, failures: &mut Vec<String>) -> Vec<Table> {
    match run(plan).await {
        Ok(table) => vec![table],
        Err(err) => {
            failures.push(format!("flood: {err:#}"));
            Vec::new()
        }
    }
}

async fn run(plan: &Plan) -> anyhow::Result<Table> {
    let size = &plan.flood;
    let shell = Provider::from_argv("shell", &["/bin/sh".to_owned()]);
    // No `[server]` settings: the budgets a user gets.
    let daemon = Daemon::start_with_server(&[shell], "")?;
    let pid = daemon.pid();
    let quiet = sample_owner(&daemon, size.samples, pid, Vec::new()).await;

    let dir = tempfile::Builder::new().prefix("ptyhub-flood-").tempdir()?;
    let mut attackers = Attackers::default();
    let mut left = size.idle;
    while left > 0 {
        let count = left.min(size.idle_per_process);
        attackers.start(plan, "idle", daemon.port, count, dir.path())?;
        left -= count;
    }
    attackers.start(plan, "slow", daemon.port, size.slow, dir.path())?;
    attackers.start(plan, "silent", daemon.port, size.silent, dir.path())?;
    let ramp_deadline = Instant::now() + size.ramp_up;
    let (mut max_rss, mut max_descriptors) = (0, 0);
    while Instant::now() < ramp_deadline && !attackers.all_connected_once() {
        max_rss = max_rss.max(procfs::rss_bytes(pid));
        max_descriptors = max_descriptors.max(descriptors(pid));
        tokio::time::sleep(SAMPLE_SPACING).await;
    }
    let held = attackers.held();
    let connects_before = attackers.connects();
    let sampling = Instant::now();
    let mut flood = sample_owner(&daemon, size.samples, pid, held).await;
    flood.attacker_connects_per_second = attackers.connects().saturating_sub(connects_before)
        as f64
        / sampling.elapsed().as_secs_f64().max(0.001);
    flood.max_rss = flood.max_rss.max(max_rss);
    flood.max_descriptors = flood.max_descriptors.max(max_descriptors);
    let peak_rss = procfs::peak_rss_bytes(pid);
    drop(attackers);
    let after = sample_owner(&daemon, 5.min(size.samples), pid, Vec::new()).await;

    let mut table = Table::new(
        &format!(
            "Flood: the owner's hello → ready under {} idle, {} slow-header and {} never-hello connections (ms)",
            size.idle, size.slow, size.silent
        ),
        &[
            "phase",
            "owner samples (failed)",
            "connect p50 / p99 / max",
            "hello → ready p50 / p99 / max",
            "daemon RSS max (MiB)",
            "daemon descriptors max",
            "attackers: connections open / wanted when sampling began; connects per s while sampled",
        ],
    );
    for (name, phase) in [
        ("quiet daemon", &quiet),
        ("flood", &flood),
        ("after the flood", &after),
    ] {
        table.row(vec![
            name.to_owned(),
            format!("{} ({})", phase.samples.len(), phase.failures.len()),
            spread(phase.samples.iter().map(|s| s.connect_ms).collect()),
            spread(phase.samples.iter().map(|s| s.hello_to_ready_ms).collect()),
            format!("{:.1}", phase.max_rss as f64 / MIB),
            phase.max_descriptors.to_string(),
            describe_attackers(phase),
        ]);
    }
    let p99 = percentile(
        &flood
            .samples
            .iter()
            .map(|s| s.hello_to_ready_ms)
            .collect::<Vec<_>>(),
        99.0,
    );
    let rss = peak_rss as f64 / MIB;
    table.note(format!(
        "Target: hello → ready p99 < {TARGET_P99_MS:.0} ms under the flood ({}: {p99:.1} ms); daemon RSS < {TARGET_RSS_MIB:.0} MiB ({}: peak VmHWM {rss:.1} MiB over the whole run). The daemon runs with the default `[server]` budgets unless a note below says otherwise (max_open_connections 1 024, header_read_timeout_ms 10 000, silent_hello_timeout_ms 1 000), so it holds about 1 024 of the attackers' connections at a time and evicts the oldest for each new one; the attackers reconnect as soon as it closes one of theirs. Connect is TCP + WebSocket upgrade, which waits in the same listen queue as the attackers' connects. Owner samples are spaced {} ms; a failed one is {}.",
        if p99 < TARGET_P99_MS { "met" } else { "missed" },
        if rss < TARGET_RSS_MIB { "met" } else { "missed" },
        SAMPLE_SPACING.as_millis(),
        flood.failures.first().map_or("none".to_owned(), |f| format!("e.g. {f}")),
    ));
    if let Ok(overrides) = std::env::var("PTYHUB_BENCH_CONFIG") {
        table.note(format!(
            "This run's config was changed by PTYHUB_BENCH_CONFIG: `{}`.",
            overrides.replace('\n', "; ")
        ));
    }
    if flood.failures.len() * 10 > flood.samples.len().max(1) {
        anyhow::bail!(
            "the owner failed {} of {} times under the flood: {:?}",
            flood.failures.len(),
            flood.samples.len() + flood.failures.len(),
            flood.failures.first()
        );
    }
    Ok(table)
}

fn spread(values: Vec<f64>) -> String {
    if values.is_empty() {
        return "–".to_owned();
    }
    format!(
        "{:.1} / {:.1} / {:.1}",
        percentile(&values, 50.0),
        percentile(&values, 99.0),
        percentile(&values, 100.0)
    )
}

fn describe_attackers(phase: &Phase) -> String {
    if phase.attackers.is_empty() {
        return "–".to_owned();
    }
    let held = phase
        .attackers
        .iter()
        .map(|(role, open, target)| format!("{role} {open}/{target}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!("{held}; {:.0}/s", phase.attacker_connects_per_second)
}

/// Samples the owner `count` times, reading the daemon's memory and descriptors as it goes.
async fn sample_owner(
    daemon: &Daemon,
    count: usize,
    pid: u32,
    attackers: Vec<(String, u64, u64)>,
) -> Phase {
    let mut phase = Phase {
        attackers,
        ..Phase::default()
    };
    for _ in 0..count {
        match owner_once(daemon.port, &daemon.token).await {
            Ok(sample) => phase.samples.push(sample),
            Err(err) => phase.failures.push(format!("{err:#}")),
        }
        phase.max_rss = phase.max_rss.max(procfs::rss_bytes(pid));
        phase.max_descriptors = phase.max_descriptors.max(descriptors(pid));
        tokio::time::sleep(SAMPLE_SPACING).await;
    }
    phase
}

async fn owner_once(port: u16, token: &str) -> anyhow::Result<OwnerSample> {
    let started = Instant::now();
    let url = format!("ws://127.0.0.1:{port}/ws");
    let (mut socket, _) = tokio::time::timeout(STEP, tokio_tungstenite::connect_async(url))
        .await
        .context("connect timed out")?
        .context("connect")?;
    let connected = Instant::now();
    let hello = json!({"type": "hello", "protocolVersion": 7, "token": token});
    socket.send(Message::text(hello.to_string())).await?;
    let deadline = tokio::time::Instant::now() + STEP;
    loop {
        let message = tokio::time::timeout_at(deadline, socket.next())
            .await
            .context("no ready")?
            .context("closed before ready")??;
        if let Message::Text(text) = message {
            let value: Value = serde_json::from_str(text.as_str())?;
            match value["type"].as_str() {
                Some("ready") => break,
                Some("error") => anyhow::bail!("refused: {value}"),
                _ => {}
            }
        }
    }
    let ready = Instant::now();
    let _ = socket.close(None).await;
    Ok(OwnerSample {
        connect_ms: (connected - started).as_secs_f64() * 1000.0,
        hello_to_ready_ms: (ready - connected).as_secs_f64() * 1000.0,
    })
}

fn descriptors(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |entries| entries.count())
}

/// The attacker processes, killed when dropped.
#[derive(Default)]
struct Attackers {
    children: Vec<(Child, PathBuf)>,
}

impl Attackers {
    fn start(
        &mut self,
        plan: &Plan,
        role: &str,
        port: u16,
        connections: usize,
        dir: &Path,
    ) -> anyhow::Result<()> {
        if connections == 0 {
            return Ok(());
        }
        let status = dir.join(format!("{role}-{}.json", self.children.len()));
        let child = Command::new(&plan.exe)
            .arg("--attacker")
            .arg(role)
            .arg(port.to_string())
            .arg(connections.to_string())
            .arg(&status)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting an attacker")?;
        self.children.push((child, status));
        Ok(())
    }

    fn statuses(&self) -> Vec<Value> {
        self.children
            .iter()
            .filter_map(|(_, path)| std::fs::read_to_string(path).ok())
            .filter_map(|text| serde_json::from_str(&text).ok())
            .collect()
    }

    /// Every attacker has made at least its number of connections once.
    fn all_connected_once(&self) -> bool {
        let statuses = self.statuses();
        statuses.len() == self.children.len()
            && statuses
                .iter()
                .all(|s| s["connects"].as_u64() >= s["target"].as_u64())
    }

    /// (role, open, target) summed by role.
    fn held(&self) -> Vec<(String, u64, u64)> {
        let mut by_role: Vec<(String, u64, u64)> = Vec::new();
        for status in self.statuses() {
            let role = status["role"].as_str().unwrap_or("?").to_owned();
            let open = status["open"].as_u64().unwrap_or(0);
            let target = status["target"].as_u64().unwrap_or(0);
            match by_role.iter_mut().find(|(r, _, _)| *r == role) {
                Some(entry) => {
                    entry.1 += open;
                    entry.2 += target;
                }
                None => by_role.push((role, open, target)),
            }
        }
        by_role
    }

    fn connects(&self) -> u64 {
        self.statuses()
            .iter()
            .filter_map(|s| s["connects"].as_u64())
            .sum()
    }
}

impl Drop for Attackers {
    fn drop(&mut self) {
        for (child, _) in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
