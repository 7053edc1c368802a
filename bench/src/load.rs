//! The load generator: N keep-alive HTTP/1.1 connections, each sending its next request as
//! soon as the previous answer is read (closed loop), a warm-up, then a measured window.
//!
//! A request counts in the window when it was sent after the warm-up ended and its whole
//! answer was read before the window closed. Latency is from just before the request is
//! written to just after the last byte of the answer is read, recorded in microseconds in an
//! HDR histogram (3 significant digits). Errors are counted over the whole run, warm-up
//! included: an HTTP status other than 200, an error envelope, a connection or timeout
//! failure. A connection the server closes between answers (HTTP/1.0 style) is reopened and
//! counted as a reconnect, not an error.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::api::{Api, Signature, unix_now};

/// Longest wait for one answer before it counts as an error.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A new latency histogram: 1 µs to 60 s, 3 significant digits.
pub(crate) fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid histogram bounds")
}

/// One keep-alive connection and what it needs to sign.
pub(crate) struct Client {
    addr: SocketAddr,
    api: Api,
    sender: Option<SendRequest<Full<Bytes>>>,
    /// Connections opened so far.
    pub(crate) connects: u64,
}

impl Client {
    pub(crate) fn new(addr: SocketAddr, api: Api) -> Client {
        Client {
            addr,
            api,
            sender: None,
            connects: 0,
        }
    }

    pub(crate) fn api(&self) -> &Api {
        &self.api
    }

    async fn connect(&mut self) -> Result<(), String> {
        let stream = TcpStream::connect(self.addr)
            .await
            .map_err(|e| format!("connect {}: {e}", self.addr))?;
        stream
            .set_nodelay(true)
            .map_err(|e| format!("nodelay: {e}"))?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| format!("handshake: {e}"))?;
        tokio::spawn(async move {
            // The connection ends when the sender is dropped or the server closes it.
            let _ = conn.await;
        });
        self.sender = Some(sender);
        self.connects += 1;
        Ok(())
    }

    /// A sender that is open and ready for the next request, reconnecting if the server
    /// closed the last one.
    async fn ready(&mut self) -> Result<&mut SendRequest<Full<Bytes>>, String> {
        for _ in 0..2 {
            if self.sender.as_ref().is_none_or(SendRequest::is_closed) {
                self.connect().await?;
            }
            if let Some(s) = self.sender.as_mut() {
                if s.ready().await.is_ok() {
                    break;
                }
            }
            self.sender = None;
        }
        self.sender
            .as_mut()
            .ok_or_else(|| "the connection closed twice in a row".to_owned())
    }

    /// Sends one request and reads the whole answer; an API error is an `Err`.
    pub(crate) async fn send(
        &mut self,
        action: &'static str,
        body: Bytes,
        signature: &Signature,
    ) -> Result<Bytes, String> {
        let request = self.api.request(action, body, signature);
        let sender = self.ready().await?;
        let exchange = async {
            let response = sender
                .send_request(request)
                .await
                .map_err(|e| format!("{action}: send: {e}"))?;
            let (parts, body) = response.into_parts();
            let bytes = body
                .collect()
                .await
                .map_err(|e| format!("{action}: read: {e}"))?
                .to_bytes();
            Ok::<_, String>((parts.status, bytes))
        };
        let (status, bytes) = match tokio::time::timeout(REQUEST_TIMEOUT, exchange).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(e)) => {
                self.sender = None;
                return Err(e);
            }
            Err(_) => {
                self.sender = None;
                return Err(format!("{action}: no answer within {REQUEST_TIMEOUT:?}"));
            }
        };
        if self.api.succeeded(status, &bytes) {
            Ok(bytes)
        } else {
            let head = String::from_utf8_lossy(&bytes[..bytes.len().min(300)]).into_owned();
            Err(format!("{action}: HTTP {status}: {head}"))
        }
    }

    /// Signs `body` now and sends it (setup calls).
    pub(crate) async fn call(
        &mut self,
        action: &'static str,
        body: Bytes,
    ) -> Result<Bytes, String> {
        let signature = self.api.sign(&body, unix_now());
        self.send(action, body, &signature).await
    }
}

/// What each connection sends.
#[derive(Debug, Clone)]
pub(crate) enum Mix {
    /// The same request over and over (signed once per second per connection).
    Repeat {
        /// The action.
        action: &'static str,
        /// Its body.
        body: Bytes,
    },
    /// RunInstances for one instance, then TerminateInstances of the instance it made (both
    /// signed fresh); an iteration is the pair.
    RunTerminate,
}

/// One measurement.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub(crate) addr: SocketAddr,
    pub(crate) api: Api,
    pub(crate) mix: Mix,
    pub(crate) connections: usize,
    pub(crate) warmup: Duration,
    pub(crate) measure: Duration,
}

/// What a measurement found.
#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    /// Requests answered within the window.
    pub(crate) requests: u64,
    /// Requests answered successfully over the whole run, warm-up included.
    pub(crate) answered: u64,
    /// Whole iterations within the window (a RunTerminate pair counts once).
    pub(crate) iterations: u64,
    /// Length of the window.
    pub(crate) seconds: f64,
    /// Latency of every request in the window, µs.
    pub(crate) latency: Histogram<u64>,
    /// Latency per action, µs.
    pub(crate) by_action: BTreeMap<&'static str, Histogram<u64>>,
    /// Failed requests over the whole run, warm-up included.
    pub(crate) errors: u64,
    /// The first failure, for the report.
    pub(crate) first_error: Option<String>,
    /// Connections opened (one per connection unless the server closed some).
    pub(crate) connects: u64,
}

impl Outcome {
    /// Requests per second.
    pub(crate) fn rps(&self) -> f64 {
        self.requests as f64 / self.seconds
    }

    /// Iterations per second.
    pub(crate) fn ips(&self) -> f64 {
        self.iterations as f64 / self.seconds
    }

    /// A latency percentile of every request, in milliseconds.
    pub(crate) fn ms(&self, percentile: f64) -> f64 {
        self.latency.value_at_quantile(percentile / 100.0) as f64 / 1000.0
    }

    /// A latency percentile of one action, in milliseconds.
    pub(crate) fn action_ms(&self, action: &str, percentile: f64) -> f64 {
        self.by_action.get(action).map_or(f64::NAN, |h| {
            h.value_at_quantile(percentile / 100.0) as f64 / 1000.0
        })
    }

    /// One line for the console.
    pub(crate) fn summary(&self) -> String {
        format!(
            "{:>9.0} req/s  p50 {:>7.3} ms  p99 {:>7.3} ms  p99.9 {:>7.3} ms  errors {}{}",
            self.rps(),
            self.ms(50.0),
            self.ms(99.0),
            self.ms(99.9),
            self.errors,
            self.first_error
                .as_ref()
                .map(|e| format!(" (first: {e})"))
                .unwrap_or_default()
        )
    }
}

/// What one connection counted.
struct Tally {
    requests: u64,
    answered: u64,
    iterations: u64,
    latency: Histogram<u64>,
    by_action: BTreeMap<&'static str, Histogram<u64>>,
    errors: u64,
    first_error: Option<String>,
    connects: u64,
}

impl Tally {
    fn new() -> Tally {
        Tally {
            requests: 0,
            answered: 0,
            iterations: 0,
            latency: histogram(),
            by_action: BTreeMap::new(),
            errors: 0,
            first_error: None,
            connects: 0,
        }
    }

    fn record(&mut self, action: &'static str, micros: u64) {
        let v = micros.clamp(1, 60_000_000);
        self.requests += 1;
        self.latency.saturating_record(v);
        self.by_action
            .entry(action)
            .or_insert_with(histogram)
            .saturating_record(v);
    }

    fn error(&mut self, e: String) {
        self.errors += 1;
        self.first_error.get_or_insert(e);
    }
}

/// The window of a measurement.
#[derive(Clone, Copy)]
struct Window {
    start: Instant,
    end: Instant,
}

impl Window {
    fn holds(&self, sent: Instant, answered: Instant) -> bool {
        sent >= self.start && answered <= self.end
    }
}

/// Sends a timed request; returns the answer and whether it was in the window.
async fn timed(
    client: &mut Client,
    tally: &mut Tally,
    window: Window,
    action: &'static str,
    body: Bytes,
    signature: &Signature,
) -> Option<(Bytes, bool)> {
    let sent = Instant::now();
    let result = client.send(action, body, signature).await;
    let answered = Instant::now();
    match result {
        Ok(bytes) => {
            tally.answered += 1;
            let inside = window.holds(sent, answered);
            if inside {
                let micros = u64::try_from((answered - sent).as_micros()).unwrap_or(u64::MAX);
                tally.record(action, micros);
            }
            Some((bytes, inside))
        }
        Err(e) => {
            tally.error(e);
            // A dead server must not turn into a busy loop.
            tokio::time::sleep(Duration::from_millis(10)).await;
            None
        }
    }
}

async fn connection(plan: Arc<Plan>, window: Window) -> Tally {
    let mut tally = Tally::new();
    let mut client = Client::new(plan.addr, plan.api.clone());
    let mut signature: Option<Signature> = None;
    while Instant::now() < window.end {
        match &plan.mix {
            Mix::Repeat { action, body } => {
                let now = unix_now();
                let sig = match &signature {
                    Some(s) if s.timestamp == now => s,
                    _ => signature.insert(plan.api.sign(body, now)),
                };
                if let Some((_, true)) =
                    timed(&mut client, &mut tally, window, action, body.clone(), sig).await
                {
                    tally.iterations += 1;
                }
            }
            Mix::RunTerminate => {
                let sent = Instant::now();
                let (action, body) = plan.api.run_one();
                let sig = plan.api.sign(&body, unix_now());
                let Some((answer, _)) =
                    timed(&mut client, &mut tally, window, action, body, &sig).await
                else {
                    continue;
                };
                let Some(id) = plan.api.instance_ids(&answer).into_iter().next() else {
                    tally.error("RunInstances answered no instance id".to_owned());
                    continue;
                };
                let (action, body) = plan.api.terminate(&id);
                let sig = plan.api.sign(&body, unix_now());
                if timed(&mut client, &mut tally, window, action, body, &sig)
                    .await
                    .is_some()
                    && window.holds(sent, Instant::now())
                {
                    tally.iterations += 1;
                }
            }
        }
    }
    tally.connects = client.connects;
    tally
}

/// Runs one measurement: `plan.connections` connections, warm-up, window.
pub(crate) async fn run(plan: Plan) -> Outcome {
    let start = Instant::now() + plan.warmup;
    let window = Window {
        start,
        end: start + plan.measure,
    };
    let plan = Arc::new(plan);
    let tasks: Vec<_> = (0..plan.connections)
        .map(|_| tokio::spawn(connection(Arc::clone(&plan), window)))
        .collect();
    let mut outcome = Outcome {
        requests: 0,
        answered: 0,
        iterations: 0,
        seconds: plan.measure.as_secs_f64(),
        latency: histogram(),
        by_action: BTreeMap::new(),
        errors: 0,
        first_error: None,
        connects: 0,
    };
    for task in tasks {
        // Every loop ends at the window's end plus at most one request timeout.
        let tally = match task.await {
            Ok(t) => t,
            Err(e) => {
                outcome.errors += 1;
                outcome
                    .first_error
                    .get_or_insert(format!("a connection task failed: {e}"));
                continue;
            }
        };
        outcome.requests += tally.requests;
        outcome.answered += tally.answered;
        outcome.iterations += tally.iterations;
        outcome.errors += tally.errors;
        outcome.connects += tally.connects;
        if outcome.first_error.is_none() {
            outcome.first_error = tally.first_error;
        }
        outcome
            .latency
            .add(&tally.latency)
            .expect("histograms share their bounds");
        for (action, h) in tally.by_action {
            outcome
                .by_action
                .entry(action)
                .or_insert_with(histogram)
                .add(&h)
                .expect("histograms share their bounds");
        }
    }
    outcome
}
