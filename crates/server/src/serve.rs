//! The TCP listener: HTTP/1.1 connections with bounded buffers, and graceful shutdown.
//!
//! hyper is driven directly rather than through `axum::serve` so the header limits can be
//! raised above hyper's defaults: a request with a large header block then reaches the
//! gateway, which answers it with an enveloped `RequestSizeLimitExceeded` instead of hyper's
//! bare 431. Only blocks past these larger limits get hyper's status.

use std::future::Future;
use std::time::Duration;

use axum::extract::ConnectInfo;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::ServiceExt;

use crate::app::App;

/// Read buffer per connection: bounds the header block hyper will parse.
const MAX_BUF_BYTES: usize = 1024 * 1024;
/// Most headers hyper parses in one request.
const MAX_HEADERS: usize = 1000;
/// A client that has not sent its headers by then is dropped (slowloris).
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Serves `app` on `listener` until `shutdown` resolves, then lets open requests finish
/// (up to 10 s).
pub async fn serve(listener: TcpListener, app: App, shutdown: impl Future<Output = ()>) {
    let router = app.router();
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(c) => c,
                    Err(e) => {
                        // EMFILE and friends: back off instead of spinning.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                // The control plane needs the peer address to refuse remote clients.
                let with_peer = router.clone().map_request(
                    move |mut req: http::Request<hyper::body::Incoming>| {
                        req.extensions_mut().insert(ConnectInfo(peer));
                        req
                    },
                );
                let service = TowerToHyperService::new(with_peer);
                let conn = http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(HEADER_READ_TIMEOUT)
                    .max_buf_size(MAX_BUF_BYTES)
                    .max_headers(MAX_HEADERS)
                    .serve_connection(TokioIo::new(stream), service);
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    if tokio::time::timeout(Duration::from_secs(10), graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("some connections were still open after 10 s; closing them");
    }
}
