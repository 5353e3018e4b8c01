//! What the daemon tells an operator about its sessions: `GET /metrics` (Prometheus text,
//! token required) and the accounting fields of `GET /ptyhub/api/sessions`
//! (docs/test-contract.md, "Guardrails (issue 4)").
//!
//! Accounting runs every 200 ms here so a measurement is always close; every check polls
//! with a deadline instead of assuming when the next measurement lands.

mod common;

use std::time::Duration;

use common::http::{self, api_session, api_sessions, scrape, Auth};
use common::prometheus::Scrape;
use common::*;
use serde_json::{json, Value};

const MIB: u64 = 1024 * 1024;

/// Accounting every 200 ms; nothing else changed.
const FAST_ACCOUNTING: &str = "[limits]\naccounting_interval_ms = 200\n";

/// Every family the contract documents, as it writes them.
const DOCUMENTED_FAMILIES: &[&str] = &[
    "ptyhub_sessions",
    "ptyhub_viewers",
    "ptyhub_processes",
    "ptyhub_memory_bytes",
    "ptyhub_session_memory_bytes",
    "ptyhub_detached_sessions",
    "ptyhub_detached_seconds",
    "ptyhub_sessions_without_session_ref",
    "ptyhub_processes_spawned_total",
    "ptyhub_creates_deduped_total",
    "ptyhub_creates_refused_total",
    "ptyhub_sessions_reaped_total",
    "ptyhub_viewer_skipped_bytes_total",
    "ptyhub_viewer_resyncs_total",
    "ptyhub_memory_used_bytes",
    "ptyhub_memory_budget_bytes",
    "ptyhub_limit_usage_ratio",
    "ptyhub_limit_warning",
    "ptyhub_auth_failures_total",
];

/// Scrapes until `condition` holds on a scrape; returns that scrape.
async fn scrape_until(daemon: &Daemon, what: &str, condition: impl Fn(&Scrape) -> bool) -> Scrape {
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        let scrape = scrape(daemon);
        if condition(&scrape) {
            return scrape;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out after {PATIENCE:?} waiting until {what}; last scrape: {scrape:#?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Polls the API until the record of `terminal_id` satisfies `condition`; returns it.
async fn record_until(
    daemon: &Daemon,
    terminal_id: &str,
    what: &str,
    condition: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        let record = api_session(daemon, terminal_id)
            .unwrap_or_else(|| panic!("{terminal_id} is not in /ptyhub/api/sessions"));
        if condition(&record) {
            return record;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out after {PATIENCE:?} waiting until {what}; record: {record}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The reply is exposition text that parses.
fn assert_exposition_text(reply: &http::Reply, how: &str) -> Scrape {
    assert!(
        reply.content_type.starts_with("text/plain")
            || reply
                .content_type
                .starts_with("application/openmetrics-text"),
        "GET /metrics ({how}) answers exposition text, not {:?}",
        reply.content_type
    );
    Scrape::parse(&reply.body).unwrap_or_else(|why| {
        panic!(
            "GET /metrics ({how}) is not valid Prometheus text: {why}\n{}",
            reply.body
        )
    })
}

/// A dashboard or alert written against the documented families must find them all from
/// the first scrape on, counters at 0 included: a series that appears only at its first
/// increment hides that increment from `increase()` and reads as "no data" until then.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_family_is_exposed_from_the_first_scrape() {
    let daemon = Daemon::start("");
    let reply = http::get(&daemon, "/metrics", Auth::Bearer(&daemon.token));
    assert_eq!(reply.status, 200, "GET /metrics: {reply:?}");
    let scrape = assert_exposition_text(&reply, "Bearer");
    // Per-terminal memory has no series while no terminal runs; every other family has
    // label values known from the config (providers, limits) or none at all.
    let missing: Vec<&&str> = DOCUMENTED_FAMILIES
        .iter()
        .filter(|family| **family != "ptyhub_session_memory_bytes")
        .filter(|family| !scrape.has_family(family))
        .collect();
    assert!(
        missing.is_empty(),
        "families documented in docs/test-contract.md but absent from a fresh daemon's \
         /metrics: {missing:?}\n{}",
        reply.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_need_the_token_and_describe_the_running_sessions() {
    let daemon = Daemon::start(FAST_ACCOUNTING);

    for (auth, how) in [
        (Auth::None, "no token"),
        (Auth::Bearer("not-the-token-at-all"), "a wrong bearer token"),
        (Auth::Query("not-the-token-at-all"), "a wrong ?token="),
    ] {
        let reply = http::get(&daemon, "/metrics", auth);
        assert_eq!(reply.status, 401, "GET /metrics with {how}: {reply:?}");
        assert!(
            !reply.body.contains("ptyhub_"),
            "GET /metrics with {how} must not leak metrics: {}",
            reply.body
        );
    }

    // One attached agent (with a session id) and one detached shell (without).
    let (mut client, _) = Client::connect_ready(&daemon).await;
    let agent = client.start_fake_agent().await;
    let shell = client.create(json!({"mode": "shell"})).await;
    let shell_id = shell["terminalId"].as_str().unwrap().to_owned();

    let token = daemon.token.clone();
    for (auth, how) in [
        (Auth::Bearer(&token), "Bearer"),
        (Auth::Query(&token), "?token="),
    ] {
        let reply = http::get(&daemon, "/metrics", auth);
        assert_eq!(reply.status, 200, "GET /metrics with {how}: {reply:?}");
        assert_exposition_text(&reply, how);
    }

    // Once an accounting has measured both trees, the figures describe them.
    let scrape = scrape_until(&daemon, "both sessions are measured", |s| {
        [(&agent.terminal_id, "claude"), (&shell_id, "shell")]
            .iter()
            .all(|(id, provider)| {
                s.value(
                    "ptyhub_session_memory_bytes",
                    &[
                        ("terminal_id", id.as_str()),
                        ("provider", provider),
                        ("kind", "rss"),
                    ],
                )
                .is_some_and(|bytes| bytes > 0.0)
            })
    })
    .await;
    let value = |name: &str, labels: &[(&str, &str)]| {
        scrape
            .value(name, labels)
            .unwrap_or_else(|| panic!("no sample {name}{labels:?} in {scrape:#?}"))
    };
    let claude = [("provider", "claude")];
    let shell_label = [("provider", "shell")];
    assert_eq!(
        value(
            "ptyhub_sessions",
            &[("provider", "claude"), ("status", "running")]
        ),
        1.0
    );
    assert_eq!(
        value(
            "ptyhub_sessions",
            &[("provider", "shell"), ("status", "running")]
        ),
        1.0
    );
    assert_eq!(
        value("ptyhub_viewers", &claude),
        1.0,
        "the agent is watched"
    );
    assert_eq!(
        value("ptyhub_viewers", &shell_label),
        0.0,
        "the shell is not"
    );
    assert_eq!(value("ptyhub_detached_sessions", &claude), 0.0);
    assert_eq!(value("ptyhub_detached_sessions", &shell_label), 1.0);
    assert_eq!(value("ptyhub_sessions_without_session_ref", &claude), 0.0);
    assert_eq!(
        value("ptyhub_sessions_without_session_ref", &shell_label),
        1.0,
        "a shell has no provider session id"
    );
    assert_eq!(value("ptyhub_processes_spawned_total", &claude), 1.0);
    assert_eq!(value("ptyhub_processes_spawned_total", &shell_label), 1.0);
    assert!(value("ptyhub_processes", &claude) >= 1.0);
    assert!(value("ptyhub_processes", &shell_label) >= 1.0);
    assert!(
        value(
            "ptyhub_memory_bytes",
            &[("provider", "claude"), ("kind", "rss")]
        ) > 0.0
    );
    assert!(
        value(
            "ptyhub_memory_bytes",
            &[("provider", "claude"), ("kind", "pss")]
        ) > 0.0
    );
    assert!(value("ptyhub_memory_used_bytes", &[]) > 0.0);
    assert!(
        value("ptyhub_memory_budget_bytes", &[]) > value("ptyhub_memory_used_bytes", &[]),
        "two small sessions are well inside the default budget"
    );
    assert!(value("ptyhub_detached_seconds", &[("stat", "max")]) >= 0.0);
    assert!(
        value("ptyhub_detached_seconds", &[("stat", "sum")])
            >= value("ptyhub_detached_seconds", &[("stat", "max")])
    );
    let sessions_ratio = value("ptyhub_limit_usage_ratio", &[("limit", "max_sessions")]);
    assert!(
        (sessions_ratio - 2.0 / 50.0).abs() < 1e-9,
        "2 of the default 50 sessions: {sessions_ratio}"
    );
    assert_eq!(
        value("ptyhub_limit_warning", &[("limit", "max_sessions")]),
        0.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sessions_api_reports_each_tree_and_its_memory_after_an_accounting() {
    let daemon = Daemon::start(FAST_ACCOUNTING);
    let (mut client, _) = Client::connect_ready(&daemon).await;
    let agent = client.start_fake_agent().await;
    let ledger_pid = daemon.spawns_mentioning(&agent.session_id)[0].pid;

    let record = record_until(&daemon, &agent.terminal_id, "the agent is measured", |r| {
        r["processes"].as_u64().is_some_and(|n| n >= 1)
            && r["rssBytes"].as_u64().is_some_and(|b| b > 0)
    })
    .await;
    assert_eq!(record["status"], "running", "{record}");
    assert_eq!(
        record["pid"], ledger_pid,
        "the API's pid is the agent's: {record}"
    );
    assert_eq!(record["viewers"], 1, "{record}");
    assert_eq!(
        record["detachedSince"],
        Value::Null,
        "it is watched: {record}"
    );
    assert_eq!(
        record["resumable"], false,
        "a running session is not resumable: {record}"
    );
    assert!(
        record["pssBytes"].is_null() || record["pssBytes"].as_u64().is_some_and(|b| b > 0),
        "pssBytes is a size or null where unreadable: {record}"
    );
    let rss_before = record["rssBytes"].as_u64().unwrap();
    assert!(
        rss_before < 50 * MIB,
        "the idle fake agent is far below 50 MiB: {record}"
    );

    // The agent takes 50 MiB; the next accountings see it.
    client.type_line(&agent.terminal_id, "hold 50").await;
    client.wait_for_text(&agent.attach, "HOLDING:50").await;
    let record = record_until(
        &daemon,
        &agent.terminal_id,
        "rssBytes reaches 50 MiB",
        |r| r["rssBytes"].as_u64().is_some_and(|b| b >= 50 * MIB),
    )
    .await;
    if let Some(pss) = record["pssBytes"].as_u64() {
        assert!(
            pss >= 50 * MIB,
            "the 50 MiB are private to the agent: {record}"
        );
    }
    let memory = scrape(&daemon)
        .value(
            "ptyhub_session_memory_bytes",
            &[
                ("terminal_id", &agent.terminal_id),
                ("provider", "claude"),
                ("kind", "rss"),
            ],
        )
        .expect("the agent's memory is in /metrics");
    assert!(memory >= (50 * MIB) as f64, "/metrics agrees: {memory}");

    // Nobody watches it any more: the API says since when.
    client
        .send_json(&json!({"type": "terminal.detach", "terminalId": agent.terminal_id}))
        .await;
    client
        .recv_until("terminal.detached", PATIENCE, |m| {
            m["type"] == "terminal.detached" && m["terminalId"] == agent.terminal_id
        })
        .await;
    let record = record_until(&daemon, &agent.terminal_id, "detachedSince is set", |r| {
        r["detachedSince"].is_u64()
    })
    .await;
    assert_eq!(record["viewers"], 0, "{record}");
    assert!(
        record["detachedSince"].as_u64().unwrap() >= record["createdAt"].as_u64().unwrap(),
        "{record}"
    );

    // An exited session keeps its record but no measurement.
    client
        .send_json(&json!({"type": "terminal.kill", "terminalId": agent.terminal_id}))
        .await;
    let record = record_until(&daemon, &agent.terminal_id, "the agent has exited", |r| {
        r["status"] == "exited"
    })
    .await;
    assert_eq!(
        record["rssBytes"],
        Value::Null,
        "no measurement of a dead tree: {record}"
    );
    assert_eq!(record["resumable"], true, "it has a sessionRef: {record}");
    assert_eq!(api_sessions(&daemon).len(), 1);
}

/// The daemon's own process is in `/metrics` under the names every Prometheus client uses,
/// with the figures /proc gives for the daemon's pid, and the build it runs is a series.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemons_own_process_and_its_build_are_exposed() {
    let daemon = Daemon::start("");
    let pid = daemon.pid().expect("the daemon runs");
    let scrape = scrape(&daemon);
    let value = |name: &str| {
        scrape
            .value(name, &[])
            .unwrap_or_else(|| panic!("{name} is missing"))
    };
    let threads = std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .count() as f64;
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count() as f64;
    let rss = common::procs::memory_bytes(pid).expect("the daemon's RSS") as f64;
    let threads_seen = value("process_threads");
    assert!(
        (threads_seen - threads).abs() <= 4.0,
        "process_threads {threads_seen}, /proc says {threads}"
    );
    let fds_seen = value("process_open_fds");
    assert!(
        (fds_seen - fds).abs() <= 8.0,
        "process_open_fds {fds_seen}, /proc says {fds}"
    );
    let rss_seen = value("process_resident_memory_bytes");
    assert!(
        rss_seen > rss / 2.0 && rss_seen < rss * 2.0,
        "process_resident_memory_bytes {rss_seen}, /proc says {rss}"
    );
    assert!(value("process_virtual_memory_bytes") >= rss_seen);
    assert!(value("process_max_fds") >= fds_seen);
    let cpu_seen = value("process_cpu_seconds_total");
    let cpu_after = cpu_seconds_of(pid);
    assert!(
        cpu_seen >= 0.0 && cpu_seen <= cpu_after + 0.02,
        "process_cpu_seconds_total {cpu_seen}, /proc says {cpu_after} afterwards"
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let started = value("process_start_time_seconds");
    assert!(
        started <= now + 1.0 && started > now - 600.0,
        "process_start_time_seconds {started}, now {now}"
    );
    // The build `ptyhub --version` names: `ptyhub 0.1.0 (c07e26e)`.
    let version = std::process::Command::new(env!("CARGO_BIN_EXE_ptyhub"))
        .arg("--version")
        .output()
        .unwrap();
    let version = String::from_utf8(version.stdout).unwrap();
    let revision = version
        .trim()
        .rsplit_once('(')
        .and_then(|(_, rest)| rest.strip_suffix(')'))
        .unwrap_or_else(|| panic!("no revision in {version:?}"));
    assert_eq!(
        scrape.value(
            "ptyhub_build_info",
            &[
                ("version", env!("CARGO_PKG_VERSION")),
                ("revision", revision)
            ]
        ),
        Some(1.0)
    );
}

/// utime + stime of `pid` in seconds (at the usual 100 ticks a second).
fn cpu_seconds_of(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    let ticks: f64 = [11, 12]
        .iter()
        .map(|&i| fields[i].parse::<f64>().unwrap())
        .sum();
    ticks / 100.0
}
