//! What a peer without the token can hold: connections, time and bytes.
//!
//! Without budgets, idle TCP connections ran the daemon out of descriptors, slow headers
//! held connections open for as long as the peer liked, and a socket could make the daemon
//! buffer a 16 MiB frame before saying hello. Every accepted connection is tracked here:
//! - at most `max_open_connections` are open; a new one evicts the oldest connection that
//!   has not authenticated, so a peer that authenticates promptly always gets in and is
//!   never evicted, however many connections others hold;
//! - a connection that has not authenticated and has read and written nothing for
//!   `idle_timeout_ms` is closed;
//! - a WebSocket reads at most [`PRE_HELLO_BYTES`] before its hello is accepted.
//!
//! (Every request head's deadline, `header_read_timeout_ms`, is hyper's: `http_connections.rs`.)
//!
//! A connection is "authenticated" once it presented a good token (an API request or a
//! `hello`); an evicted or expired connection's reads fail, so hyper or the socket drops it.
//! Connections are found again by their peer address (address and port identify one open
//! TCP connection), which every handler already has.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_util::task::AtomicWaker;
use parking_lot::Mutex;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// Bytes a WebSocket may send before its hello is accepted: a hello with its capabilities
/// is well under this; a 15 MiB frame is refused after this much.
pub const PRE_HELLO_BYTES: u64 = 32 * 1024;

/// Descriptors kept for everything but client connections: PTYs, state files, freshell.
const RESERVED_DESCRIPTORS: u64 = 256;

/// How often expired connections are looked for.
const SWEEP_INTERVAL: Duration = Duration::from_millis(500);

/// The limits, from `[server]`.
#[derive(Clone, Copy, Debug)]
pub struct Budgets {
    pub max_open_connections: usize,
    pub idle_timeout: Duration,
}

/// Every open connection, by peer address.
pub struct ConnectionBudget {
    budgets: Budgets,
    open: Mutex<HashMap<SocketAddr, Weak<Tracked>>>,
    /// Connections closed by a budget, for the log and metrics.
    pub evicted: AtomicU64,
    pub expired: AtomicU64,
}

/// One connection's standing.
struct Tracked {
    accepted: Instant,
    /// Milliseconds since `accepted` of the last read or write.
    last_activity_ms: AtomicU64,
    authenticated: AtomicBool,
    /// Bytes still allowed before authentication (`u64::MAX`: no limit).
    unauthenticated_read_budget: AtomicU64,
    closed: AtomicBool,
    waker: AtomicWaker,
}

impl Tracked {
    fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.waker.wake();
    }

    fn idle_for(&self, now: Instant) -> Duration {
        let since_accept = now.duration_since(self.accepted);
        since_accept.saturating_sub(Duration::from_millis(
            self.last_activity_ms.load(Ordering::Relaxed),
        ))
    }

    fn touch(&self) {
        let ms = u64::try_from(self.accepted.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_activity_ms.store(ms, Ordering::Relaxed);
    }
}

impl ConnectionBudget {
    pub fn new(mut budgets: Budgets) -> Arc<ConnectionBudget> {
        let fits = descriptors_for_connections();
        if budgets.max_open_connections > fits {
            tracing::warn!(
                configured = budgets.max_open_connections,
                fits,
                "max_open_connections is more than the descriptor limit allows; using {fits} (raise `ulimit -n`)"
            );
            budgets.max_open_connections = fits.max(1);
        }
        Arc::new(ConnectionBudget {
            budgets,
            open: Mutex::new(HashMap::new()),
            evicted: AtomicU64::new(0),
            expired: AtomicU64::new(0),
        })
    }

    /// Connections open now.
    pub fn open_connections(&self) -> usize {
        self.open.lock().len()
    }

    /// The connection from `peer` presented a good token: never evicted or expired again,
    /// and no read limit.
    pub fn authenticated(&self, peer: SocketAddr) {
        if let Some(tracked) = self.find(peer) {
            tracked.authenticated.store(true, Ordering::SeqCst);
            tracked
                .unauthenticated_read_budget
                .store(u64::MAX, Ordering::SeqCst);
        }
    }

    /// From now until it authenticates, the connection from `peer` may read `bytes` more.
    pub fn limit_reads_until_authenticated(&self, peer: SocketAddr, bytes: u64) {
        if let Some(tracked) = self.find(peer) {
            if !tracked.authenticated.load(Ordering::SeqCst) {
                tracked
                    .unauthenticated_read_budget
                    .store(bytes, Ordering::SeqCst);
            }
        }
    }

    fn find(&self, peer: SocketAddr) -> Option<Arc<Tracked>> {
        self.open.lock().get(&peer).and_then(Weak::upgrade)
    }

    /// Tracks a new connection, evicting the oldest unauthenticated one when full.
    fn admit(&self, peer: SocketAddr) -> Arc<Tracked> {
        let tracked = Arc::new(Tracked {
            accepted: Instant::now(),
            last_activity_ms: AtomicU64::new(0),
            authenticated: AtomicBool::new(false),
            unauthenticated_read_budget: AtomicU64::new(u64::MAX),
            closed: AtomicBool::new(false),
            waker: AtomicWaker::new(),
        });
        let mut open = self.open.lock();
        open.retain(|_, t| t.strong_count() > 0);
        if open.len() >= self.budgets.max_open_connections {
            let oldest = open
                .values()
                .filter_map(Weak::upgrade)
                .filter(|t| {
                    !t.authenticated.load(Ordering::SeqCst) && !t.closed.load(Ordering::SeqCst)
                })
                .min_by_key(|t| t.accepted);
            if let Some(oldest) = oldest {
                oldest.close();
                self.evicted.fetch_add(1, Ordering::Relaxed);
            }
        }
        open.insert(peer, Arc::downgrade(&tracked));
        tracked
    }

    /// Closes unauthenticated connections past their idle deadline, until the daemon stops.
    pub async fn sweep(self: Arc<Self>) {
        let mut tick = tokio::time::interval(SWEEP_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let now = Instant::now();
            let expired: Vec<Arc<Tracked>> = self
                .open
                .lock()
                .values()
                .filter_map(Weak::upgrade)
                .filter(|t| !t.closed.load(Ordering::SeqCst))
                .filter(|t| {
                    !t.authenticated.load(Ordering::SeqCst)
                        && t.idle_for(now) >= self.budgets.idle_timeout
                })
                .collect();
            for tracked in expired {
                tracked.close();
                self.expired.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// Raises the soft descriptor limit to the hard one and returns how many connections fit
/// under it: past the limit, accept(2) fails before any connection could be evicted.
fn descriptors_for_connections() -> usize {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit read or write one rlimit struct that lives on this stack.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return usize::MAX;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit = raised;
            }
        }
    }
    if limit.rlim_cur == libc::RLIM_INFINITY {
        return usize::MAX;
    }
    usize::try_from(limit.rlim_cur.saturating_sub(RESERVED_DESCRIPTORS)).unwrap_or(usize::MAX)
}

/// The listener: every accepted connection is admitted (and maybe evicts another) first.
pub struct BudgetedListener {
    inner: TcpListener,
    budget: Arc<ConnectionBudget>,
}

impl BudgetedListener {
    pub fn new(inner: TcpListener, budget: Arc<ConnectionBudget>) -> BudgetedListener {
        BudgetedListener { inner, budget }
    }
}

impl axum::serve::Listener for BudgetedListener {
    type Io = BudgetedStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        // axum's own accept: retries, and waits a second when out of descriptors.
        let (tcp, peer) = axum::serve::Listener::accept(&mut self.inner).await;
        let tracked = self.budget.admit(peer);
        (BudgetedStream { tcp, tracked }, peer)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// A connection whose reads stop when a budget closes it.
pub struct BudgetedStream {
    tcp: TcpStream,
    tracked: Arc<Tracked>,
}

fn closed_by_budget() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionAborted,
        "closed by the connection budget",
    )
}

impl BudgetedStream {
    /// The socket, for its options.
    pub fn tcp(&self) -> &TcpStream {
        &self.tcp
    }
}

impl AsyncRead for BudgetedStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.tracked.waker.register(cx.waker());
        if this.tracked.closed.load(Ordering::SeqCst) {
            return Poll::Ready(Err(closed_by_budget()));
        }
        let before = buf.filled().len();
        let poll = Pin::new(&mut this.tcp).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = poll {
            let read = buf.filled().len() - before;
            if read > 0 {
                this.tracked.touch();
                let budget = &this.tracked.unauthenticated_read_budget;
                let left = budget.load(Ordering::SeqCst);
                if left != u64::MAX {
                    let read = read as u64;
                    if read > left {
                        this.tracked.close();
                        return Poll::Ready(Err(closed_by_budget()));
                    }
                    budget.store(left - read, Ordering::SeqCst);
                }
            }
        }
        poll
    }
}

impl AsyncWrite for BudgetedStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.tcp).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = poll {
            if n > 0 {
                this.tracked.touch();
            }
        }
        poll
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.tcp).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(n)) = poll {
            if n > 0 {
                this.tracked.touch();
            }
        }
        poll
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }
}
