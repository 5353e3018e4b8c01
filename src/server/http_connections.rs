//! Serving HTTP/1 on the budgeted listener: one hyper connection per accepted stream, every
//! request head under a deadline, and a graceful shutdown.
//!
//! Why not `axum::serve`: it builds hyper's connection without a timer, and without a timer
//! hyper applies no header-read timeout at all, so only the first request of a connection had
//! a deadline (`connection_budget.rs` watched for the end of the first head) and a keep-alive
//! connection could send one good request and then its next head a byte a minute. Here each
//! connection's hyper gets tokio's timer and `header_read_timeout`: hyper arms it whenever it
//! starts reading a head — at accept, and again after every response — so every head has to
//! be complete within it, and a keep-alive connection that sends nothing for that long is
//! closed. Upgraded connections (WebSockets, freshell's tunnels) are out of hyper's hands and
//! keep their own deadlines.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::response::Response;
use axum::serve::Listener;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::sync::watch;
use tower::ServiceExt;

use super::connection_budget::{BudgetedListener, BudgetedStream};

/// Serves `app` on every connection `listener` accepts, until `shutdown` completes; then stops
/// accepting, lets each connection finish its current request, and waits for all of them (as
/// `axum::serve(…).with_graceful_shutdown(…)` does). `tune` runs on each new stream first.
pub async fn serve<S>(
    mut listener: BudgetedListener,
    app: S,
    header_read_timeout: Duration,
    tune: impl Fn(&BudgetedStream),
    shutdown: impl Future<Output = ()>,
) where
    S: tower::Service<Request<Body>, Response = Response, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send,
{
    // Connections watch `stop` for the shutdown and hold `done` until they end.
    let (stop_tx, stop_rx) = watch::channel(false);
    let (done_tx, done_rx) = watch::channel(());
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        tune(&stream);
        let app = app.clone();
        let stop = stop_rx.clone();
        let done = done_rx.clone();
        tokio::spawn(async move {
            serve_connection(stream, peer, app, header_read_timeout, stop).await;
            drop(done);
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    drop(done_rx);
    done_tx.closed().await;
}

async fn serve_connection<S>(
    stream: BudgetedStream,
    peer: SocketAddr,
    app: S,
    header_read_timeout: Duration,
    mut stop: watch::Receiver<bool>,
) where
    S: tower::Service<Request<Body>, Response = Response, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send,
{
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        let mut request = request.map(Body::new);
        // What handlers take as `ConnectInfo<SocketAddr>`, as axum's own serve gives it.
        request.extensions_mut().insert(ConnectInfo(peer));
        app.clone().oneshot(request)
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout);
    let connection = builder
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    tokio::pin!(connection);
    let mut stopping = false;
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(err) = result {
                    // A header deadline, a reset, a budget's close: the peer's doing.
                    tracing::trace!(%peer, %err, "connection ended");
                }
                return;
            }
            changed = stop.changed(), if !stopping => {
                stopping = true;
                if changed.is_ok() {
                    connection.as_mut().graceful_shutdown();
                }
            }
        }
    }
}
