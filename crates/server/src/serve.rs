//! The TCP listener: HTTP/1.1 connections with bounded buffers, and graceful shutdown.
//!
//! hyper is driven directly rather than through `axum::serve` so the header limits can be
//! raised above hyper's defaults: a request with a large header block then reaches the
//! gateway, which answers it with an enveloped `RequestSizeLimitExceeded` instead of hyper's
//! bare 431. Only blocks past these larger limits get hyper's status. Each request goes to
//! `App::dispatch`: API requests straight to the gateway, the control plane to the router.
//!
//! [`serve_transparent`] is the same listener in transparent mode (`serve --tls`): each
//! connection is first classified by [`crate::proxy`] (TLS, `CONNECT`, or plain HTTP), and
//! whatever HTTP comes out of that is served by the same hyper settings and router.

use std::convert::Infallible;
use std::future::Future;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

use crate::app::App;
use crate::proxy::{self, Next, Transparent};

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
                let (app, router) = (app.clone(), router.clone());
                // The peer address goes with each request: CAM conditions read the source
                // IP, and the control plane refuses remote clients.
                let service = service_fn(move |req| {
                    let (app, router) = (app.clone(), router.clone());
                    async move { Ok::<_, Infallible>(app.dispatch(router, req, peer).await) }
                });
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

/// [`serve`] in transparent mode: the listener also terminates TLS with certificates from the
/// local CA and is an HTTP proxy for the Tencent Cloud API hosts (see [`crate::proxy`]).
pub async fn serve_transparent(
    listener: TcpListener,
    app: App,
    transparent: Transparent,
    shutdown: impl Future<Output = ()>,
) {
    let router = app.router();
    let graceful = GracefulShutdown::new();
    // Connections still being classified hold a watcher too; this tells them to give up.
    let (stopping_tx, stopping) = tokio::sync::watch::channel(());
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(c) => c,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let (app, router) = (app.clone(), router.clone());
                let transparent = transparent.clone();
                let watcher = graceful.watcher();
                let mut stopping = stopping.clone();
                tokio::spawn(async move {
                    let mut io: Box<dyn proxy::Io> = Box::new(stream);
                    let mut depth = 0;
                    // Classifying (and TLS handshakes) must finish as fast as a header block.
                    let http = loop {
                        let step = proxy::step(io, &transparent, peer, depth);
                        let step = tokio::time::timeout(HEADER_READ_TIMEOUT, step);
                        let next = tokio::select! {
                            next = step => next,
                            _ = stopping.changed() => return,
                        };
                        match next {
                            Ok(Next::Http(stream)) => break stream,
                            Ok(Next::Again(stream)) => {
                                io = stream;
                                depth += 1;
                            }
                            Ok(Next::Done) => return,
                            Err(_) => {
                                tracing::debug!(%peer, "nothing usable within the header timeout");
                                return;
                            }
                        }
                    };
                    let service =
                        TowerToHyperService::new(proxy::http_service(app, router, peer));
                    let conn = http1::Builder::new()
                        .timer(TokioTimer::new())
                        .header_read_timeout(HEADER_READ_TIMEOUT)
                        .max_buf_size(MAX_BUF_BYTES)
                        .max_headers(MAX_HEADERS)
                        .serve_connection(TokioIo::new(http), service);
                    if let Err(e) = watcher.watch(conn).await {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    let _ = stopping_tx.send(());
    if tokio::time::timeout(Duration::from_secs(10), graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("some connections were still open after 10 s; closing them");
    }
}
