//! Budgets before authentication, under a bounded flood: idle TCP connections beyond the
//! cap, slow headers, sockets that never say hello (held and reconnecting) and big frames
//! before hello. The owner still gets in every time, the daemon stays healthy, its
//! descriptors stay near the cap and its peak memory stays bounded. And the header deadline
//! holds for every request of a keep-alive connection, not only its first. Counts and
//! generous bounds only: nothing here measures speed.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::http::{get, Auth};
use common::procs::footprint;
use common::*;
use futures_util::SinkExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

const MAX_OPEN_CONNECTIONS: usize = 200;
const IDLE_CONNECTIONS: usize = 2 * MAX_OPEN_CONNECTIONS;
const SLOW_HEADERS: usize = 40;
const SILENT_SOCKETS: usize = 30;
const BIG_FRAMES: usize = 16;
const BIG_FRAME_BYTES: usize = 15 << 20;

const CONFIG: &str = "[server]\nmax_connections = 10\nmax_open_connections = 200\n\
                      header_read_timeout_ms = 2000\nidle_timeout_ms = 60000\n\
                      silent_hello_timeout_ms = 1000\n";

async fn connect(port: u16) -> Option<TcpStream> {
    TcpStream::connect(("127.0.0.1", port)).await.ok()
}

/// Sends a header line every 500 ms and never ends the head; true once the daemon closed it.
async fn slow_header(port: u16, stop: Arc<AtomicBool>) -> bool {
    let Some(mut tcp) = connect(port).await else {
        return false;
    };
    let host = format!("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n");
    if tcp.write_all(host.as_bytes()).await.is_err() {
        return true;
    }
    let mut n = 0;
    while !stop.load(Ordering::SeqCst) {
        n += 1;
        if tcp
            .write_all(format!("X-Slow-{n}: 1\r\n").as_bytes())
            .await
            .is_err()
        {
            return true;
        }
        let mut byte = [0u8; 1];
        match tokio::time::timeout(Duration::from_millis(500), tcp.read(&mut byte)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            _ => {}
        }
    }
    false
}

/// Opens WebSockets that never say hello, again and again, until `stop`.
async fn silent_sockets(ws_url: String, stop: Arc<AtomicBool>, opened: Arc<AtomicUsize>) {
    while !stop.load(Ordering::SeqCst) {
        if let Ok((mut socket, _)) = tokio_tungstenite::connect_async(ws_url.as_str()).await {
            opened.fetch_add(1, Ordering::Relaxed);
            use futures_util::StreamExt;
            // Wait until the daemon gives up on it.
            while let Ok(Some(Ok(_))) = tokio::time::timeout(PATIENCE, socket.next()).await {}
        } else {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Sends one big text frame before hello; true if the daemon cut the connection.
async fn big_frame_before_hello(ws_url: String) -> bool {
    let Ok((mut socket, _)) = tokio_tungstenite::connect_async(ws_url.as_str()).await else {
        return true;
    };
    let frame = format!(
        "{{\"type\":\"ping\",\"pad\":\"{}\"}}",
        "x".repeat(BIG_FRAME_BYTES)
    );
    let sent = tokio::time::timeout(PATIENCE, socket.send(Message::text(frame))).await;
    !matches!(sent, Ok(Ok(()))) || {
        use futures_util::StreamExt;
        matches!(
            tokio::time::timeout(PATIENCE, socket.next()).await,
            Ok(None | Some(Err(_)) | Some(Ok(Message::Close(_))))
        )
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_owner_gets_in_and_the_daemon_stays_bounded_under_an_unauthenticated_flood() {
    let daemon = Daemon::start(CONFIG);
    let port = daemon.port;
    let pid = daemon.pid().expect("running");
    let stop = Arc::new(AtomicBool::new(false));

    let mut idle = Vec::new();
    for _ in 0..IDLE_CONNECTIONS {
        if let Some(tcp) = connect(port).await {
            idle.push(tcp);
        }
    }
    let slow: Vec<_> = (0..SLOW_HEADERS)
        .map(|_| tokio::spawn(slow_header(port, Arc::clone(&stop))))
        .collect();
    let silent_opened = Arc::new(AtomicUsize::new(0));
    let silent: Vec<_> = (0..SILENT_SOCKETS)
        .map(|_| {
            tokio::spawn(silent_sockets(
                daemon.ws_url.clone(),
                Arc::clone(&stop),
                Arc::clone(&silent_opened),
            ))
        })
        .collect();
    let big: Vec<_> = (0..BIG_FRAMES)
        .map(|_| tokio::spawn(big_frame_before_hello(daemon.ws_url.clone())))
        .collect();

    // While all of that goes on, the owner connects again and again.
    for attempt in 0..10 {
        let (mut owner, _) = Client::connect_ready(&daemon).await;
        owner.assert_served().await;
        owner.close().await;
        let descriptors = footprint(pid).expect("the daemon runs").fds;
        assert!(
            descriptors < MAX_OPEN_CONNECTIONS + 100,
            "attempt {attempt}: the daemon holds {descriptors} descriptors (cap {MAX_OPEN_CONNECTIONS})"
        );
    }
    let mut cut = 0;
    for task in big {
        cut += usize::from(task.await.unwrap());
    }
    assert_eq!(cut, BIG_FRAMES, "big frames before hello were read whole");

    // Slow headers are cut by the header deadline.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let mut slow_closed = 0;
    for task in slow {
        slow_closed += usize::from(
            tokio::time::timeout_at(deadline, task)
                .await
                .is_ok_and(|closed| closed.unwrap()),
        );
    }
    stop.store(true, Ordering::SeqCst);
    assert_eq!(
        slow_closed, SLOW_HEADERS,
        "slow headers kept their connections"
    );
    assert!(silent_opened.load(Ordering::Relaxed) >= SILENT_SOCKETS);
    drop(idle);
    for task in silent {
        task.abort();
    }

    let peak = footprint(pid).expect("the daemon runs").peak_rss_bytes;
    assert!(
        peak < 150 << 20,
        "the daemon's peak RSS was {} MiB",
        peak >> 20
    );
    let health = tokio::task::block_in_place(|| get(&daemon, "/healthz", Auth::None));
    assert_eq!(health.status, 200);
    Client::connect_ready(&daemon).await.0.assert_served().await;
}

/// Reads one HTTP/1.1 response with a `Content-Length` body (the daemon's small answers);
/// returns its status line.
async fn read_response(tcp: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let mut byte = [0u8; 1];
    while !received.ends_with(b"\r\n\r\n") {
        let read = tokio::time::timeout(PATIENCE, tcp.read(&mut byte))
            .await
            .expect("the daemon answers")
            .expect("the connection stays open");
        assert_eq!(read, 1, "closed mid-answer: {received:?}");
        received.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&received).into_owned();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .expect("a Content-Length");
    let mut body = vec![0u8; length];
    tokio::time::timeout(PATIENCE, tcp.read_exact(&mut body))
        .await
        .expect("the body comes")
        .expect("the body is read");
    head.lines().next().unwrap_or_default().to_owned()
}

/// A keep-alive connection that presented the token (so no budget for the unauthenticated
/// applies to it) sends a good request, gets its answer, sends a second one promptly, and
/// then trickles a third head a line every 200 ms: the daemon closes it by the header
/// deadline (1 s), long before the trickle would end (20 s).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_head_of_a_keep_alive_connection_has_the_header_deadline() {
    let daemon = Daemon::start("[server]\nheader_read_timeout_ms = 1000\n");
    let port = daemon.port;
    let mut tcp = connect(port).await.expect("connect");
    let request = format!(
        "GET /ptyhub/api/info HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {}\r\n\r\n",
        daemon.token
    );
    for _ in 0..2 {
        tcp.write_all(request.as_bytes()).await.expect("send");
        assert_eq!(read_response(&mut tcp).await, "HTTP/1.1 200 OK");
        // Well inside the deadline: keep-alive itself still works.
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let trickle = async {
        let head = format!("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n");
        tcp.write_all(head.as_bytes()).await?;
        for n in 0..100 {
            tcp.write_all(format!("X-Slow-{n}: 1\r\n").as_bytes())
                .await?;
            let mut byte = [0u8; 64];
            match tokio::time::timeout(Duration::from_millis(200), tcp.read(&mut byte)).await {
                Ok(Ok(0)) => return Ok(Some(n)),
                Ok(Err(err)) => return Err(err),
                // Whatever the daemon says about the timeout, the close follows.
                Ok(Ok(_)) | Err(_) => {}
            }
        }
        Ok(None)
    };
    match trickle.await {
        Ok(Some(lines)) => eprintln!("closed after {lines} slow header lines"),
        Err(err) => eprintln!("closed after slow header lines ({err})"),
        Ok(None) => panic!("a slow second head kept its keep-alive connection for 20 s"),
    }
    // The daemon is fine and the owner gets in.
    let health = tokio::task::block_in_place(|| get(&daemon, "/healthz", Auth::None));
    assert_eq!(health.status, 200);
}
