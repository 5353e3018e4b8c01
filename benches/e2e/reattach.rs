//! Measure 2, reattach: a session has written N lines of history and sits idle; a new
//! viewer attaches. Per attach: the time until its screen is complete (the marker on the
//! bottom line has arrived) and the bytes it was sent.
//!
//! Where the clock starts: ptyhub, at `terminal.attach` on a socket past hello; terminado,
//! at the WebSocket connect (opening the socket is its attach); tmux, at spawning
//! `tmux attach` (a client process is how tmux attaches), which adds the client's start-up.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::child::history_marker;
use crate::ptyhub::{self, Daemon, Provider};
use crate::terminado::{Manager, Terminado};
use crate::tmux::Tmux;
use crate::wire::{self, Ptyhub, Terminado as Msg};
use crate::{Plan, System};

/// One attach: seconds to a complete screen, and bytes sent.
#[derive(Clone, Copy, Debug)]
pub struct Attach {
    pub seconds: f64,
    pub bytes: u64,
}

/// How long writing the history may take (a million lines into tmux takes a while).
const HISTORY_DEADLINE: Duration = Duration::from_secs(600);

fn history_argv(plan: &Plan, lines: usize, dir: &Path) -> Vec<String> {
    vec![
        plan.exe.to_string_lossy().into_owned(),
        "--child".into(),
        "history".into(),
        lines.to_string(),
        ptyhub::path_arg(dir, "report.json"),
    ]
}

async fn wait_for_report(dir: &Path) -> anyhow::Result<()> {
    let deadline = Instant::now() + HISTORY_DEADLINE;
    while !dir.join("report.json").exists() {
        anyhow::ensure!(Instant::now() < deadline, "history writer did not finish");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// Polls `probe` until it is true (the system has taken in all the history).
async fn wait_until(what: &str, mut probe: impl AsyncFnMut() -> bool) -> anyhow::Result<()> {
    let deadline = Instant::now() + HISTORY_DEADLINE;
    while !probe().await {
        anyhow::ensure!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

pub async fn run(plan: &Plan, system: System, lines: usize) -> anyhow::Result<Vec<Attach>> {
    let dir = tempfile::Builder::new()
        .prefix("ptyhub-bench-reattach-")
        .tempdir()?;
    let argv = history_argv(plan, lines, dir.path());
    let marker = history_marker(lines);
    match system {
        System::Ptyhub => ptyhub_attaches(plan, &argv, dir.path(), &marker).await,
        System::Tmux => tmux_attaches(plan, &argv, dir.path(), &marker, lines).await,
        System::Terminado => terminado_attaches(plan, &argv, dir.path(), &marker).await,
        System::Bare => anyhow::bail!("a bare PTY keeps no history"),
    }
}

async fn ptyhub_attaches(
    plan: &Plan,
    argv: &[String],
    dir: &Path,
    marker: &str,
) -> anyhow::Result<Vec<Attach>> {
    let daemon = Daemon::start(&[Provider::from_argv("history", argv)])?;
    let mut control = daemon.connect().await?;
    let terminal_id = control.create("history").await?;
    wait_for_report(dir).await?;
    wait_until("ptyhub's screen shows the marker", async || {
        daemon
            .screen_text(&terminal_id)
            .await
            .is_ok_and(|screen| screen.contains(marker))
    })
    .await?;
    let mut attaches = Vec::new();
    for _ in 0..plan.reattach_samples {
        let mut client = daemon.connect().await?;
        let bytes_before = client.wire_bytes;
        let started = Instant::now();
        client.send_attach(&terminal_id).await?;
        let ready = client.until_type("terminal.attach.ready").await?;
        let last_seq = ready["replayToSeq"].as_u64().context("replayToSeq")?;
        let mut saw_marker = false;
        loop {
            let text = tokio::time::timeout(ptyhub::STEP, client.next_text())
                .await?
                .context("socket closed during replay")?;
            if let Ptyhub::Output { seq, escaped } = wire::ptyhub(&text) {
                saw_marker |= wire::find(escaped, marker.as_bytes()).is_some();
                if seq >= last_seq {
                    break;
                }
            }
        }
        anyhow::ensure!(saw_marker, "the replay ended without the marker line");
        attaches.push(Attach {
            seconds: started.elapsed().as_secs_f64(),
            bytes: client.wire_bytes - bytes_before,
        });
    }
    Ok(attaches)
}

async fn tmux_attaches(
    plan: &Plan,
    argv: &[String],
    dir: &Path,
    marker: &str,
    lines: usize,
) -> anyhow::Result<Vec<Attach>> {
    let tmux = Tmux::start(argv, lines + 1000)?;
    wait_for_report(dir).await?;
    wait_until("tmux's pane shows the marker", async || {
        tmux.capture().is_ok_and(|screen| screen.contains(marker))
    })
    .await?;
    let mut attaches = Vec::new();
    for _ in 0..plan.reattach_samples {
        let started = Instant::now();
        let client = tmux.attach_client()?;
        anyhow::ensure!(
            client.wait_for(marker.as_bytes(), ptyhub::STEP).await,
            "tmux attach never drew the marker"
        );
        attaches.push(Attach {
            seconds: started.elapsed().as_secs_f64(),
            bytes: client.bytes(),
        });
        drop(client);
    }
    Ok(attaches)
}

async fn terminado_attaches(
    plan: &Plan,
    argv: &[String],
    dir: &Path,
    marker: &str,
) -> anyhow::Result<Vec<Attach>> {
    let python = plan
        .terminado
        .as_ref()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let server = Terminado::start(python, Manager::Named, argv)?;
    // The first socket starts the terminal; it keeps reading so terminado never buffers.
    let mut first = server.connect("history").await?;
    let marker_owned = marker.to_owned();
    let (seen_tx, seen_rx) = tokio::sync::oneshot::channel();
    let drain = tokio::spawn(async move {
        let mut seen_tx = Some(seen_tx);
        while let Some(text) = first.next_text().await {
            if let Msg::Stdout(escaped) = wire::terminado(&text) {
                if wire::find(escaped, marker_owned.as_bytes()).is_some() {
                    if let Some(tx) = seen_tx.take() {
                        let _ = tx.send(());
                    }
                }
            }
        }
    });
    wait_for_report(dir).await?;
    tokio::time::timeout(HISTORY_DEADLINE, seen_rx)
        .await
        .context("terminado never sent the marker")??;
    let mut attaches = Vec::new();
    for _ in 0..plan.reattach_samples {
        let started = Instant::now();
        let mut client = server.connect("history").await?;
        let mut bytes = 0u64;
        loop {
            let text = tokio::time::timeout(ptyhub::STEP, client.next_text())
                .await?
                .context("terminado closed during replay")?;
            bytes += text.len() as u64;
            if let Msg::Stdout(escaped) = wire::terminado(&text) {
                if wire::find(escaped, marker.as_bytes()).is_some() {
                    break;
                }
            }
        }
        attaches.push(Attach {
            seconds: started.elapsed().as_secs_f64(),
            bytes,
        });
    }
    drain.abort();
    Ok(attaches)
}

const SYSTEMS: [System; 3] = [System::Ptyhub, System::Tmux, System::Terminado];

/// Builds one history per system and size, reattaches `plan.reattach_samples` times to it,
/// and tabulates the median (min–max) over those attaches.
pub async fn tables(plan: &Plan, failures: &mut Vec<String>) -> Vec<crate::stats::Table> {
    use crate::stats::{ratio, show, Summary, Table, KIB};
    let mut table = Table::new(
        "Reattach: time from attach to a complete screen, and bytes sent",
        &[
            "history lines",
            "ptyhub ms",
            "ptyhub KiB",
            "tmux ms",
            "tmux KiB",
            "terminado ms",
            "terminado KiB",
            "ptyhub ÷ tmux",
            "ptyhub ÷ terminado",
            "ptyhub ÷ ptyhub at the smallest history",
        ],
    );
    let mut smallest: Option<Summary> = None;
    for &lines in &plan.history_lines {
        let mut cells = vec![lines.to_string()];
        let mut times = Vec::new();
        for system in SYSTEMS {
            if !plan.runs(system.name()) {
                cells.extend(["–".to_owned(), "–".to_owned()]);
                times.push(None);
                continue;
            }
            eprintln!("reattach {} lines={lines}", system.name());
            let result = run(plan, system, lines).await;
            let (time, bytes) = match result {
                Ok(attaches) => {
                    let ms: Vec<f64> = attaches.iter().map(|a| a.seconds * 1000.0).collect();
                    let kib: Vec<f64> = attaches.iter().map(|a| a.bytes as f64 / KIB).collect();
                    (Summary::of(&ms), Summary::of(&kib))
                }
                Err(err) => {
                    failures.push(format!("reattach {} lines={lines}: {err:#}", system.name()));
                    (None, None)
                }
            };
            cells.push(show(time, 2));
            cells.push(show(bytes, 1));
            times.push(time);
        }
        if smallest.is_none() {
            smallest = times[0];
        }
        cells.push(ratio(times[0], times[1]));
        cells.push(ratio(times[0], times[2]));
        cells.push(ratio(times[0], smallest));
        table.row(cells);
    }
    table.note(format!(
        "Median of {} attaches to one history (min–max). Each line of history is about 73 bytes of coloured text. ptyhub's clock starts at `terminal.attach` on a socket past hello; terminado's at the WebSocket connect (opening the socket is its attach; the handshake is well under a millisecond on loopback); tmux's at spawning `tmux attach`, which includes starting the client process. Complete = the marker on the screen's bottom line has arrived (ptyhub: and the replay's last seq).",
        plan.reattach_samples
    ));
    vec![table]
}
