//! Test harness: an in-process tclocal on a free loopback port, SDK clients for it, and a
//! scripted fake HTTP server for answers tclocal would never give.

#![allow(dead_code)] // Each test module uses a different part of the harness.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tclocal_sdk::retry::FixedJitter;
use tclocal_sdk::{Client, ClientBuilder, Credential, RetryPolicy};
use tclocal_server::{App, Config};
use tclocal_services::identity::{DEV_SECRET_ID, DEV_SECRET_KEY};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// A tclocal serving on loopback until dropped.
pub(crate) struct Tclocal {
    pub(crate) addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for Tclocal {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl Tclocal {
    /// A fresh in-memory tclocal with instant CVM transitions.
    pub(crate) async fn start() -> Tclocal {
        let mut config = Config::for_tests();
        config.cvm.timings = tclocal_services::cvm::Timings::instant();
        let app = App::build(&config).await.expect("app builds");
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel();
        tokio::spawn(tclocal_server::serve::serve(listener, app, async {
            let _ = rx.await;
        }));
        Tclocal {
            addr,
            stop: Some(tx),
        }
    }

    pub(crate) fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A builder for this server with the development key, in ap-guangzhou.
    pub(crate) fn builder(&self) -> ClientBuilder {
        Client::builder()
            .endpoint(self.endpoint())
            .region("ap-guangzhou")
            .credentials(dev_credential())
    }

    pub(crate) fn client(&self) -> Client {
        self.builder().build().unwrap()
    }
}

pub(crate) fn dev_credential() -> Credential {
    Credential::new(DEV_SECRET_ID, DEV_SECRET_KEY)
}

/// Fast retries for tests: `n` retries, 1 ms base, no randomness.
pub(crate) fn quick_retries(n: u32) -> RetryPolicy {
    RetryPolicy::standard()
        .max_retries(n)
        .base_delay(Duration::from_millis(1))
        .max_delay(Duration::from_millis(5))
}

pub(crate) fn fixed_jitter() -> Arc<FixedJitter> {
    Arc::new(FixedJitter(0.5))
}

/// One request as the fake server saw it.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    pub(crate) method: String,
    pub(crate) target: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Seen {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }
}

/// What the fake answers to one request.
pub(crate) enum Reply {
    /// HTTP status, content type, body.
    Http(u16, &'static str, Vec<u8>),
    /// Close the connection without answering.
    Hangup,
    /// Never answer (until the client gives up).
    Stall,
}

impl Reply {
    /// HTTP 200 `application/json` with this envelope.
    #[allow(clippy::needless_pass_by_value)] // Called with `json!(…)` temporaries.
    pub(crate) fn json(v: serde_json::Value) -> Reply {
        Reply::Http(200, "application/json", serde_json::to_vec(&v).unwrap())
    }

    /// An error envelope.
    pub(crate) fn error(code: &str, request_id: &str) -> Reply {
        Reply::json(serde_json::json!({"Response": {
            "Error": {"Code": code, "Message": format!("scripted {code}")},
            "RequestId": request_id,
        }}))
    }
}

type Script = dyn Fn(usize, &Seen) -> Reply + Send + Sync;

/// A loopback HTTP/1.1 server that answers each request by a script (given the 0-based
/// number of the request and the request), one request per connection.
pub(crate) struct Fake {
    pub(crate) addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Fake {
    pub(crate) async fn start(
        script: impl Fn(usize, &Seen) -> Reply + Send + Sync + 'static,
    ) -> Fake {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let script: Arc<Script> = Arc::new(script);
        let task = tokio::spawn({
            let seen = seen.clone();
            async move {
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        return;
                    };
                    let seen = seen.clone();
                    let script = script.clone();
                    tokio::spawn(async move { serve_one(stream, &seen, &*script).await });
                }
            }
        });
        Fake { addr, seen, task }
    }

    pub(crate) fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The requests received so far.
    pub(crate) fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    pub(crate) fn count(&self) -> usize {
        self.seen.lock().unwrap().len()
    }

    /// A client for this fake with the development key and the given retry budget.
    pub(crate) fn client(&self, retries: u32) -> Client {
        Client::builder()
            .endpoint(self.endpoint())
            .region("ap-guangzhou")
            .credentials(dev_credential())
            .retry(quick_retries(retries))
            .jitter(fixed_jitter())
            .build()
            .unwrap()
    }
}

async fn serve_one(mut stream: TcpStream, seen: &Mutex<Vec<Seen>>, script: &Script) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next().unwrap_or("").split(' ');
    let method = request_line.next().unwrap_or("").to_owned();
    let target = request_line.next().unwrap_or("").to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + len {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let request = Seen {
        method,
        target,
        headers,
        body: buf[head_end..head_end + len].to_vec(),
    };
    let n = {
        let mut seen = seen.lock().unwrap();
        seen.push(request.clone());
        seen.len() - 1
    };
    match script(n, &request) {
        Reply::Http(status, content_type, body) => {
            let head = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.write_all(&body).await;
            let _ = stream.shutdown().await;
        }
        Reply::Hangup => drop(stream),
        Reply::Stall => tokio::time::sleep(Duration::from_secs(30)).await,
    }
}

/// A loopback port with nothing listening on it.
pub(crate) async fn closed_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    addr
}
