//! The attackers of the flood measure (`flood.rs`), each a process of its own: this same
//! binary started as `e2e --attacker <role> <port> <connections> <status-file>`. One process
//! may hold only as many descriptors as its hard limit (20 000 on the machine this was
//! written on), so the 20 000 idle connections are spread over several.
//!
//! Every role keeps its number of connections up: when the daemon closes one (evicted, a
//! deadline), it connects again at once, as an attacker who wants to hold the daemon would.
//! - `idle`: connects and sends nothing.
//! - `slow`: sends a request line and then one header line every 5 s, never ending the head
//!   (the slow headers).
//! - `silent`: opens a WebSocket and never says hello.
//!
//! Twice a second it writes what it holds to the status file:
//! `{"role", "target", "open", "connects", "closedByDaemon", "connectErrors"}`. It runs until
//! it is killed.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The slow-header pace: one header line every 5 s.
const SLOW_HEADER_INTERVAL: Duration = Duration::from_secs(5);

/// After a failed connect (the listen queue full, ports short), wait this long: failing
/// faster only burns the CPU the daemon also needs.
const RETRY_AFTER_ERROR: Duration = Duration::from_millis(20);

#[derive(Default)]
struct Counters {
    open: AtomicU64,
    connects: AtomicU64,
    closed_by_daemon: AtomicU64,
    connect_errors: AtomicU64,
}

#[derive(Clone, Copy)]
enum Role {
    Idle,
    Slow,
    Silent,
}

/// Runs an attacker role; `args` are the arguments after `--attacker`.
pub fn run(args: &[String]) -> anyhow::Result<()> {
    let [role, port, connections, status] = args else {
        anyhow::bail!("usage: --attacker idle|slow|silent <port> <connections> <status-file>");
    };
    let role = match role.as_str() {
        "idle" => Role::Idle,
        "slow" => Role::Slow,
        "silent" => Role::Silent,
        other => anyhow::bail!("unknown attacker role {other:?}"),
    };
    let port: u16 = port.parse()?;
    let connections: usize = connections.parse()?;
    raise_descriptor_limit();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let counters = Arc::new(Counters::default());
    runtime.block_on(async {
        // The report first: once thousands of connections cycle, a task queued behind them
        // waits long for its turn.
        tokio::spawn(report_forever(
            args[0].clone(),
            connections,
            PathBuf::from(status),
            Arc::clone(&counters),
        ));
        for _ in 0..connections {
            tokio::spawn(hold_one(role, port, Arc::clone(&counters)));
        }
        std::future::pending::<()>().await;
    });
    Ok(())
}

async fn report_forever(role: String, target: usize, path: PathBuf, counters: Arc<Counters>) {
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    loop {
        tick.tick().await;
        let status = serde_json::json!({
            "role": role,
            "target": target,
            "open": counters.open.load(Ordering::Relaxed),
            "connects": counters.connects.load(Ordering::Relaxed),
            "closedByDaemon": counters.closed_by_daemon.load(Ordering::Relaxed),
            "connectErrors": counters.connect_errors.load(Ordering::Relaxed),
        });
        let tmp = path.with_extension("tmp");
        if std::fs::write(&tmp, status.to_string()).is_ok() {
            let _ = std::fs::rename(&tmp, &path);
        }
    }
}

/// Keeps one connection of `role` open, reconnecting whenever the daemon closes it.
async fn hold_one(role: Role, port: u16, counters: Arc<Counters>) {
    loop {
        let held = match role {
            Role::Idle | Role::Slow => match TcpStream::connect(("127.0.0.1", port)).await {
                Ok(tcp) => {
                    counters.connects.fetch_add(1, Ordering::Relaxed);
                    counters.open.fetch_add(1, Ordering::Relaxed);
                    match role {
                        Role::Slow => slow_headers(tcp, port).await,
                        _ => until_closed(tcp).await,
                    }
                    true
                }
                Err(_) => false,
            },
            Role::Silent => {
                let url = format!("ws://127.0.0.1:{port}/ws");
                match tokio_tungstenite::connect_async(url).await {
                    Ok((mut socket, _)) => {
                        counters.connects.fetch_add(1, Ordering::Relaxed);
                        counters.open.fetch_add(1, Ordering::Relaxed);
                        while let Some(Ok(_)) = socket.next().await {}
                        true
                    }
                    Err(_) => false,
                }
            }
        };
        if held {
            counters.open.fetch_sub(1, Ordering::Relaxed);
            counters.closed_by_daemon.fetch_add(1, Ordering::Relaxed);
        } else {
            counters.connect_errors.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(RETRY_AFTER_ERROR).await;
        }
    }
}

/// Reads until the daemon closes the connection (it never sends anything to an idle one).
async fn until_closed(mut tcp: TcpStream) {
    let mut buffer = [0u8; 512];
    while let Ok(read) = tcp.read(&mut buffer).await {
        if read == 0 {
            return;
        }
    }
}

/// A head that never ends: a request line, then a header line every 5 s.
async fn slow_headers(mut tcp: TcpStream, port: u16) {
    let start = format!("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n");
    if tcp.write_all(start.as_bytes()).await.is_err() {
        return;
    }
    let mut buffer = [0u8; 512];
    for line in 0u64.. {
        tokio::select! {
            read = tcp.read(&mut buffer) => match read {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            },
            () = tokio::time::sleep(SLOW_HEADER_INTERVAL) => {
                if tcp.write_all(format!("X-Slow-{line}: 1\r\n").as_bytes()).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// The soft descriptor limit raised to the hard one: one process holds thousands of sockets.
fn raise_descriptor_limit() {
    // SAFETY: getrlimit/setrlimit read or write one rlimit struct on this stack.
    unsafe {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}
