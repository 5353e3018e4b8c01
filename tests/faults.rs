//! Faults: children and viewers that end badly, ten thousand sockets that come and go, and a
//! daemon stopped in the middle of a flood. The daemon delivers what a dead child wrote, ends
//! what will not end, notices viewers that vanished, gives back what every connection took, and
//! leaves nothing running when it stops (freshell spec §1.4, §5.6, §10.2; README "SIGTERM").

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::http::{api_session, api_sessions};
use common::procs::{footprint, holds_tcp_connection_to_port, live_group_members};
use common::*;
use serde_json::{json, Value};

fn send_signal(pid: u32, signal: libc::c_int) {
    // SAFETY: kill(2) has no memory-safety preconditions.
    unsafe { libc::kill(pid as libc::pid_t, signal) };
}

/// The pid of a terminal's child, from `GET /ptyhub/api/sessions`.
fn child_pid(daemon: &Daemon, terminal_id: &str) -> u32 {
    let record = api_session(daemon, terminal_id).expect("the terminal is listed");
    record["pid"]
        .as_u64()
        .unwrap_or_else(|| panic!("a running terminal has a pid: {record}")) as u32
}

fn viewers(daemon: &Daemon, terminal_id: &str) -> u64 {
    let record = api_session(daemon, terminal_id).expect("the terminal is listed");
    record["viewers"]
        .as_u64()
        .unwrap_or_else(|| panic!("viewers is a count: {record}"))
}

/// Polls `condition` while reading `client` (so it keeps answering the daemon's pings), until
/// it holds; panics with `what` after [`PATIENCE`].
async fn wait_while_reading(client: &mut Client, what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !condition() {
        assert!(
            Instant::now() < deadline,
            "timed out after {PATIENCE:?} waiting until {what}"
        );
        if let Some(Event::Closed(code)) = client.next_event(Duration::from_millis(50)).await {
            panic!("the socket that kept reading was closed ({code:?}) while waiting until {what}");
        }
    }
}

// ---- a child killed mid-output ----

fn read_tally(path: &Path) -> u64 {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_child_killed_mid_output_has_every_byte_it_wrote_delivered_before_terminal_exit() {
    const BYTES_PER_SECOND: u64 = 2_000_000;
    const KILL_AFTER_LINES: u64 = 40_000;
    const LINES_PER_WRITE: u64 = 100;
    let scratch = tempfile::tempdir().unwrap();
    let tally = scratch.path().join("tally");
    // Ring and viewer queue far larger than what is written: a lossless viewer, so anything
    // missing was lost by the daemon, not skipped for a slow reader.
    let daemon = Daemon::start(&format!(
        "[sessions]\nreplay_ring_bytes = 67108864\nviewer_queue_bytes = 67108864\n\n\
         [providers.tally]\ncommand = {}\nargs = [{}, \"{BYTES_PER_SECOND}\"]\n",
        toml_string(TALLY_WRITER),
        toml_string(&tally.to_string_lossy()),
    ));
    let (mut viewer, _) = Client::connect_ready(&daemon).await;
    let terminal = viewer.create(json!({"mode": "tally"})).await["terminalId"]
        .as_str()
        .unwrap()
        .to_owned();
    let attach = viewer.attach(&terminal).await;
    let pid = child_pid(&daemon, &terminal);

    wait_while_reading(&mut viewer, "the child is well into its output", || {
        read_tally(&tally) >= KILL_AFTER_LINES
    })
    .await;
    send_signal(pid, libc::SIGKILL);
    wait_until("the child is dead", PATIENCE, || !process_is_alive(pid)).await;
    let written = read_tally(&tally);

    let exit_code = viewer.wait_for_exit(&terminal).await;
    // The harness refuses output after terminal.exit: this is everything that came before it.
    let stream = viewer.stream(&attach);
    assert!(stream.gaps.is_empty(), "no gap: {:?}", stream.gaps);
    let data = &stream.data;
    let (complete, partial) = data.split_at(data.rfind('\n').map_or(0, |at| at + 1));
    let lines = numbered_lines(complete);
    let received = lines.len() as u64;
    assert_eq!(
        lines,
        (1..=received).collect::<Vec<u64>>(),
        "every line in order, nothing else"
    );
    assert!(
        received >= written,
        "the child had written {written} lines when it was killed; {received} reached the viewer"
    );
    assert!(
        received <= written + LINES_PER_WRITE,
        "at most the one write(2) after the last tally: {received} lines vs a tally of {written}"
    );
    assert!(
        format!("line {}\r\n", received + 1).starts_with(partial),
        "what follows the last line is the start of the next one: {partial:?}"
    );
    println!(
        "killed mid-output: tally {written} lines, viewer got {received} lines (+{} bytes of the next) before terminal.exit {{exitCode: {exit_code}}}",
        partial.len()
    );
}

// ---- a child that will not die ----

/// `STUBBORN leader=<pid> grandchild=<pid> pgid=<pgid>`, from the fixture's first line.
fn stubborn_pids(output: &str) -> (u32, u32, u32) {
    let line = output
        .lines()
        .find(|l| l.starts_with("STUBBORN "))
        .unwrap_or_else(|| panic!("no STUBBORN line in {output:?}"));
    let field = |name: &str| -> u32 {
        line.split_whitespace()
            .find_map(|word| word.strip_prefix(name)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {line:?}"))
    };
    (field("leader="), field("grandchild="), field("pgid="))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_ends_a_child_that_ignores_hangup_and_terminate_with_its_whole_process_group() {
    let daemon = Daemon::start(&format!(
        "[sessions]\nkill_grace_ms = 600\n\n[providers.stubborn]\ncommand = {}\n",
        toml_string(STUBBORN)
    ));
    let (mut viewer, _) = Client::connect_ready(&daemon).await;
    let terminal = viewer.create(json!({"mode": "stubborn"})).await["terminalId"]
        .as_str()
        .unwrap()
        .to_owned();
    let attach = viewer.attach(&terminal).await;
    viewer.wait_for_text(&attach, "pgid=").await;
    viewer.wait_for_text(&attach, "\n").await;
    let (leader, grandchild, pgid) = stubborn_pids(&viewer.stream(&attach).data);
    assert_eq!(pgid, leader, "the child leads its own process group");
    assert_eq!(child_pid(&daemon, &terminal), leader);
    let mut group = live_group_members(pgid);
    group.sort_unstable();
    let mut expected = vec![leader, grandchild];
    expected.sort_unstable();
    assert_eq!(group, expected, "the leader and its grandchild run");

    viewer
        .send_json(&json!({"type": "terminal.kill", "terminalId": terminal}))
        .await;
    let exit_code = viewer.wait_for_exit(&terminal).await;
    wait_until("nothing of the process group survives", PATIENCE, || {
        live_group_members(pgid).is_empty()
    })
    .await;
    assert!(!process_is_alive(leader) && !process_is_alive(grandchild));
    assert!(
        daemon.live_descendants().is_empty(),
        "nothing the daemon started still runs: {:?}",
        daemon.live_descendants()
    );
    let record = api_session(&daemon, &terminal).expect("a killed terminal is remembered");
    assert_eq!(record["status"], "exited", "{record}");
    println!("stubborn child and grandchild ended by terminal.kill; exitCode {exit_code}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_leaves_nothing_of_the_process_group_even_when_its_leader_exits_first() {
    // The leader dies of the first SIGHUP. A member of its group started in the background
    // with its output elsewhere (as an agent starts an MCP or dev server) ignores SIGHUP and
    // SIGTERM and does not hold the terminal, so the session ends while it still runs.
    let daemon = Daemon::start(
        r#"
[sessions]
kill_grace_ms = 600

[providers.leaky]
command = "/bin/sh"
args = ["-c", "(trap '' HUP TERM; exec sleep 1000) </dev/null >/dev/null 2>&1 & echo BACKGROUND $!; exec cat"]
"#,
    );
    let (mut viewer, _) = Client::connect_ready(&daemon).await;
    let terminal = viewer.create(json!({"mode": "leaky"})).await["terminalId"]
        .as_str()
        .unwrap()
        .to_owned();
    let attach = viewer.attach(&terminal).await;
    viewer.wait_for_text(&attach, "BACKGROUND ").await;
    let pgid = child_pid(&daemon, &terminal);
    assert_eq!(
        live_group_members(pgid).len(),
        2,
        "the leader and its background job"
    );

    viewer
        .send_json(&json!({"type": "terminal.kill", "terminalId": terminal}))
        .await;
    viewer.wait_for_exit(&terminal).await;
    wait_until(
        "nothing of the killed terminal's process group survives",
        PATIENCE,
        || live_group_members(pgid).is_empty(),
    )
    .await;
}

// ---- viewers that vanish ----

/// Pings every 500 ms, so a viewer that does not answer is gone within two ticks; room for two
/// sockets only, so a connection the daemon fails to give back locks the next one out (4003).
const QUICK_PINGS_TWO_SOCKETS: &str = "[server]\nping_interval_ms = 500\nmax_connections = 2\n";

/// The steady viewer, read in the background so that it answers every ping whatever the test
/// does meanwhile: with pings this frequent, a pause in reading would get it dropped too.
struct Steady {
    stop: tokio::sync::oneshot::Sender<()>,
    reader: tokio::task::JoinHandle<Client>,
}

impl Steady {
    fn keep_reading(mut client: Client) -> Steady {
        let (stop, mut stopped) = tokio::sync::oneshot::channel();
        let reader = tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = &mut stopped => return client,
                    event = client.next_event(Duration::from_millis(100)) => {
                        if let Some(Event::Closed(code)) = event {
                            panic!("the daemon closed the steady viewer's socket ({code:?})");
                        }
                    }
                }
            }
        });
        Steady { stop, reader }
    }

    /// Stops the background reading and gives the client back.
    async fn stop(self) -> Client {
        let _ = self.stop.send(());
        self.reader
            .await
            .expect("the steady viewer stayed connected")
    }
}

/// A daemon whose fake agent is watched by one steady viewer.
async fn watched_session(config: &str) -> (Daemon, Client, FakeAgent) {
    let daemon = Daemon::start(config);
    let (mut steady, _) = Client::connect_ready(&daemon).await;
    let agent = steady.start_fake_agent().await;
    assert_eq!(viewers(&daemon, &agent.terminal_id), 1);
    (daemon, steady, agent)
}

/// Says hello on new sockets until one is let in: a socket refused for want of a connection
/// slot (4003) is retried, since the slot of a connection that just closed may take a moment
/// to come free.
async fn newcomer_gets_in(daemon: &Daemon) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let mut newcomer = Client::connect(daemon).await;
        newcomer
            .send_json(&json!({"type": "hello", "protocolVersion": 7, "token": daemon.token}))
            .await;
        match newcomer.next_event(PATIENCE).await {
            Some(Event::Message(m)) if m["type"] == "ready" => return newcomer.close().await,
            Some(Event::Closed(Some(4003))) => assert!(
                Instant::now() < deadline,
                "no connection slot came free: new sockets are still refused with 4003"
            ),
            other => panic!("unexpected answer to a newcomer's hello: {other:?}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Connects another viewer of `terminal_id` (on a connection with a small receive window
/// when `small_window`, so that the daemon's writes to it soon block once it stops reading)
/// and waits until the API counts it.
async fn another_viewer(daemon: &Daemon, terminal_id: &str, small_window: bool) -> Client {
    let before = viewers(daemon, terminal_id);
    let mut viewer = if small_window {
        Client::connect_with_small_receive_buffer(daemon, 4096).await
    } else {
        Client::connect(daemon).await
    };
    viewer.hello().await;
    viewer.attach(terminal_id).await;
    wait_until("the API counts one more viewer", PATIENCE, || {
        viewers(daemon, terminal_id) == before + 1
    })
    .await;
    viewer
}

/// The vanished viewer of `terminal_id` is no longer counted, the daemon has closed its
/// connection (and so given back its connection slot: a new socket gets in), and the steady
/// viewer, still connected, still sees its terminal echo.
async fn assert_dropped(
    daemon: &Daemon,
    steady: Steady,
    agent: &FakeAgent,
    terminal_id: &str,
    viewers_before: u64,
    vanished_port: u16,
) {
    wait_until("the vanished viewer is no longer counted", PATIENCE, || {
        viewers(daemon, terminal_id) == viewers_before
    })
    .await;
    let pid = daemon.pid().unwrap();
    wait_until(
        "the daemon has closed the vanished viewer's connection",
        PATIENCE,
        || !holds_tcp_connection_to_port(pid, vanished_port),
    )
    .await;
    newcomer_gets_in(daemon).await;
    let mut steady = steady.stop().await;
    let word = fresh_id("still");
    steady
        .type_line(&agent.terminal_id, &format!("echo {word}"))
        .await;
    steady
        .wait_for_text(&agent.attach, &format!("ECHO:{word}"))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_viewer_that_never_answers_pings_is_dropped() {
    let (daemon, steady, agent) = watched_session(QUICK_PINGS_TWO_SOCKETS).await;
    let steady = Steady::keep_reading(steady);
    let frozen = another_viewer(&daemon, &agent.terminal_id, false).await;
    let port = frozen.local_port();
    // From here on nobody reads `frozen`: the kernel keeps its connection open, but the
    // daemon's pings go unanswered, as with a stopped process or a sleeping laptop.
    assert_dropped(&daemon, steady, &agent, &agent.terminal_id, 1, port).await;
    drop(frozen);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_whose_connection_is_reset_without_a_close_frame_is_dropped() {
    let (daemon, steady, agent) = watched_session(QUICK_PINGS_TWO_SOCKETS).await;
    let steady = Steady::keep_reading(steady);
    let vanishing = another_viewer(&daemon, &agent.terminal_id, false).await;
    let port = vanishing.local_port();
    vanishing.abort();
    assert_dropped(&daemon, steady, &agent, &agent.terminal_id, 1, port).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_viewer_of_a_flooding_session_is_dropped_too() {
    let scratch = tempfile::tempdir().unwrap();
    let tally = scratch.path().join("tally");
    let config = format!(
        "{QUICK_PINGS_TWO_SOCKETS}\n[providers.tally]\ncommand = {}\nargs = [{}, \"2000000\"]\n",
        toml_string(TALLY_WRITER),
        toml_string(&tally.to_string_lossy()),
    );
    let (daemon, mut steady, agent) = watched_session(&config).await;
    // The flood runs unwatched until the frozen viewer comes.
    let flood = steady.create(json!({"mode": "tally"})).await["terminalId"]
        .as_str()
        .unwrap()
        .to_owned();
    let steady = Steady::keep_reading(steady);
    let frozen = another_viewer(&daemon, &flood, true).await;
    let port = frozen.local_port();
    // Nobody reads `frozen` from here on, while the flood goes on.
    assert_dropped(&daemon, steady, &agent, &flood, 0, port).await;
    drop(frozen);
}

// ---- ten thousand sockets ----

/// `count` connections, each saying hello (and validating ready and the inventory) and then
/// closing with a close frame, spread over `tasks` concurrent tasks.
async fn connect_and_close(daemon: &Arc<Daemon>, count: usize, tasks: usize) {
    let handles: Vec<_> = (0..tasks)
        .map(|task| {
            let daemon = Arc::clone(daemon);
            let share = count / tasks + usize::from(task < count % tasks);
            tokio::spawn(async move {
                for _ in 0..share {
                    let (client, _) = Client::connect_ready(&daemon).await;
                    client.close().await;
                }
            })
        })
        .collect();
    for handle in handles {
        handle.await.expect("a connect/close task panicked");
    }
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_connects_and_disconnects_leave_no_descriptors_threads_or_memory_behind() {
    const CYCLES: usize = 10_000;
    const TASKS: usize = 32;
    const WARM_UP: usize = 500;
    /// Descriptors and threads may differ by a few (a timer, a blocking-pool thread), never by
    /// one per connection; memory by allocator slack, never by a per-connection leak (10 000
    /// leaked KiB would be 10 MiB).
    const FD_SLACK: usize = 2;
    const THREAD_SLACK: usize = 4;
    const RSS_SLACK_BYTES: u64 = 8 << 20;
    let daemon = Arc::new(Daemon::start(""));
    let pid = daemon.pid().unwrap();
    // A running terminal, so that every handshake has something to list.
    let (mut first, _) = Client::connect_ready(&daemon).await;
    let agent = first.start_fake_agent().await;
    let first_port = first.local_port();
    first.close().await;
    wait_until("the first connection is released", PATIENCE, || {
        !holds_tcp_connection_to_port(pid, first_port)
    })
    .await;
    // Descriptors with no socket connected: the figure every later one returns to.
    let idle_fds = footprint(pid).unwrap().fds;

    // Whatever the runtime and the allocator set up once is set up before measuring.
    connect_and_close(&daemon, WARM_UP, TASKS).await;
    wait_until("the warm-up connections are released", PATIENCE, || {
        footprint(pid).is_some_and(|f| f.fds <= idle_fds)
    })
    .await;
    let before = footprint(pid).unwrap();

    let started = Instant::now();
    connect_and_close(&daemon, CYCLES, TASKS).await;
    let elapsed = started.elapsed();
    let just_after = footprint(pid).unwrap();
    wait_until(
        "descriptors and threads are back to what they were",
        PATIENCE,
        || {
            footprint(pid).is_some_and(|f| {
                f.fds <= before.fds + FD_SLACK && f.threads <= before.threads + THREAD_SLACK
            })
        },
    )
    .await;
    let after = footprint(pid).unwrap();

    println!(
        "{CYCLES} connect/hello/close cycles in {TASKS} tasks: {:.1} s ({:.0} per second)",
        elapsed.as_secs_f64(),
        CYCLES as f64 / elapsed.as_secs_f64()
    );
    println!("  daemon pid {pid}     before   just after   settled");
    println!(
        "  open fds          {:>8} {:>12} {:>9}",
        before.fds, just_after.fds, after.fds
    );
    println!(
        "  threads           {:>8} {:>12} {:>9}",
        before.threads, just_after.threads, after.threads
    );
    println!(
        "  RSS (MiB)         {:>8.1} {:>12.1} {:>9.1}",
        mib(before.rss_bytes),
        mib(just_after.rss_bytes),
        mib(after.rss_bytes)
    );
    assert!(
        after.rss_bytes <= before.rss_bytes + RSS_SLACK_BYTES,
        "RSS grew from {:.1} MiB to {:.1} MiB over {CYCLES} connections",
        mib(before.rss_bytes),
        mib(after.rss_bytes)
    );

    // And it still serves, the terminal included.
    let (mut last, handshake) = Client::connect_ready(&daemon).await;
    assert!(handshake.terminal(&agent.terminal_id).is_some());
    let attach = last.attach(&agent.terminal_id).await;
    last.type_line(&agent.terminal_id, "echo after-ten-thousand")
        .await;
    last.wait_for_text(&attach, "ECHO:after-ten-thousand").await;
}

// ---- SIGTERM ----

/// Every running terminal's child and process group, from the API.
fn running_children(daemon: &Daemon) -> Vec<u32> {
    api_sessions(daemon)
        .iter()
        .filter(|r| r["status"] == "running")
        .filter_map(|r| r["pid"].as_u64().map(|p| p as u32))
        .collect()
}

fn state_file(daemon: &Daemon) -> Value {
    let path = daemon.state_dir.join("sessions.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{} is readable: {e}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is JSON ({e}):\n{text}", path.display()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_flood_hangs_up_every_child_and_leaves_an_intact_state_file() {
    // claude floods forever (`yes` repeating its own argv, session id included); the shell
    // floods too, with no session to remember.
    let daemon = Daemon::start(
        r#"
[providers.claude]
command = "/bin/sh"
args = ["-c", "exec yes \"claude flood $1 $2\"", "flood"]

[providers.shell]
command = "/bin/sh"
args = ["-c", "exec yes 'shell flood, no session'"]
"#,
    );
    let (mut viewer, _) = Client::connect_ready(&daemon).await;
    let claude = viewer.create(json!({"mode": "claude"})).await;
    let claude_terminal = claude["terminalId"].as_str().unwrap().to_owned();
    let session_id = claude["sessionRef"]["sessionId"]
        .as_str()
        .unwrap()
        .to_owned();
    let shell = viewer.create(json!({"mode": "shell"})).await;
    let shell_terminal = shell["terminalId"].as_str().unwrap().to_owned();
    let attach = viewer.attach(&claude_terminal).await;
    viewer.wait_for_text(&attach, &session_id).await;
    let groups = running_children(&daemon);
    assert_eq!(groups.len(), 2, "both floods run");

    daemon.signal(libc::SIGTERM);
    let close_code = loop {
        match viewer.next_event(PATIENCE).await {
            Some(Event::Message(_)) => {}
            Some(Event::Closed(code)) => break code,
            None => panic!("the socket stayed open after SIGTERM"),
        }
    };
    assert_eq!(
        close_code,
        Some(4009),
        "sockets are closed as 'server shutting down'"
    );
    let daemon_pid = daemon.pid().unwrap();
    wait_until("the daemon exited", PATIENCE, || {
        !process_is_alive(daemon_pid)
    })
    .await;
    wait_until(
        "no child or anything in its process group survives",
        PATIENCE,
        || {
            groups
                .iter()
                .all(|&pgid| live_group_members(pgid).is_empty())
        },
    )
    .await;
    assert!(
        daemon.live_descendants().is_empty(),
        "nothing the daemon started runs: {:?}",
        daemon.live_descendants()
    );

    let state = state_file(&daemon);
    let sessions = state["sessions"]
        .as_array()
        .unwrap_or_else(|| panic!("sessions.json lists sessions: {state}"));
    let listed = sessions
        .iter()
        .find(|s| s["terminalId"] == claude_terminal.as_str())
        .unwrap_or_else(|| panic!("the flooding claude session is remembered: {state}"));
    assert_eq!(listed["provider"], "claude", "{listed}");
    assert_eq!(listed["sessionId"], session_id.as_str(), "{listed}");
    assert!(
        sessions
            .iter()
            .all(|s| s["terminalId"] != shell_terminal.as_str()),
        "a session without a sessionRef is not remembered: {state}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_with_the_default_kill_grace_leaves_no_stubborn_child_behind() {
    let daemon = Daemon::start(&format!(
        "[sessions]\nkill_grace_ms = 3000\n\n[providers.stubborn]\ncommand = {}\n",
        toml_string(STUBBORN)
    ));
    let (mut viewer, _) = Client::connect_ready(&daemon).await;
    let terminal = viewer.create(json!({"mode": "stubborn"})).await["terminalId"]
        .as_str()
        .unwrap()
        .to_owned();
    let attach = viewer.attach(&terminal).await;
    viewer.wait_for_text(&attach, "pgid=").await;
    let pgid = child_pid(&daemon, &terminal);
    assert_eq!(
        live_group_members(pgid).len(),
        2,
        "leader and grandchild run"
    );

    daemon.signal(libc::SIGTERM);
    let daemon_pid = daemon.pid().unwrap();
    wait_until("the daemon exited", PATIENCE, || {
        !process_is_alive(daemon_pid)
    })
    .await;
    let survivors = live_group_members(pgid);
    assert!(
        survivors.is_empty(),
        "the daemon exited and left {survivors:?} of the stubborn terminal's group running"
    );
}

/// A panic in one socket's code or in one session's output path stays there: the daemon,
/// the other sockets and the session itself go on (issue 14: a crash is not an upgrade).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_in_one_socket_or_one_session_stays_there() {
    // The marker is what the fake agent prints for `echo PANIC-…`, so typing that command
    // (which the terminal echoes as typed) does not carry it; only the agent's output does.
    let panic_word = format!("PANIC-{}", uuid::Uuid::new_v4().simple());
    let marker = format!("ECHO:{panic_word}");
    let daemon = Daemon::start_with_env("", &[("PTYHUB_TEST_PANIC_MARKER", &marker)]);
    let daemon_pid = daemon.pid().unwrap();
    let mut doomed = Client::connect(&daemon).await;
    doomed.hello().await;
    let mut other = Client::connect(&daemon).await;
    other.hello().await;
    let agent = other.start_fake_agent().await;
    let watched = doomed.attach(&agent.terminal_id).await;
    doomed.wait_for_text(&watched, "fake> ").await;

    // A socket's code panics: that socket goes, nothing else does.
    doomed
        .send_json(&json!({
            "type": "terminal.input",
            "terminalId": agent.terminal_id,
            "data": format!("{marker}\r"),
        }))
        .await;
    let (_, _) = doomed.recv_until_closed(PATIENCE).await;
    assert!(
        process_is_alive(daemon_pid),
        "the daemon went down with one socket"
    );
    other
        .type_line(&agent.terminal_id, "echo after-socket-panic")
        .await;
    other
        .wait_for_text(&agent.attach, "ECHO:after-socket-panic")
        .await;

    // The session's output path panics on one read: the session reads on.
    other
        .type_line(&agent.terminal_id, &format!("echo {panic_word}"))
        .await;
    wait_until("the caught panic is logged", PATIENCE, || {
        daemon
            .log()
            .contains("a panic on the session's output path was caught")
    })
    .await;
    let from = other.stream(&agent.attach).data.len();
    other
        .type_line(&agent.terminal_id, "echo after-output-panic")
        .await;
    other
        .wait_for_text_from(&agent.attach, from, "ECHO:after-output-panic")
        .await;
    assert!(process_is_alive(daemon_pid));
    // A new socket is served as ever.
    let (mut late, _) = Client::connect_ready(&daemon).await;
    let attach = late.attach(&agent.terminal_id).await;
    late.wait_for_text(&attach, "ECHO:after-output-panic").await;
}
