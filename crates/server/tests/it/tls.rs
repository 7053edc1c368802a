//! Transparent mode (`serve --tls`): HTTPS with certificates from the local CA, `CONNECT`
//! tunnels to the Tencent Cloud API hosts (and refusals for every other host), plain-HTTP
//! proxy requests, and the CA kept on disk. Every TLS client here trusts only the local CA
//! and checks the certificate; nothing leaves the loopback interface.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, RootCertStore};
use tclocal_server::app::Deps;
use tclocal_server::proxy::Transparent;
use tclocal_server::tls::{CA_CERT_FILE, CA_KEY_FILE, LocalCa};
use tclocal_server::{App, Config};
use tclocal_wire::clock::ManualClock;
use tclocal_wire::ids::{SeqResourceIds, UuidRequestIds};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio_rustls::TlsConnector;

use crate::common::{Call, NOW, RawResponse, parse_one, raw_request};

/// A transparent-mode server on a free loopback port.
struct TlsServer {
    addr: SocketAddr,
    ca: Arc<LocalCa>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl TlsServer {
    async fn start(ca: LocalCa) -> TlsServer {
        let deps = Deps {
            wall: Arc::new(ManualClock::at(NOW)),
            emulated: Arc::new(ManualClock::at(NOW)),
            request_ids: Arc::new(UuidRequestIds),
            resource_ids: Arc::new(SeqResourceIds::default()),
            replacements: Vec::new(),
        };
        let app = App::build_with(&Config::for_tests(), deps)
            .await
            .expect("app builds");
        let ca = Arc::new(ca);
        let transparent = Transparent::new(ca.clone()).expect("TLS configuration");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel();
        let task = tokio::spawn(tclocal_server::serve::serve_transparent(
            listener,
            app,
            transparent,
            async {
                let _ = rx.await;
            },
        ));
        TlsServer {
            addr,
            ca,
            stop: Some(tx),
            task: Some(task),
        }
    }

    async fn in_memory() -> TlsServer {
        TlsServer::start(LocalCa::in_memory().unwrap()).await
    }

    async fn tcp(&self) -> TcpStream {
        TcpStream::connect(self.addr).await.unwrap()
    }
}

/// A TLS client that trusts `ca` and nothing else.
fn connector(ca: &LocalCa) -> TlsConnector {
    let mut roots = RootCertStore::empty();
    roots.add(ca.cert_der().clone()).unwrap();
    let config =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

fn server_name(name: &str) -> ServerName<'static> {
    ServerName::try_from(name.to_owned()).unwrap()
}

/// Sends one request (with `Connection: close`) and reads the answer to the end.
async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(mut io: S, bytes: &[u8]) -> RawResponse {
    io.write_all(bytes).await.unwrap();
    io.flush().await.unwrap();
    let mut buf = Vec::new();
    // A peer that closes without close_notify is an error for rustls; what came is enough.
    let _ = tokio::time::timeout(Duration::from_secs(20), io.read_to_end(&mut buf)).await;
    parse_one(&buf)
        .map(|(r, _)| r)
        .unwrap_or_else(|| panic!("no HTTP response: {:?}", String::from_utf8_lossy(&buf)))
}

/// Sends `CONNECT target` and reads the answer's head (the tunnel starts right after it).
async fn connect(io: &mut TcpStream, target: &str) -> u16 {
    io.write_all(format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        if io.read(&mut byte).await.unwrap() == 0 {
            break;
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    head.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {head:?}"))
}

fn describe_instances_status(host: &str) -> Vec<u8> {
    Call::tc3("DescribeInstancesStatus", "{}").to_bytes(host)
}

fn health(host: &str) -> Vec<u8> {
    raw_request(
        "GET",
        "/_tclocal/health",
        &[("Host".to_owned(), host.to_owned())],
        b"",
    )
}

#[tokio::test]
async fn https_with_the_local_ca_trusted_serves_the_api_and_the_control_plane() {
    let server = TlsServer::in_memory().await;
    let tls = connector(&server.ca);
    let host = "cvm.tencentcloudapi.com";

    let stream = tls
        .connect(server_name(host), server.tcp().await)
        .await
        .expect("the certificate verifies against the local CA");
    assert_eq!(stream.get_ref().1.alpn_protocol(), None);
    let resp = exchange(stream, &describe_instances_status(host)).await;
    assert_eq!(resp.api_code(), None);
    assert_eq!(resp.fields()["TotalCount"], 0);

    // The TCP peer is loopback, so the control plane answers through TLS too.
    let stream = tls
        .connect(server_name(host), server.tcp().await)
        .await
        .unwrap();
    assert_eq!(exchange(stream, &health(host)).await.status, 200);
}

#[tokio::test]
async fn the_certificate_covers_the_api_and_loopback_names_and_nothing_else() {
    let server = TlsServer::in_memory().await;
    let tls = connector(&server.ca);
    let names = [
        ServerName::from(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        ServerName::from(IpAddr::V6(Ipv6Addr::LOCALHOST)),
        server_name("localhost"),
        server_name("cvm.localhost"),
        server_name("cvm.tencentcloudapi.com"),
        server_name("cvm.ap-guangzhou.tencentcloudapi.com"),
        server_name("sts.na-siliconvalley.tencentcloudapi.com"),
        server_name("cvm.intl.tencentcloudapi.com"),
        // A region tclocal does not list: a certificate is made for the name on the spot.
        server_name("cvm.xx-future-1.tencentcloudapi.com"),
    ];
    for name in names {
        let stream = tls
            .connect(name.clone(), server.tcp().await)
            .await
            .unwrap_or_else(|e| panic!("{name:?}: {e}"));
        let resp = exchange(stream, &health("localhost")).await;
        assert_eq!(resp.status, 200, "{name:?}");
    }
    for name in [
        "example.com",
        "tencentcloudapi.com.example.com",
        "a.b.c.tencentcloudapi.com",
    ] {
        let err = tls
            .connect(server_name(name), server.tcp().await)
            .await
            .expect_err(name);
        assert!(
            err.to_string().contains("certificate"),
            "{name}: {err} (a certificate error, not a refusal to connect)"
        );
    }
}

#[tokio::test]
async fn connect_to_an_api_host_is_a_tunnel_served_by_tclocal() {
    let server = TlsServer::in_memory().await;
    let tls = connector(&server.ca);
    for host in [
        "cvm.tencentcloudapi.com",
        "cvm.ap-guangzhou.tencentcloudapi.com",
        "cvm.intl.tencentcloudapi.com",
    ] {
        let mut tcp = server.tcp().await;
        assert_eq!(
            connect(&mut tcp, &format!("{host}:443")).await,
            200,
            "{host}"
        );
        let stream = tls.connect(server_name(host), tcp).await.unwrap();
        let resp = exchange(stream, &describe_instances_status(host)).await;
        assert_eq!(resp.api_code(), None, "{host}");
    }

    // GET, routed by the Host alone: the scope names no product.
    let host = "cvm.ap-guangzhou.tencentcloudapi.com";
    let mut tcp = server.tcp().await;
    assert_eq!(connect(&mut tcp, &format!("{host}:443")).await, 200);
    let stream = tls.connect(server_name(host), tcp).await.unwrap();
    let call = Call::tc3_get("DescribeZones", "").with(|c| c.scope_service = "x".into());
    let resp = exchange(stream, &call.to_bytes(host)).await;
    assert_eq!(resp.api_code(), None);
    assert!(resp.fields()["TotalCount"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn connect_to_loopback_may_carry_plain_http() {
    let server = TlsServer::in_memory().await;
    let mut tcp = server.tcp().await;
    let target = server.addr.to_string();
    assert_eq!(connect(&mut tcp, &target).await, 200);
    let resp = exchange(tcp, &describe_instances_status(&target)).await;
    assert_eq!(resp.api_code(), None);
}

#[tokio::test]
async fn connect_to_any_other_host_is_refused_with_a_reason() {
    let server = TlsServer::in_memory().await;
    for target in [
        "example.com:443",
        "cvm.tencentcloudapi.com.example.com:443",
        "x.eviltencentcloudapi.com:443",
        "10.0.0.1:443",
        "169.254.169.254:80",
        "[2001:db8::1]:443",
    ] {
        let bytes = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n");
        let resp = exchange(server.tcp().await, bytes.as_bytes()).await;
        assert_eq!(resp.status, 403, "{target}");
        assert_eq!(
            resp.header("content-type"),
            Some("text/plain; charset=utf-8")
        );
        let text = String::from_utf8(resp.body).unwrap();
        assert!(
            text.contains(&format!("refuses to proxy to {target}")),
            "{text}"
        );
        assert!(text.contains("never connects to another host"), "{text}");
    }

    let resp = exchange(server.tcp().await, b"CONNECT nowhere HTTP/1.1\r\n\r\n").await;
    assert_eq!(resp.status, 400);
}

#[tokio::test]
async fn plain_http_proxy_requests_are_served_for_api_hosts_only() {
    let server = TlsServer::in_memory().await;
    let host = "cvm.tencentcloudapi.com";
    let mut bytes = describe_instances_status(host);
    // What a client sends to an HTTP proxy: the absolute URI in the request line.
    bytes.splice(..b"POST /".len(), format!("POST http://{host}/").bytes());
    let resp = exchange(server.tcp().await, &bytes).await;
    assert_eq!(resp.api_code(), None);

    let bytes = raw_request(
        "GET",
        "http://example.com/",
        &[("Host".to_owned(), "example.com".to_owned())],
        b"",
    );
    let resp = exchange(server.tcp().await, &bytes).await;
    assert_eq!(resp.status, 403);
    assert!(
        String::from_utf8(resp.body)
            .unwrap()
            .contains("refuses to proxy to example.com")
    );

    // Ordinary requests on the same port are the plain API, as without --tls.
    let resp = exchange(
        server.tcp().await,
        &describe_instances_status(&server.addr.to_string()),
    )
    .await;
    assert_eq!(resp.api_code(), None);
}

#[tokio::test]
async fn an_https_proxy_url_works_too() {
    // HTTPS_PROXY=https://localhost:PORT: TLS to the proxy, CONNECT inside it, TLS again.
    let server = TlsServer::in_memory().await;
    let tls = connector(&server.ca);
    let mut outer = tls
        .connect(server_name("localhost"), server.tcp().await)
        .await
        .unwrap();
    let host = "cvm.tencentcloudapi.com";
    outer
        .write_all(format!("CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        head.push(outer.read_u8().await.unwrap());
    }
    assert!(head.starts_with(b"HTTP/1.1 200 "));
    let inner = tls.connect(server_name(host), outer).await.unwrap();
    let resp = exchange(inner, &describe_instances_status(host)).await;
    assert_eq!(resp.api_code(), None);
}

#[tokio::test]
async fn a_client_that_says_nothing_does_not_hold_up_shutdown() {
    let mut server = TlsServer::in_memory().await;
    let _idle = server.tcp().await;
    // Let the server accept it and start classifying.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let _ = server.stop.take().unwrap().send(());
    let task = server.task.take().unwrap();
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("serve_transparent returns without waiting for the idle client")
        .unwrap();
}

#[tokio::test]
async fn the_ca_is_kept_in_its_directory_and_reused_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let first = TlsServer::start(LocalCa::load_or_create(dir.path()).unwrap()).await;
    let fingerprint = first.ca.sha256_fingerprint();
    let trusted = connector(&first.ca);
    let host = "cvm.tencentcloudapi.com";
    let stream = trusted
        .connect(server_name(host), first.tcp().await)
        .await
        .unwrap();
    assert_eq!(exchange(stream, &health(host)).await.status, 200);
    drop(first);

    let mut files: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files, [CA_KEY_FILE, CA_CERT_FILE]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |f: &str| {
            std::fs::metadata(dir.path().join(f))
                .unwrap()
                .permissions()
                .mode()
                & 0o777
        };
        assert_eq!(mode(CA_KEY_FILE), 0o600, "the key is the owner's only");
        assert_eq!(
            mode(CA_CERT_FILE) & 0o077 & !0o044,
            0,
            "the certificate is public"
        );
    }

    // A second server (a restart) uses the same CA: the client trusts it without change.
    let second = TlsServer::start(LocalCa::load_or_create(dir.path()).unwrap()).await;
    assert_eq!(second.ca.sha256_fingerprint(), fingerprint);
    let stream = trusted
        .connect(server_name(host), second.tcp().await)
        .await
        .expect("a client of the first run still trusts the server");
    let resp = exchange(stream, &describe_instances_status(host)).await;
    assert_eq!(resp.api_code(), None);
    assert_eq!(
        second.ca.key_path(),
        Some(
            dir.path()
                .canonicalize()
                .unwrap()
                .join(CA_KEY_FILE)
                .as_path()
        )
    );
}
