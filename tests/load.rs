//! Load: 200 sessions × 5 viewers with output on all of them. No viewer
//! starves and none is skipped ahead: every one receives about as much of
//! its session's output as the session's other viewers (counts, not pace:
//! a viewer the daemon neglected would fall behind its siblings on the
//! same stream), and no viewer gets a gap. Silences and rates are printed
//! as figures, not judged.
//!
//! CI runs it for 20 s; the figures in the README come from the full run:
//! `PTYHUB_LOAD_SECONDS=60 cargo test --release --test load -- --nocapture`.

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::*;
use serde_json::json;

const SESSIONS: usize = 200;
const VIEWERS_PER_SESSION: usize = 5;
const SOCKETS: usize = 100;
/// A viewer with fewer than this share of the frames its most served sibling
/// got (same session, same stream) was starved. Siblings differ only by
/// where each socket's loop stopped reading at the deadline: a frame or two.
const FAIR_SHARE: f64 = 0.5;

fn load_duration() -> Duration {
    let seconds = std::env::var("PTYHUB_LOAD_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    Duration::from_secs(seconds)
}

/// `(utime + stime)` in seconds and RSS in bytes of a process.
fn cpu_and_rss(pid: u32) -> (f64, u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    // After the name: state is field 0, utime 11, stime 12.
    let ticks: f64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i)?.parse::<f64>().ok())
        .sum();
    let rss_pages: u64 = std::fs::read_to_string(format!("/proc/{pid}/statm"))
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0);
    (ticks / 100.0, rss_pages * 4096)
}

/// What one viewer (one attachment) lived through.
#[derive(Default)]
struct ViewerFigures {
    terminal_id: String,
    frames: u64,
    bytes: u64,
    last_frame: Option<Instant>,
    longest_silence: Duration,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_sessions_with_five_viewers_each_all_keep_receiving() {
    let daemon = Daemon::start(&format!(
        "[server]\nmax_connections = {}\n[limits]\nmax_sessions = {}\n",
        SOCKETS + 10,
        SESSIONS + 10
    ));
    let mut clients = Vec::with_capacity(SOCKETS);
    for _ in 0..SOCKETS {
        clients.push(Client::connect_ready(&daemon).await.0);
    }
    // Two sessions per socket keeps every socket under freshell's create rate.
    let mut terminals = Vec::with_capacity(SESSIONS);
    for index in 0..SESSIONS {
        let created = clients[index % SOCKETS]
            .create(json!({"mode": "claude"}))
            .await;
        terminals.push(created["terminalId"].as_str().unwrap().to_owned());
    }
    // Session s is watched by sockets s, s+1, …, s+4 (mod SOCKETS): five
    // viewers on five different sockets.
    let mut attaches: Vec<Vec<(String, String)>> = vec![Vec::new(); SOCKETS];
    for (s, terminal_id) in terminals.iter().enumerate() {
        for k in 0..VIEWERS_PER_SESSION {
            let socket = (s + k) % SOCKETS;
            let attach = clients[socket].attach(terminal_id).await;
            attaches[socket].push((terminal_id.clone(), attach));
        }
    }
    for (s, terminal_id) in terminals.iter().enumerate() {
        let client = &mut clients[s % SOCKETS];
        let attach = &attaches[s % SOCKETS]
            .iter()
            .find(|(t, _)| t == terminal_id)
            .expect("the creator watches its session")
            .1
            .clone();
        client.wait_for_text(attach, "fake> ").await;
        client.type_line(terminal_id, "chatter").await;
    }

    let daemon_pid = daemon.pid().expect("the daemon runs");
    let (cpu_before, _) = cpu_and_rss(daemon_pid);
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + load_duration();
    let mut tasks = Vec::new();
    for (mut client, mine) in clients.into_iter().zip(attaches) {
        tasks.push(tokio::spawn(async move {
            let mut figures: HashMap<String, ViewerFigures> = mine
                .iter()
                .map(|(terminal_id, attach)| {
                    let figures = ViewerFigures {
                        terminal_id: terminal_id.clone(),
                        ..ViewerFigures::default()
                    };
                    (attach.clone(), figures)
                })
                .collect();
            while tokio::time::Instant::now() < deadline {
                let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                let Some(Event::Message(message)) = client.next_event(left).await else {
                    continue;
                };
                if message["type"] != "terminal.output" {
                    continue;
                }
                let Some(figure) = message["attachRequestId"]
                    .as_str()
                    .and_then(|id| figures.get_mut(id))
                else {
                    continue;
                };
                let now = Instant::now();
                if let Some(last) = figure.last_frame {
                    figure.longest_silence = figure.longest_silence.max(now - last);
                }
                figure.last_frame = Some(now);
                figure.frames += 1;
                figure.bytes += message["data"].as_str().map_or(0, |d| d.len() as u64);
            }
            let end = Instant::now();
            for figure in figures.values_mut() {
                if let Some(last) = figure.last_frame {
                    figure.longest_silence = figure.longest_silence.max(end - last);
                }
            }
            let gaps: usize = mine
                .iter()
                .map(|(_, attach)| client.stream(attach).gaps.len())
                .sum();
            (figures, gaps)
        }));
    }
    let mut viewers = Vec::new();
    let mut gaps = 0;
    for task in tasks {
        let (figures, task_gaps) = task.await.expect("a viewer task panicked");
        viewers.extend(figures.into_values());
        gaps += task_gaps;
    }
    let elapsed = started.elapsed();
    let (cpu_after, rss) = cpu_and_rss(daemon_pid);

    let mut silences: Vec<Duration> = viewers.iter().map(|v| v.longest_silence).collect();
    silences.sort();
    let frames: u64 = viewers.iter().map(|v| v.frames).sum();
    let bytes: u64 = viewers.iter().map(|v| v.bytes).sum();
    let fewest = viewers.iter().map(|v| v.frames).min().unwrap_or(0);
    println!(
        "load: {SESSIONS} sessions × {VIEWERS_PER_SESSION} viewers over {SOCKETS} sockets for {:.0} s\n\
         frames delivered {frames} ({:.0}/s), {:.1} MB; fewest frames to one viewer {fewest}\n\
         longest silence per viewer: p50 {:?}, p99 {:?}, max {:?}; gaps {gaps}\n\
         daemon CPU {:.1} s ({:.0} % of one core), RSS {:.1} MiB",
        elapsed.as_secs_f64(),
        frames as f64 / elapsed.as_secs_f64(),
        bytes as f64 / 1e6,
        silences[silences.len() / 2],
        silences[silences.len() * 99 / 100],
        silences.last().copied().unwrap_or_default(),
        cpu_after - cpu_before,
        (cpu_after - cpu_before) / elapsed.as_secs_f64() * 100.0,
        rss as f64 / (1024.0 * 1024.0),
    );
    assert_eq!(viewers.len(), SESSIONS * VIEWERS_PER_SESSION);
    assert!(fewest > 0, "a viewer received nothing");
    assert_eq!(gaps, 0, "viewers that keep up were skipped ahead");
    let mut by_session: HashMap<&str, Vec<u64>> = HashMap::new();
    for viewer in &viewers {
        by_session
            .entry(viewer.terminal_id.as_str())
            .or_default()
            .push(viewer.frames);
    }
    for (terminal_id, frames) in by_session {
        let most = frames.iter().copied().max().unwrap_or(0);
        let least = frames.iter().copied().min().unwrap_or(0);
        assert!(
            least as f64 >= most as f64 * FAIR_SHARE,
            "a viewer of {terminal_id} starved: frames per viewer {frames:?}"
        );
    }
}
