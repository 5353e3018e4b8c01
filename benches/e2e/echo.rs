//! Measure 3, keystroke echo: the time from a key sent to its echo seen, through each
//! system, against the same echoing child on a bare PTY. The child answers byte `c` with
//! `#c;`, so the echo is found in output whatever a system wraps around it.
//!
//! The other viewers (all but the measuring one) read everything they are sent; keys are
//! spaced a few milliseconds apart, as typing is, so every key starts from an idle system.

use std::time::{Duration, Instant};

use anyhow::Context;

use crate::pty::Pty;
use crate::ptyhub::{self, Daemon, Provider};
use crate::terminado::{Manager, Terminado};
use crate::tmux::Tmux;
use crate::wire::{self, Ptyhub, Terminado as Msg};
use crate::{Plan, System};

const KEY_SPACING: Duration = Duration::from_millis(3);

fn echo_argv(plan: &Plan) -> Vec<String> {
    vec![
        plan.exe.to_string_lossy().into_owned(),
        "--child".into(),
        "echo".into(),
    ]
}

fn key(index: usize) -> (String, String) {
    let c = (b'a' + (index % 26) as u8) as char;
    (c.to_string(), format!("#{c};"))
}

/// Latencies in seconds, one per key (after a short warm-up).
pub async fn run(plan: &Plan, system: System, viewers: usize) -> anyhow::Result<Vec<f64>> {
    let argv = echo_argv(plan);
    let mut samples = match system {
        System::Bare => bare(plan, &argv).await?,
        System::Ptyhub => via_ptyhub(plan, &argv, viewers).await?,
        System::Tmux => via_tmux(plan, &argv, viewers).await?,
        System::Terminado => via_terminado(plan, &argv, viewers).await?,
    };
    let warm_up = (samples.len() / 10).min(20);
    samples.drain(..warm_up);
    Ok(samples)
}

fn total_keys(plan: &Plan) -> usize {
    plan.echo_samples + (plan.echo_samples / 9).min(20)
}

async fn pty_keys(plan: &Plan, pty: &Pty) -> anyhow::Result<Vec<f64>> {
    let mut samples = Vec::new();
    for index in 0..total_keys(plan) {
        let (typed, echoed) = key(index);
        tokio::time::sleep(KEY_SPACING).await;
        pty.clear_tail();
        let started = Instant::now();
        pty.write(typed.as_bytes())?;
        anyhow::ensure!(
            pty.wait_for(echoed.as_bytes(), ptyhub::STEP).await,
            "no echo of {typed:?}"
        );
        samples.push(started.elapsed().as_secs_f64());
    }
    Ok(samples)
}

async fn bare(plan: &Plan, argv: &[String]) -> anyhow::Result<Vec<f64>> {
    let mut command = std::process::Command::new(&argv[0]);
    command.args(&argv[1..]);
    let pty = Pty::spawn(command)?;
    tokio::time::sleep(Duration::from_millis(50)).await;
    pty_keys(plan, &pty).await
}

async fn via_tmux(plan: &Plan, argv: &[String], viewers: usize) -> anyhow::Result<Vec<f64>> {
    let tmux = Tmux::start(argv, 2000)?;
    let mut clients = Vec::new();
    for _ in 0..viewers {
        let client = tmux.attach_client()?;
        anyhow::ensure!(Tmux::wait_drawn(&client).await, "tmux client drew nothing");
        clients.push(client);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    pty_keys(plan, &clients[0]).await
}

async fn via_ptyhub(plan: &Plan, argv: &[String], viewers: usize) -> anyhow::Result<Vec<f64>> {
    let daemon = Daemon::start(&[Provider::from_argv("echo", argv)])?;
    let mut typist = daemon.connect().await?;
    let terminal_id = typist.create("echo").await?;
    typist.attach(&terminal_id).await?;
    let mut others = Vec::new();
    for _ in 1..viewers {
        let mut other = daemon.connect().await?;
        other.attach(&terminal_id).await?;
        others.push(tokio::spawn(async move {
            while other.next_text().await.is_some() {}
        }));
    }
    let mut samples = Vec::new();
    for index in 0..total_keys(plan) {
        let (typed, echoed) = key(index);
        tokio::time::sleep(KEY_SPACING).await;
        let started = Instant::now();
        typist.input(&terminal_id, &typed).await?;
        loop {
            let text = tokio::time::timeout(ptyhub::STEP, typist.next_text())
                .await?
                .context("socket closed")?;
            if let Ptyhub::Output { escaped, .. } = wire::ptyhub(&text) {
                if wire::find(escaped, echoed.as_bytes()).is_some() {
                    break;
                }
            }
        }
        samples.push(started.elapsed().as_secs_f64());
    }
    for other in others {
        other.abort();
    }
    Ok(samples)
}

async fn via_terminado(plan: &Plan, argv: &[String], viewers: usize) -> anyhow::Result<Vec<f64>> {
    let python = plan
        .terminado
        .as_ref()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let server = Terminado::start(python, Manager::Named, argv)?;
    let mut typist = server.connect("echo").await?;
    let mut others = Vec::new();
    for _ in 1..viewers {
        let mut other = server.connect("echo").await?;
        others.push(tokio::spawn(async move {
            while other.next_text().await.is_some() {}
        }));
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut samples = Vec::new();
    for index in 0..total_keys(plan) {
        let (typed, echoed) = key(index);
        tokio::time::sleep(KEY_SPACING).await;
        let started = Instant::now();
        typist.input(&typed).await?;
        loop {
            let text = tokio::time::timeout(ptyhub::STEP, typist.next_text())
                .await?
                .context("terminado closed")?;
            if let Msg::Stdout(escaped) = wire::terminado(&text) {
                if wire::find(escaped, echoed.as_bytes()).is_some() {
                    break;
                }
            }
        }
        samples.push(started.elapsed().as_secs_f64());
    }
    for other in others {
        other.abort();
    }
    Ok(samples)
}

const SYSTEMS: [System; 4] = [
    System::Bare,
    System::Ptyhub,
    System::Tmux,
    System::Terminado,
];

/// Each configuration `plan.repeats` times; p50 and p99 per repeat, then the median
/// (min–max) of those over the repeats. "Added" subtracts the bare PTY's percentile.
pub async fn tables(plan: &Plan, failures: &mut Vec<String>) -> Vec<crate::stats::Table> {
    use crate::stats::{percentile, show, Summary, Table};
    use std::collections::HashMap;
    let mut p50: HashMap<(System, usize), Vec<f64>> = HashMap::new();
    let mut p99: HashMap<(System, usize), Vec<f64>> = HashMap::new();
    for repeat in 0..plan.repeats {
        for &viewers in &plan.echo_viewers {
            for system in SYSTEMS {
                if system == System::Bare && viewers != plan.echo_viewers[0]
                    || !plan.runs(system.name())
                {
                    continue;
                }
                let label = format!("echo {} viewers={viewers} repeat={repeat}", system.name());
                eprintln!("{label}");
                match run(plan, system, viewers).await {
                    Ok(samples) => {
                        let us: Vec<f64> = samples.iter().map(|s| s * 1e6).collect();
                        p50.entry((system, viewers))
                            .or_default()
                            .push(percentile(&us, 50.0));
                        p99.entry((system, viewers))
                            .or_default()
                            .push(percentile(&us, 99.0));
                    }
                    Err(err) => failures.push(format!("{label}: {err:#}")),
                }
            }
        }
    }
    let first = plan.echo_viewers[0];
    let get =
        |map: &HashMap<(System, usize), Vec<f64>>, key| map.get(&key).and_then(|v| Summary::of(v));
    let added = |map: &HashMap<(System, usize), Vec<f64>>, system, viewers| {
        let bare = get(map, (System::Bare, first))?;
        let values: Vec<f64> = map
            .get(&(system, viewers))?
            .iter()
            .map(|v| v - bare.median)
            .collect();
        Summary::of(&values)
    };
    let mut table = Table::new(
        "Keystroke echo: latency from key to echo, µs",
        &[
            "viewers",
            "bare PTY p50",
            "bare PTY p99",
            "ptyhub p50",
            "ptyhub p99",
            "ptyhub added p50",
            "ptyhub added p99",
            "tmux p50",
            "tmux p99",
            "tmux added p99",
            "terminado p50",
            "terminado p99",
            "terminado added p99",
        ],
    );
    for &viewers in &plan.echo_viewers {
        table.row(vec![
            viewers.to_string(),
            show(get(&p50, (System::Bare, first)), 0),
            show(get(&p99, (System::Bare, first)), 0),
            show(get(&p50, (System::Ptyhub, viewers)), 0),
            show(get(&p99, (System::Ptyhub, viewers)), 0),
            show(added(&p50, System::Ptyhub, viewers), 0),
            show(added(&p99, System::Ptyhub, viewers), 0),
            show(get(&p50, (System::Tmux, viewers)), 0),
            show(get(&p99, (System::Tmux, viewers)), 0),
            show(added(&p99, System::Tmux, viewers), 0),
            show(get(&p50, (System::Terminado, viewers)), 0),
            show(get(&p99, (System::Terminado, viewers)), 0),
            show(added(&p99, System::Terminado, viewers), 0),
        ]);
    }
    table.note(format!(
        "{} keys per repeat, {} ms apart, after a short warm-up; percentiles per repeat, then the median (min–max) over {} repeats. The bare PTY is the same echoing child on a PTY this benchmark reads directly; \"added\" subtracts its median percentile. ptyhub and terminado: a WebSocket client sends the key and reads the echo; tmux: the key is typed into a `tmux attach` client's terminal and read back from it. The other viewers read everything they are sent.",
        plan.echo_samples,
        KEY_SPACING.as_millis(),
        plan.repeats
    ));
    vec![table]
}
