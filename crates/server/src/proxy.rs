//! Transparent mode's connection handling: one listener that is an HTTP proxy for the
//! Tencent Cloud API hosts, an HTTPS endpoint and the plain HTTP endpoint at once.
//!
//! Each connection is classified by its first bytes:
//! - a TLS ClientHello (`0x16`): TLS is terminated with a certificate from the local CA
//!   for the name the client asked for (SNI), then the decrypted stream is classified again;
//! - `CONNECT host:port`: for a Tencent Cloud API host (or loopback) tclocal answers
//!   `200 Connection established` and serves the tunnel itself, classifying it again (TLS,
//!   as the SDKs send, or plain HTTP); for any other host it answers `403 Forbidden` with a
//!   message saying why, and closes. tclocal never opens a connection anywhere;
//! - anything else is HTTP/1.1 for hyper, the same pipeline as the plain listener. A
//!   proxy-style request (`POST http://cvm.tencentcloudapi.com/`) is served when its host is
//!   an API host and refused (`403`) otherwise.
//!
//! Inside a tunnel the request keeps its real `Host` (`cvm.ap-guangzhou.tencentcloudapi.com`),
//! which is how the gateway finds the product. The peer address handed to the control plane
//! is the TCP peer's.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::Router;
use axum::body::Body;
use http::{Method, Request, Response, StatusCode, header};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio_rustls::TlsAcceptor;

use crate::app::App;
use crate::tls::{API_DOMAIN, LocalCa, TlsError};

/// Largest `CONNECT` request head read.
const MAX_CONNECT_HEAD: usize = 16 * 1024;
/// TLS inside a tunnel inside TLS…: deeper nesting than this is dropped.
const MAX_DEPTH: u8 = 4;
/// The first byte of a TLS handshake record.
const TLS_HANDSHAKE: u8 = 0x16;

/// What transparent mode needs: the CA and the TLS configuration built from it.
#[derive(Clone)]
pub struct Transparent {
    ca: Arc<LocalCa>,
    acceptor: TlsAcceptor,
}

impl std::fmt::Debug for Transparent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transparent")
            .field("ca", &self.ca)
            .finish_non_exhaustive()
    }
}

impl Transparent {
    /// Builds the TLS side from the CA.
    ///
    /// # Errors
    /// When the start-up server certificate cannot be made.
    pub fn new(ca: Arc<LocalCa>) -> Result<Transparent, TlsError> {
        let config = crate::tls::server_config(ca.clone())?;
        Ok(Transparent {
            ca,
            acceptor: TlsAcceptor::from(config),
        })
    }

    /// The CA.
    #[must_use]
    pub fn ca(&self) -> &Arc<LocalCa> {
        &self.ca
    }

    pub(crate) fn acceptor(&self) -> &TlsAcceptor {
        &self.acceptor
    }
}

/// True for a DNS label as host names use them.
fn is_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= 63
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// True for a Tencent Cloud API host name (lower case): `<service>.tencentcloudapi.com`,
/// `<service>.<region>.tencentcloudapi.com` or `<service>.intl.tencentcloudapi.com`.
#[must_use]
pub fn is_api_host(host: &str) -> bool {
    let Some(prefix) = host
        .strip_suffix(API_DOMAIN)
        .and_then(|p| p.strip_suffix('.'))
    else {
        return false;
    };
    let labels: Vec<&str> = prefix.split('.').collect();
    (1..=2).contains(&labels.len()) && labels.iter().all(|l| is_label(l))
}

/// True for a name or address tclocal answers for: an API host, `localhost`, a name under
/// `.localhost`, or a loopback address (lower case, without brackets or trailing dot).
#[must_use]
pub fn serves_host(host: &str) -> bool {
    let host = host.trim_end_matches('.');
    if let Ok(ip) = host.parse::<IpAddr>() {
        return ip.is_loopback();
    }
    is_api_host(host)
        || host == "localhost"
        || host
            .strip_suffix(".localhost")
            .is_some_and(|p| p.split('.').all(is_label))
}

/// Splits `host:port` / `[v6]:port` into a lower-case host (no brackets) and the port.
fn split_authority(authority: &str) -> Option<(String, u16)> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (host, rest) = rest.split_once(']')?;
        (host, rest.strip_prefix(':')?)
    } else {
        authority.rsplit_once(':')?
    };
    let port = port.parse().ok()?;
    if host.is_empty() {
        return None;
    }
    Some((host.trim_end_matches('.').to_ascii_lowercase(), port))
}

/// The text of a refusal: which host, and why.
fn refusal_text(target: &str) -> String {
    format!(
        "tclocal refuses to proxy to {target}: it answers only for the Tencent Cloud API hosts \
         (*.{API_DOMAIN}, *.<region>.{API_DOMAIN}, *.intl.{API_DOMAIN}) and loopback, and never \
         connects to another host. Leave this host out of the proxy (NO_PROXY) or unset HTTPS_PROXY.\n"
    )
}

/// A plain-text answer that ends the connection.
fn text_response(status: StatusCode, text: String) -> Response<Body> {
    let mut resp = Response::new(Body::from(text));
    *resp.status_mut() = status;
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(
        header::CONNECTION,
        header::HeaderValue::from_static("close"),
    );
    resp
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// The HTTP service of a transparent-mode connection: the app's router with the peer
/// address, behind the proxy rules.
pub(crate) fn http_service(
    app: App,
    router: Router,
    peer: SocketAddr,
) -> impl tower::Service<
    Request<hyper::body::Incoming>,
    Response = Response<Body>,
    Error = Infallible,
    Future = BoxFuture<Result<Response<Body>, Infallible>>,
> + Clone {
    tower::service_fn(move |req: Request<hyper::body::Incoming>| {
        let (app, router) = (app.clone(), router.clone());
        let fut: BoxFuture<Result<Response<Body>, Infallible>> = Box::pin(async move {
            if req.method() == Method::CONNECT {
                return Ok(text_response(
                    StatusCode::BAD_REQUEST,
                    "tclocal: send CONNECT as the first request of a new connection\n".to_owned(),
                ));
            }
            if let Some(authority) = req.uri().authority() {
                let host = authority
                    .host()
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .to_ascii_lowercase();
                if !serves_host(&host) {
                    tracing::warn!(%peer, target = %authority, "refused a proxy request to a host outside Tencent Cloud");
                    return Ok(text_response(
                        StatusCode::FORBIDDEN,
                        refusal_text(authority.as_str()),
                    ));
                }
            }
            Ok(app.dispatch(router, req, peer).await)
        });
        fut
    })
}

/// How a connection (or a tunnel, or a TLS stream) opens.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Opening {
    /// A TLS handshake.
    Tls,
    /// `CONNECT`; `head_len` bytes of the buffer are its request head.
    Connect {
        /// The request target (`host:port`).
        target: String,
        /// Length of the request head in the buffer.
        head_len: usize,
    },
    /// A `CONNECT` request that does not parse.
    BadConnect,
    /// Anything else: HTTP for hyper.
    Http,
    /// The peer closed before sending enough to tell.
    Closed,
}

/// Reads from `io` into `buf` until the opening is known. Nothing read is lost: the caller
/// replays `buf` (minus a `CONNECT` head) before the rest of the stream.
pub(crate) async fn read_opening<S: AsyncRead + Unpin>(
    io: &mut S,
    buf: &mut Vec<u8>,
) -> io::Result<Opening> {
    const CONNECT: &[u8] = b"CONNECT ";
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(&first) = buf.first() {
            if first == TLS_HANDSHAKE {
                return Ok(Opening::Tls);
            }
            let n = buf.len().min(CONNECT.len());
            if buf[..n] != CONNECT[..n] {
                return Ok(Opening::Http);
            }
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                return Ok(parse_connect(&buf[..end + 4]));
            }
            if buf.len() > MAX_CONNECT_HEAD {
                return Ok(Opening::BadConnect);
            }
        }
        let n = io.read(&mut chunk).await?;
        if n == 0 {
            return Ok(Opening::Closed);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn parse_connect(head: &[u8]) -> Opening {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(head) {
        Ok(httparse::Status::Complete(len)) if req.method == Some("CONNECT") => match req.path {
            Some(target) => Opening::Connect {
                target: target.to_owned(),
                head_len: len,
            },
            None => Opening::BadConnect,
        },
        _ => Opening::BadConnect,
    }
}

/// What to do with a `CONNECT` target.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ConnectDecision {
    /// Serve the tunnel.
    Accept,
    /// Refuse: a host tclocal does not answer for.
    Refuse,
    /// The target is not `host:port`.
    Malformed,
}

pub(crate) fn decide(target: &str) -> ConnectDecision {
    match split_authority(target) {
        Some((host, _)) if serves_host(&host) => ConnectDecision::Accept,
        Some(_) => ConnectDecision::Refuse,
        None => ConnectDecision::Malformed,
    }
}

/// The raw answer to a refused or malformed `CONNECT`.
pub(crate) fn connect_error(status: StatusCode, text: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {} {}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
        status.as_u16(),
        status.canonical_reason().unwrap_or(""),
        text.len(),
    )
    .into_bytes()
}

/// The answer to an accepted `CONNECT`.
pub(crate) const CONNECT_OK: &[u8] = b"HTTP/1.1 200 Connection established\r\n\r\n";

/// The text of a refused `CONNECT`.
pub(crate) fn connect_refusal(target: &str) -> Vec<u8> {
    connect_error(StatusCode::FORBIDDEN, &refusal_text(target))
}

/// Any byte stream a connection can be served on.
pub(crate) trait Io: AsyncRead + AsyncWrite + Unpin + Send + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Io for T {}

/// A stream with bytes already read from it put back in front.
pub(crate) struct Replay<S> {
    prefix: Vec<u8>,
    pos: usize,
    inner: S,
}

impl<S> Replay<S> {
    pub(crate) fn new(prefix: Vec<u8>, inner: S) -> Replay<S> {
        Replay {
            prefix,
            pos: 0,
            inner,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Replay<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.pos < this.prefix.len() {
            let n = (this.prefix.len() - this.pos).min(buf.remaining());
            buf.put_slice(&this.prefix[this.pos..this.pos + n]);
            this.pos += n;
            if this.pos == this.prefix.len() {
                this.prefix = Vec::new();
                this.pos = 0;
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Replay<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// Where a classified stream goes next.
pub(crate) enum Next {
    /// Serve HTTP on it.
    Http(Box<dyn Io>),
    /// Classify it again (after TLS or a tunnel), one level deeper.
    Again(Box<dyn Io>),
    /// Nothing more to do: closed, refused or failed.
    Done,
}

/// Classifies `io` and does what its opening asks: terminate TLS, answer a `CONNECT`, or
/// hand it over for HTTP.
pub(crate) async fn step(
    mut io: Box<dyn Io>,
    transparent: &Transparent,
    peer: SocketAddr,
    depth: u8,
) -> Next {
    if depth > MAX_DEPTH {
        tracing::debug!(%peer, "nesting too deep; closing");
        return Next::Done;
    }
    let mut buf = Vec::new();
    let opening = match read_opening(&mut io, &mut buf).await {
        Ok(o) => o,
        Err(e) => {
            tracing::debug!(%peer, error = %e, "connection failed before its first request");
            return Next::Done;
        }
    };
    match opening {
        Opening::Closed => Next::Done,
        Opening::Http => Next::Http(Box::new(Replay::new(buf, io))),
        Opening::Tls => match transparent.acceptor().accept(Replay::new(buf, io)).await {
            Ok(tls) => {
                let sni = tls.get_ref().1.server_name().unwrap_or("").to_owned();
                tracing::debug!(%peer, sni, "TLS established");
                Next::Again(Box::new(tls))
            }
            Err(e) => {
                tracing::info!(%peer, error = %e, "TLS handshake failed");
                Next::Done
            }
        },
        Opening::BadConnect => {
            let text = "tclocal: a CONNECT request that does not parse\n";
            let _ = io
                .write_all(&connect_error(StatusCode::BAD_REQUEST, text))
                .await;
            let _ = io.shutdown().await;
            Next::Done
        }
        Opening::Connect { target, head_len } => match decide(&target) {
            ConnectDecision::Accept => {
                if io.write_all(CONNECT_OK).await.is_err() {
                    return Next::Done;
                }
                tracing::debug!(%peer, %target, "tunnel opened");
                Next::Again(Box::new(Replay::new(buf.split_off(head_len), io)))
            }
            ConnectDecision::Refuse => {
                tracing::warn!(%peer, %target, "refused CONNECT to a host outside Tencent Cloud");
                let _ = io.write_all(&connect_refusal(&target)).await;
                let _ = io.shutdown().await;
                Next::Done
            }
            ConnectDecision::Malformed => {
                let text = format!("tclocal: CONNECT needs host:port, not {target:?}\n");
                let _ = io
                    .write_all(&connect_error(StatusCode::BAD_REQUEST, &text))
                    .await;
                let _ = io.shutdown().await;
                Next::Done
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_hosts_are_the_three_documented_shapes() {
        for host in [
            "cvm.tencentcloudapi.com",
            "cvm.ap-guangzhou.tencentcloudapi.com",
            "cvm.intl.tencentcloudapi.com",
            "sts.na-siliconvalley.tencentcloudapi.com",
        ] {
            assert!(is_api_host(host), "{host}");
            assert!(serves_host(host), "{host}");
        }
        for host in [
            "tencentcloudapi.com",
            "a.b.c.tencentcloudapi.com",
            "cvm.tencentcloudapi.com.evil.example",
            "eviltencentcloudapi.com",
            "x.eviltencentcloudapi.com",
            "example.com",
            "cvm..tencentcloudapi.com",
            "10.0.0.1",
            "169.254.169.254",
        ] {
            assert!(!serves_host(host), "{host}");
        }
        for host in [
            "localhost",
            "cvm.localhost",
            "127.0.0.1",
            "127.9.9.9",
            "::1",
        ] {
            assert!(serves_host(host), "{host}");
        }
    }

    #[test]
    fn connect_targets_are_decided_by_host() {
        assert_eq!(
            decide("cvm.tencentcloudapi.com:443"),
            ConnectDecision::Accept
        );
        assert_eq!(
            decide("CVM.TencentCloudAPI.com.:443"),
            ConnectDecision::Accept
        );
        assert_eq!(decide("[::1]:4570"), ConnectDecision::Accept);
        assert_eq!(decide("example.com:443"), ConnectDecision::Refuse);
        assert_eq!(decide("[2001:db8::1]:443"), ConnectDecision::Refuse);
        assert_eq!(
            decide("cvm.tencentcloudapi.com"),
            ConnectDecision::Malformed
        );
        assert_eq!(decide(":443"), ConnectDecision::Malformed);
        assert_eq!(decide("h:99999"), ConnectDecision::Malformed);
    }

    #[tokio::test]
    async fn openings_are_told_apart_without_losing_bytes() {
        async fn open(bytes: &[u8]) -> (Opening, Vec<u8>) {
            let mut io = bytes;
            let mut buf = Vec::new();
            let o = read_opening(&mut io, &mut buf).await.unwrap();
            (o, buf)
        }
        assert_eq!(open(b"\x16\x03\x01rest").await.0, Opening::Tls);
        let (o, buf) = open(b"POST / HTTP/1.1\r\n\r\n").await;
        assert_eq!(o, Opening::Http);
        assert!(b"POST / HTTP/1.1\r\n\r\n".starts_with(&buf));
        assert_eq!(open(b"CONN").await.0, Opening::Closed);
        assert_eq!(open(b"CONNECX").await.0, Opening::Http);
        let head = b"CONNECT cvm.tencentcloudapi.com:443 HTTP/1.1\r\nHost: cvm.tencentcloudapi.com:443\r\n\r\n";
        let mut bytes = head.to_vec();
        bytes.extend_from_slice(b"\x16after");
        let (o, buf) = open(&bytes).await;
        assert_eq!(
            o,
            Opening::Connect {
                target: "cvm.tencentcloudapi.com:443".to_owned(),
                head_len: head.len()
            }
        );
        assert_eq!(&buf[head.len()..], b"\x16after");
        assert_eq!(open(b"CONNECT \r\n\r\n").await.0, Opening::BadConnect);
    }

    #[tokio::test]
    async fn replay_gives_back_the_prefix_first() {
        let mut r = Replay::new(b"abc".to_vec(), &b"def"[..]);
        let mut out = String::new();
        r.read_to_string(&mut out).await.unwrap();
        assert_eq!(out, "abcdef");
    }
}
