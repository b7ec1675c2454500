//! The accept loop: HTTP/1.1 on hyper with a timer, so that a client must
//! send its request headers within `[limits] header_read_timeout_secs`; at
//! most `max_connections` connections are served at once (the rest wait in
//! the listen backlog); a request's body must arrive within
//! `body_timeout_secs` ([`body_deadline`]); on shutdown in-flight requests
//! get `shutdown_grace_secs`, then their connections are dropped. Each
//! request knows its client's address (`ConnectInfo<SocketAddr>`: the login
//! throttle and the rate limits count by it).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::Router;
use futures_util::StreamExt as _;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;
use tower::ServiceExt as _;

use crate::config::LimitsConfig;

/// Why a request body stopped: it did not arrive in time.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within {0:?}")]
pub struct BodyTimedOut(Duration);

/// Gives `req`'s body a deadline `limit` from now: a body still arriving
/// then fails (the handler reading it answers with an error, and the
/// connection is not reused).
pub async fn body_deadline(limit: Duration, req: Request) -> Request {
    let deadline = tokio::time::Instant::now() + limit;
    req.map(|body| {
        let stream = body.into_data_stream();
        Body::from_stream(futures_util::stream::unfold(
            Some(stream),
            move |stream| async move {
                let mut stream = stream?;
                match tokio::time::timeout_at(deadline, stream.next()).await {
                    Ok(Some(item)) => Some((item, Some(stream))),
                    Ok(None) => None,
                    Err(_) => Some((Err(axum::Error::new(BodyTimedOut(limit))), None)),
                }
            },
        ))
    })
}

/// Serves `router` on `listener` within `limits` until `shutdown` resolves.
pub async fn run(
    listener: TcpListener,
    router: Router,
    limits: &LimitsConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections as usize));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    let header_timeout = limits.header_read_timeout();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        // A free slot first: past the limit, new connections wait unaccepted.
        let slot = tokio::select! {
            s = slots.clone().acquire_owned() => s.map_err(std::io::Error::other)?,
            () = &mut shutdown => break,
        };
        let (stream, remote) = tokio::select! {
            r = listener.accept() => match r {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors or a connection reset before
                    // it was accepted: wait a little rather than spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        while connections.try_join_next().is_some() {}
        let _ = stream.set_nodelay(true);
        let service = router
            .clone()
            .map_request(move |req: hyper::Request<Incoming>| {
                let mut req = req.map(Body::new);
                req.extensions_mut()
                    .insert(ConnectInfo::<SocketAddr>(remote));
                req
            });
        let mut stop = stop_rx.clone();
        connections.spawn(async move {
            let _slot = slot;
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(TokioTimer::new())
                .header_read_timeout(header_timeout);
            let conn = http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                r = conn.as_mut() => {
                    if let Err(e) = r {
                        tracing::debug!(error = %e, client = %remote, "connection ended with an error");
                    }
                    return;
                }
                _ = stop.wait_for(|s| *s) => conn.as_mut().graceful_shutdown(),
            }
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, client = %remote, "connection ended with an error");
            }
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let grace = limits.shutdown_grace();
    let drained = tokio::time::timeout(grace, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            open = connections.len(),
            grace_secs = grace.as_secs(),
            "requests still running after the shutdown grace; dropping their connections"
        );
        connections.shutdown().await;
    }
    Ok(())
}
