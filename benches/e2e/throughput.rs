//! Measure 1, throughput: a child writes a generated stream (plain or TUI) as fast as the
//! terminal accepts while N viewers watch. Per run: the producer's rate, what each viewer
//! received (as the child wrote it, or replaced by a screen repaint), and the daemon's CPU
//! time and peak RSS.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use futures_util::future::join_all;

use crate::pty::Pty;
use crate::ptyhub::{self, Daemon, Provider};
use crate::streams::StreamKind;
use crate::terminado::{Manager, Terminado};
use crate::tmux::Tmux;
use crate::wire::{self, Terminado as Msg};
use crate::{procfs, Plan, System};

/// One run's figures.
#[derive(Clone, Debug, Default)]
pub struct Run {
    pub producer_bytes: u64,
    pub producer_mb_s: f64,
    /// Per viewer: output bytes delivered as written, and over how many seconds.
    pub viewer_bytes: Vec<u64>,
    pub viewer_mb_s: Vec<f64>,
    /// Per viewer: delivered bytes / producer bytes (tmux: bytes of its own redraws).
    pub viewer_share: Vec<f64>,
    /// Screen resyncs (gaps) over all viewers, and the repaint bytes they cost.
    pub gaps: u64,
    pub repaint_bytes: u64,
    pub daemon_cpu_s: f64,
    /// CPU of the per-viewer client processes (tmux attach), if any.
    pub clients_cpu_s: f64,
    /// CPU of this benchmark process (the viewers' side) during the run.
    pub bench_cpu_s: f64,
    pub peak_rss: u64,
}

fn writer_argv(plan: &Plan, kind: StreamKind, dir: &Path) -> Vec<String> {
    vec![
        plan.exe.to_string_lossy().into_owned(),
        "--child".into(),
        "writer".into(),
        kind.name().into(),
        plan.stream_bytes.to_string(),
        ptyhub::path_arg(dir, "go"),
        ptyhub::path_arg(dir, "report.json"),
    ]
}

/// The writer's own report: bytes and seconds.
async fn writer_report(dir: &Path, deadline: Instant) -> anyhow::Result<(u64, f64)> {
    let path = dir.join("report.json");
    loop {
        if let Ok(text) = std::fs::read_to_string(&path) {
            let value: serde_json::Value = serde_json::from_str(&text)?;
            return Ok((
                value["bytes"].as_u64().unwrap_or(0),
                value["seconds"].as_f64().unwrap_or(f64::NAN),
            ));
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the writer did not finish in time"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn go(dir: &Path) -> anyhow::Result<Instant> {
    let at = Instant::now();
    std::fs::write(dir.join("go"), b"")?;
    Ok(at)
}

pub async fn run(
    plan: &Plan,
    system: System,
    kind: StreamKind,
    viewers: usize,
) -> anyhow::Result<Run> {
    let dir = tempfile::Builder::new()
        .prefix("ptyhub-bench-run-")
        .tempdir()?;
    let argv = writer_argv(plan, kind, dir.path());
    match system {
        System::Ptyhub => run_ptyhub(plan, &argv, dir.path(), viewers).await,
        System::Tmux => run_tmux(plan, &argv, dir.path(), viewers).await,
        System::Terminado => run_terminado(plan, &argv, dir.path(), viewers).await,
        System::Bare => run_bare(plan, &argv, dir.path()).await,
    }
}

fn finish(run: &mut Run, producer: (u64, f64), tallies: impl Iterator<Item = (u64, f64)>) {
    run.producer_bytes = producer.0;
    run.producer_mb_s = producer.0 as f64 / producer.1 / crate::stats::MB;
    for (bytes, seconds) in tallies {
        run.viewer_bytes.push(bytes);
        run.viewer_mb_s
            .push(bytes as f64 / seconds.max(1e-9) / crate::stats::MB);
        run.viewer_share
            .push(bytes as f64 / producer.0.max(1) as f64);
    }
}

async fn run_ptyhub(
    plan: &Plan,
    argv: &[String],
    dir: &Path,
    viewers: usize,
) -> anyhow::Result<Run> {
    let daemon = Daemon::start(&[Provider::from_argv("writer", argv)])?;
    let mut control = daemon.connect().await?;
    let terminal_id = control.create("writer").await?;
    let mut clients = vec![control];
    for _ in 1..viewers {
        clients.push(daemon.connect().await?);
    }
    for client in &mut clients {
        client.attach(&terminal_id).await?;
    }
    let pid = daemon.pid();
    let cpu_before = procfs::cpu_seconds(pid);
    let bench_before = procfs::cpu_seconds(std::process::id());
    let started = go(dir)?;
    let deadline = started + plan.run_deadline;
    let tallies = clients
        .into_iter()
        .map(|client| tokio::spawn(ptyhub::tally_until_exit(client, started)));
    let tallies = tokio::time::timeout_at(deadline.into(), join_all(tallies))
        .await
        .context("viewers did not see the exit in time")?;
    let producer = writer_report(dir, deadline).await?;
    let mut run = Run {
        daemon_cpu_s: procfs::cpu_seconds(pid) - cpu_before,
        bench_cpu_s: procfs::cpu_seconds(std::process::id()) - bench_before,
        peak_rss: procfs::peak_rss_bytes(pid),
        ..Run::default()
    };
    if std::env::var_os("PTYHUB_BENCH_THREADS").is_some() {
        eprintln!("  ptyhub CPU by thread: {:?}", procfs::cpu_by_thread(pid));
    }
    let tallies: Vec<_> = tallies.into_iter().collect::<Result<_, _>>()?;
    anyhow::ensure!(tallies.iter().all(|t| t.exited), "a viewer lost its socket");
    run.gaps = tallies.iter().map(|t| t.gaps).sum();
    run.repaint_bytes = tallies.iter().map(|t| t.repaint_bytes).sum();
    finish(
        &mut run,
        producer,
        tallies.iter().map(|t| (t.raw_bytes, t.seconds)),
    );
    Ok(run)
}

/// Waits until no client has received anything for `quiet`, or `deadline`.
async fn settle(clients: &[Pty], quiet: Duration, deadline: Instant) {
    loop {
        let newest = clients
            .iter()
            .filter_map(|c| c.received.lock().last_at)
            .max();
        let now = Instant::now();
        if now > deadline || newest.is_none_or(|at| now - at >= quiet) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn run_tmux(plan: &Plan, argv: &[String], dir: &Path, viewers: usize) -> anyhow::Result<Run> {
    let tmux = Tmux::start(argv, 2000)?;
    let mut clients = Vec::with_capacity(viewers);
    for _ in 0..viewers {
        let client = tmux.attach_client()?;
        anyhow::ensure!(Tmux::wait_drawn(&client).await, "tmux client drew nothing");
        clients.push(client);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let pid = tmux.server_pid;
    let client_pids: Vec<u32> = clients.iter().map(|c| c.child.id()).collect();
    let clients_cpu = |pids: &[u32]| pids.iter().map(|&p| procfs::cpu_seconds(p)).sum::<f64>();
    let before: Vec<u64> = clients.iter().map(Pty::bytes).collect();
    let (cpu_before, clients_before) = (procfs::cpu_seconds(pid), clients_cpu(&client_pids));
    let started = go(dir)?;
    let deadline = started + plan.run_deadline;
    let producer = writer_report(dir, deadline).await?;
    settle(&clients, Duration::from_millis(300), deadline).await;
    let mut run = Run {
        daemon_cpu_s: procfs::cpu_seconds(pid) - cpu_before,
        clients_cpu_s: clients_cpu(&client_pids) - clients_before,
        peak_rss: procfs::peak_rss_bytes(pid),
        ..Run::default()
    };
    let tallies = clients.iter().zip(before).map(|(client, before)| {
        let seen = client.received.lock();
        let seconds = seen.last_at.map_or(0.0, |at| {
            at.saturating_duration_since(started).as_secs_f64()
        });
        (seen.bytes - before, seconds)
    });
    finish(&mut run, producer, tallies);
    Ok(run)
}

async fn run_terminado(
    plan: &Plan,
    argv: &[String],
    dir: &Path,
    viewers: usize,
) -> anyhow::Result<Run> {
    let python = plan
        .terminado
        .as_ref()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let server = Terminado::start(python, Manager::Named, argv)?;
    let mut clients = Vec::with_capacity(viewers);
    for _ in 0..viewers {
        clients.push(server.connect("bench").await?);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let pid = server.pid();
    let cpu_before = procfs::cpu_seconds(pid);
    let bench_before = procfs::cpu_seconds(std::process::id());
    let started = go(dir)?;
    let deadline = started + plan.run_deadline;
    let tallies = clients.into_iter().map(|mut client| {
        tokio::spawn(async move {
            let (mut bytes, mut last, mut ended) = (0u64, started, false);
            while let Some(text) = client.next_text().await {
                match wire::terminado(&text) {
                    Msg::Stdout(escaped) => {
                        bytes += wire::unescaped_len(escaped) as u64;
                        last = Instant::now();
                    }
                    Msg::Disconnect => {
                        ended = true;
                        break;
                    }
                    Msg::Other => {}
                }
            }
            (
                bytes,
                last.saturating_duration_since(started).as_secs_f64(),
                ended,
            )
        })
    });
    let tallies = tokio::time::timeout_at(deadline.into(), join_all(tallies))
        .await
        .context("terminado viewers did not see the end in time")?;
    let producer = writer_report(dir, deadline).await?;
    let mut run = Run {
        daemon_cpu_s: procfs::cpu_seconds(pid) - cpu_before,
        bench_cpu_s: procfs::cpu_seconds(std::process::id()) - bench_before,
        peak_rss: procfs::peak_rss_bytes(pid),
        ..Run::default()
    };
    let tallies: Vec<_> = tallies.into_iter().collect::<Result<_, _>>()?;
    anyhow::ensure!(
        tallies.iter().all(|t| t.2),
        "a terminado socket closed early"
    );
    finish(&mut run, producer, tallies.iter().map(|t| (t.0, t.1)));
    Ok(run)
}

async fn run_bare(plan: &Plan, argv: &[String], dir: &Path) -> anyhow::Result<Run> {
    let mut command = std::process::Command::new(&argv[0]);
    command.args(&argv[1..]);
    let pty = Pty::spawn(command)?;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let before = pty.bytes();
    let started = go(dir)?;
    let deadline = started + plan.run_deadline;
    let producer = writer_report(dir, deadline).await?;
    settle(
        std::slice::from_ref(&pty),
        Duration::from_millis(100),
        deadline,
    )
    .await;
    let mut run = Run::default();
    let seen = pty.received.lock();
    let seconds = seen.last_at.map_or(0.0, |at| {
        at.saturating_duration_since(started).as_secs_f64()
    });
    let tally = (seen.bytes - before, seconds);
    drop(seen);
    finish(&mut run, producer, std::iter::once(tally));
    Ok(run)
}

/// Systems compared in this measure; the bare PTY runs with its one reader only.
const SYSTEMS: [System; 4] = [
    System::Ptyhub,
    System::Tmux,
    System::Terminado,
    System::Bare,
];

type Key = (StreamKind, usize, System);

/// Runs every configuration `plan.repeats` times (repeats outermost, so a noisy minute
/// spreads over all systems) and builds the tables.
pub async fn tables(plan: &Plan, failures: &mut Vec<String>) -> Vec<crate::stats::Table> {
    let mut runs: std::collections::HashMap<Key, Vec<Run>> = Default::default();
    for repeat in 0..plan.repeats {
        for &kind in &plan.streams {
            for &viewers in &plan.viewers {
                for system in SYSTEMS {
                    if system == System::Bare && viewers != plan.viewers[0]
                        || !plan.runs(system.name())
                    {
                        continue;
                    }
                    let label = format!(
                        "throughput {} {} viewers={viewers} repeat={repeat}",
                        system.name(),
                        kind.name()
                    );
                    eprintln!("{label}");
                    match run(plan, system, kind, viewers).await {
                        Ok(r) => runs.entry((kind, viewers, system)).or_default().push(r),
                        Err(err) => failures.push(format!("{label}: {err:#}")),
                    }
                }
            }
        }
    }
    build_tables(plan, &runs)
}

fn summary(
    runs: &std::collections::HashMap<Key, Vec<Run>>,
    key: Key,
    f: impl Fn(&Run) -> f64,
) -> Option<Summary> {
    let values: Vec<f64> = runs.get(&key)?.iter().map(f).collect();
    Summary::of(&values)
}

fn median_of(values: &[f64]) -> f64 {
    crate::stats::percentile(values, 50.0)
}

fn min_of(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::INFINITY, f64::min)
}

use crate::stats::{ratio, show, Summary, Table, MIB};

fn build_tables(plan: &Plan, runs: &std::collections::HashMap<Key, Vec<Run>>) -> Vec<Table> {
    let first_n = plan.viewers[0];
    let mut producer = Table::new(
        "Throughput: producer rate (MB/s the child managed to write)",
        &[
            "stream",
            "viewers",
            "ptyhub",
            "tmux",
            "terminado",
            "bare PTY (1 reader)",
            "ptyhub ÷ tmux",
            "ptyhub ÷ terminado",
            "ptyhub ÷ ptyhub with 1 viewer",
        ],
    );
    let mut delivered = Table::new(
        "Throughput: delivered to each viewer",
        &[
            "stream",
            "viewers",
            "ptyhub MB/s (median viewer)",
            "ptyhub share as written (worst viewer)",
            "ptyhub resyncs (all viewers)",
            "tmux MB/s (median client)",
            "tmux bytes ÷ written",
            "terminado MB/s (median viewer)",
            "terminado share (worst viewer)",
        ],
    );
    let mut cost = Table::new(
        "Throughput: the daemon's CPU time and peak RSS",
        &[
            "stream",
            "viewers",
            "ptyhub CPU s",
            "(its viewers' CPU s)",
            "tmux server CPU s",
            "tmux clients CPU s",
            "terminado CPU s",
            "(its viewers' CPU s)",
            "ptyhub peak RSS MiB",
            "tmux server peak RSS MiB",
            "terminado peak RSS MiB",
        ],
    );
    for &kind in &plan.streams {
        for &n in &plan.viewers {
            let key = |system| (kind, n, system);
            let rate = |system| summary(runs, key(system), |r| r.producer_mb_s);
            let bare = summary(runs, (kind, first_n, System::Bare), |r| r.producer_mb_s);
            let (ptyhub, tmux, terminado) = (
                rate(System::Ptyhub),
                rate(System::Tmux),
                rate(System::Terminado),
            );
            let ptyhub_one = summary(runs, (kind, first_n, System::Ptyhub), |r| r.producer_mb_s);
            producer.row(vec![
                kind.name().into(),
                n.to_string(),
                show(ptyhub, 1),
                show(tmux, 1),
                show(terminado, 1),
                show(bare, 1),
                ratio(ptyhub, tmux),
                ratio(ptyhub, terminado),
                ratio(ptyhub, ptyhub_one),
            ]);
            let viewer_rate = |system| summary(runs, key(system), |r| median_of(&r.viewer_mb_s));
            let worst_share =
                |system| summary(runs, key(system), |r| 100.0 * min_of(&r.viewer_share));
            delivered.row(vec![
                kind.name().into(),
                n.to_string(),
                show(viewer_rate(System::Ptyhub), 1),
                show(worst_share(System::Ptyhub), 1) + " %",
                show(summary(runs, key(System::Ptyhub), |r| r.gaps as f64), 0),
                show(viewer_rate(System::Tmux), 1),
                show(
                    summary(runs, key(System::Tmux), |r| {
                        100.0 * median_of(&r.viewer_share)
                    }),
                    1,
                ) + " %",
                show(viewer_rate(System::Terminado), 1),
                show(worst_share(System::Terminado), 1) + " %",
            ]);
            let cpu = |system| summary(runs, key(system), |r| r.daemon_cpu_s);
            let rss = |system| summary(runs, key(system), |r| r.peak_rss as f64 / MIB);
            cost.row(vec![
                kind.name().into(),
                n.to_string(),
                show(cpu(System::Ptyhub), 2),
                show(summary(runs, key(System::Ptyhub), |r| r.bench_cpu_s), 2),
                show(cpu(System::Tmux), 2),
                show(summary(runs, key(System::Tmux), |r| r.clients_cpu_s), 2),
                show(cpu(System::Terminado), 2),
                show(summary(runs, key(System::Terminado), |r| r.bench_cpu_s), 2),
                show(rss(System::Ptyhub), 1),
                show(rss(System::Tmux), 1),
                show(rss(System::Terminado), 1),
            ]);
        }
    }
    producer.note("Median of the repeats (min–max). The bare PTY is the child on a PTY this benchmark drains itself: the ceiling for any daemon.");
    delivered.note("\"Share as written\": output bytes a viewer received exactly as the child wrote them, over the bytes written; the rest was skipped and replaced by a screen repaint (a resync). tmux never passes output through: it sends its own redraws, so its column is bytes sent to a client over bytes written, not a share. terminado passes everything through and buffers without bound for slow sockets.");
    cost.note("CPU seconds over the run (utime+stime from /proc/<pid>/stat); peak RSS is VmHWM of a daemon started for that run. tmux's `attach` clients are processes of their own; their CPU is shown apart, as is the CPU this benchmark's own WebSocket viewers spent (they share the same two cores).");
    vec![producer, delivered, cost]
}
