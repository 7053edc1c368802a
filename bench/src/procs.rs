//! The servers under test as child processes: start, wait until ready, read RSS, stop.
//!
//! Every child is killed when its handle drops, so an early return or a panic in the bench
//! leaves no server behind.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running server.
pub(crate) struct Server {
    name: String,
    child: Option<Child>,
    pub(crate) addr: SocketAddr,
    log: PathBuf,
    /// When `spawn` was called.
    spawned: Instant,
}

/// A loopback port nobody listens on now.
pub(crate) fn free_port() -> Result<u16, String> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    l.local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

impl Server {
    /// Starts `command` (stdout and stderr go to `log`); it must listen on `addr`.
    pub(crate) fn start(
        name: &str,
        mut command: Command,
        addr: SocketAddr,
        log: &Path,
    ) -> Result<Server, String> {
        let out = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
        let err = out
            .try_clone()
            .map_err(|e| format!("{}: {e}", log.display()))?;
        command
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err));
        let spawned = Instant::now();
        let child = command
            .spawn()
            .map_err(|e| format!("cannot start {name}: {e}"))?;
        Ok(Server {
            name: name.to_owned(),
            child: Some(child),
            addr,
            log: log.to_owned(),
            spawned,
        })
    }

    /// The process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// Polls `GET path` every millisecond until it answers `want` (any status when `None`);
    /// returns the time since the process was spawned.
    pub(crate) fn wait_ready(
        &mut self,
        path: &str,
        want: Option<u16>,
        timeout: Duration,
    ) -> Result<Duration, String> {
        loop {
            if let Some(status) = http_status(self.addr, path) {
                if want.is_none_or(|w| w == status) {
                    return Ok(self.spawned.elapsed());
                }
            }
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(exit)) = child.try_wait() {
                    return Err(format!(
                        "{} exited during start-up ({exit}):\n{}",
                        self.name,
                        self.log_tail()
                    ));
                }
            }
            if self.spawned.elapsed() > timeout {
                return Err(format!(
                    "{} was not ready within {timeout:?}:\n{}",
                    self.name,
                    self.log_tail()
                ));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Resident set size in bytes (`VmRSS` of `/proc/PID/status`).
    pub(crate) fn rss_bytes(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib * 1024)
    }

    /// Fails if the process has exited.
    pub(crate) fn alive(&mut self) -> Result<(), String> {
        match self.child.as_mut().map(Child::try_wait) {
            Some(Ok(None)) => Ok(()),
            _ => Err(format!(
                "{} is not running:\n{}",
                self.name,
                self.log_tail()
            )),
        }
    }

    /// SIGTERM, then up to 20 s for a graceful exit, then SIGKILL.
    pub(crate) fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    /// The end of the server's log.
    pub(crate) fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The status code of `GET path`, on a fresh connection; `None` if nothing answers.
fn http_status(addr: SocketAddr, path: &str) -> Option<u16> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_millis(200)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    s.set_nodelay(true).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut head = Vec::with_capacity(64);
    let mut buf = [0u8; 64];
    while !head.windows(2).any(|w| w == b"\r\n") && head.len() < 1024 {
        let n = s.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let line = String::from_utf8_lossy(&head);
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A command with every `TCLOCAL_*` variable of the bench's own environment removed, so a
/// developer's settings cannot change what is measured.
pub(crate) fn clean_command(program: &Path) -> Command {
    let mut command = Command::new(program);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("TCLOCAL_") {
            command.env_remove(&key);
        }
    }
    command
}
