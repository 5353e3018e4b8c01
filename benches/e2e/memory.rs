//! Measure 4, memory: the daemon's resident memory with many idle shell sessions, and with
//! one session and many idle viewers, from which the cost of one more session and of one
//! more viewer follows.
//!
//! Sessions are `bash --norc --noprofile` (a login shell's start-up files made 500 at once
//! drive the load past 900; see the field notes) and are added in rising steps within one
//! daemon, so one repeat measures every step. tmux cannot exist without a session, so every
//! system starts from one session and the steps count sessions beyond it. Besides the
//! daemon, the processes each system keeps per session or per viewer are counted and their
//! memory summed (the shells themselves, tmux's client processes, terminado's per-socket
//! shells).

use std::time::Duration;

use crate::pty::Pty;
use crate::ptyhub::{Daemon, Provider};
use crate::terminado::{Manager, TermClient, Terminado};
use crate::tmux::Tmux;
use crate::{procfs, Plan};

/// The systems this measure compares (terminado with each of its managers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Ptyhub,
    Tmux,
    Terminado(Manager),
}

impl Target {
    pub fn name(self) -> &'static str {
        match self {
            Target::Ptyhub => "ptyhub",
            Target::Tmux => "tmux",
            Target::Terminado(Manager::Named) => "terminado (named)",
            Target::Terminado(Manager::Unique) => "terminado (unique)",
        }
    }
}

/// Memory at one step.
#[derive(Clone, Copy, Debug, Default)]
pub struct Point {
    pub daemon_rss: u64,
    /// Other processes the system keeps (shells, client processes) and their RSS.
    pub processes: usize,
    pub processes_rss: u64,
}

fn shell_argv() -> Vec<String> {
    ["/bin/bash", "--norc", "--noprofile"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect()
}

/// Measures `daemon` once everything has had `settle` to start.
async fn measure(settle: Duration, daemon: u32, extra: &[u32]) -> Point {
    tokio::time::sleep(settle).await;
    let mut pids = procfs::descendants(daemon);
    pids.extend_from_slice(extra);
    Point {
        daemon_rss: procfs::rss_bytes(daemon),
        processes: pids.len(),
        processes_rss: pids.iter().map(|&p| procfs::rss_bytes(p)).sum(),
    }
}

/// One repeat: a point per step of `plan.idle_sessions` (sessions beyond the first).
pub async fn sessions(plan: &Plan, target: Target) -> anyhow::Result<Vec<Point>> {
    let shell = shell_argv();
    let mut points = Vec::new();
    match target {
        Target::Ptyhub => {
            let daemon = Daemon::start(&[Provider::from_argv("shell", &shell)])?;
            let mut control = daemon.connect().await?;
            let mut count = 0;
            for &step in &plan.idle_sessions {
                while count < step + 1 {
                    control.create("shell").await?;
                    count += 1;
                }
                points.push(measure(plan.settle, daemon.pid(), &[]).await);
            }
        }
        Target::Tmux => {
            let tmux = Tmux::start(&shell, 2000)?;
            let mut count = 0;
            for &step in &plan.idle_sessions {
                while count < step {
                    let batch = (step - count).min(50);
                    let mut args = Vec::new();
                    for i in 0..batch {
                        if i > 0 {
                            args.push(";".to_owned());
                        }
                        args.extend(["new-window", "-d", "-t", "bench"].map(String::from));
                        args.extend(shell.iter().cloned());
                    }
                    tmux.run(&args)?;
                    count += batch;
                }
                points.push(measure(plan.settle, tmux.server_pid, &[]).await);
            }
        }
        Target::Terminado(manager) => {
            let python = plan
                .terminado
                .as_ref()
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let server = Terminado::start(python, manager, &shell)?;
            // Named terminals outlive their sockets; unique ones live only while theirs is open.
            let mut held: Vec<TermClient> = Vec::new();
            let mut count = 0;
            for &step in &plan.idle_sessions {
                while count < step + 1 {
                    let mut client = server.connect(&format!("s{count}")).await?;
                    client.next_text().await;
                    if manager == Manager::Unique {
                        held.push(client);
                    }
                    count += 1;
                }
                points.push(measure(plan.settle, server.pid(), &[]).await);
            }
        }
    }
    Ok(points)
}

/// One repeat: one session, and a point per step of `plan.idle_viewers`.
pub async fn viewers(plan: &Plan, target: Target) -> anyhow::Result<Vec<Point>> {
    let shell = shell_argv();
    let mut points = Vec::new();
    match target {
        Target::Ptyhub => {
            let daemon = Daemon::start(&[Provider::from_argv("shell", &shell)])?;
            let mut control = daemon.connect().await?;
            let terminal_id = control.create("shell").await?;
            let mut held = Vec::new();
            for &step in &plan.idle_viewers {
                while held.len() < step {
                    let mut viewer = daemon.connect().await?;
                    viewer.attach(&terminal_id).await?;
                    held.push(viewer);
                }
                points.push(measure(plan.settle, daemon.pid(), &[]).await);
            }
        }
        Target::Tmux => {
            let tmux = Tmux::start(&shell, 2000)?;
            let mut held: Vec<Pty> = Vec::new();
            for &step in &plan.idle_viewers {
                while held.len() < step {
                    let client = tmux.attach_client()?;
                    anyhow::ensure!(Tmux::wait_drawn(&client).await, "tmux client drew nothing");
                    held.push(client);
                }
                let clients: Vec<u32> = held.iter().map(|c| c.child.id()).collect();
                points.push(measure(plan.settle, tmux.server_pid, &clients).await);
            }
        }
        Target::Terminado(manager) => {
            let python = plan
                .terminado
                .as_ref()
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let server = Terminado::start(python, manager, &shell)?;
            if manager == Manager::Named {
                // The session, started by a socket that then leaves.
                let mut first = server.connect("one").await?;
                first.next_text().await;
            }
            let mut held = Vec::new();
            for &step in &plan.idle_viewers {
                while held.len() < step {
                    let mut client = server.connect("one").await?;
                    client.next_text().await;
                    held.push(client);
                }
                points.push(measure(plan.settle, server.pid(), &[]).await);
            }
        }
    }
    Ok(points)
}

const TARGETS: [Target; 4] = [
    Target::Ptyhub,
    Target::Tmux,
    Target::Terminado(Manager::Named),
    Target::Terminado(Manager::Unique),
];

/// Both parts, `plan.repeats` times each (fresh system per repeat), tabulated as the daemon's
/// RSS per step and the cost of one more session or viewer.
pub async fn tables(plan: &Plan, failures: &mut Vec<String>) -> Vec<crate::stats::Table> {
    let mut by_sessions: Vec<(Target, Vec<Vec<Point>>)> =
        TARGETS.iter().map(|&t| (t, Vec::new())).collect();
    let mut by_viewers = by_sessions.clone();
    for repeat in 0..plan.repeats {
        for (target, repeats) in &mut by_sessions {
            if !plan.runs(target.name()) {
                continue;
            }
            let label = format!("memory sessions {} repeat={repeat}", target.name());
            eprintln!("{label}");
            match sessions(plan, *target).await {
                Ok(points) => repeats.push(points),
                Err(err) => failures.push(format!("{label}: {err:#}")),
            }
        }
        for (target, repeats) in &mut by_viewers {
            if !plan.runs(target.name()) {
                continue;
            }
            let label = format!("memory viewers {} repeat={repeat}", target.name());
            eprintln!("{label}");
            match viewers(plan, *target).await {
                Ok(points) => repeats.push(points),
                Err(err) => failures.push(format!("{label}: {err:#}")),
            }
        }
    }
    vec![
        table(
            "Memory: idle shell sessions (beyond the first)",
            "per session",
            &plan.idle_sessions,
            &by_sessions,
        ),
        table(
            "Memory: one session, idle viewers",
            "per viewer",
            &plan.idle_viewers,
            &by_viewers,
        ),
    ]
}

fn table(
    title: &str,
    per: &str,
    steps: &[usize],
    results: &[(Target, Vec<Vec<Point>>)],
) -> crate::stats::Table {
    use crate::stats::{show, Summary, Table, KIB, MIB};
    let mut header = vec!["".to_owned()];
    header.extend(results.iter().map(|(t, _)| t.name().to_owned()));
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut table = Table::new(title, &header);
    let column = |repeats: &Vec<Vec<Point>>, f: &dyn Fn(&Vec<Point>) -> Option<f64>| {
        let values: Vec<f64> = repeats.iter().filter_map(f).collect();
        Summary::of(&values)
    };
    for (index, step) in steps.iter().enumerate() {
        let mut cells = vec![format!("daemon RSS MiB, {step}")];
        for (_, repeats) in results {
            cells.push(show(
                column(repeats, &|r| Some(r.get(index)?.daemon_rss as f64 / MIB)),
                1,
            ));
        }
        table.row(cells);
    }
    let last = steps.len() - 1;
    let span = (steps[last] - steps[0]).max(1) as f64;
    let mut cells = vec![format!("daemon KiB {per}")];
    for (_, repeats) in results {
        cells.push(show(
            column(repeats, &|r| {
                Some((r.get(last)?.daemon_rss as f64 - r.first()?.daemon_rss as f64) / span / KIB)
            }),
            1,
        ));
    }
    table.row(cells);
    let mut cells = vec![format!("processes at {}", steps[last])];
    for (_, repeats) in results {
        cells.push(show(
            column(repeats, &|r| Some(r.get(last)?.processes as f64)),
            0,
        ));
    }
    table.row(cells);
    let mut cells = vec![format!("their RSS, KiB {per}")];
    for (_, repeats) in results {
        cells.push(show(
            column(repeats, &|r| {
                Some(
                    (r.get(last)?.processes_rss as f64 - r.first()?.processes_rss as f64)
                        / span
                        / KIB,
                )
            }),
            0,
        ));
    }
    table.row(cells);
    table.note("Median of the repeats (min–max). Daemon RSS is VmRSS of the server process alone (ptyhub, the tmux server, terminado's Python) 1.5 s after the step's last session or viewer started; \"processes\" are everything else the system keeps for its sessions and viewers (the shells; tmux's `attach` clients; terminado unique's shell per socket), with their summed VmRSS (shared pages counted in each).");
    table
}
