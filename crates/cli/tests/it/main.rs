//! The `tclocal` binary end to end (one test binary, style rule 7): the built binary serves
//! on loopback and is driven by the built binary (`tclocal call`) or by the Rust SDK.

mod bounds;
mod call;
mod crash;
mod shared;
mod state;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A `tclocal serve` child, killed (SIGKILL) and reaped when dropped, so a failing test leaves
/// no server behind.
pub(crate) struct Served(Child);

impl Served {
    /// The server's process id.
    pub(crate) fn id(&self) -> u32 {
        self.0.id()
    }

    /// Kills the server now (SIGKILL) and waits for it.
    pub(crate) fn kill(&mut self) {
        self.0.kill().expect("SIGKILL");
        self.0.wait().expect("reap the server");
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `tclocal serve --listen 127.0.0.1:0 ARGS` with a clean environment and answers the
/// child and its endpoint.
///
/// The line "tclocal listening on http://ADDR" names the address actually bound, so there is
/// no port race; log lines may come first. The rest of the output is drained in the background
/// so the server never blocks on a full pipe.
fn spawn_serve(args: &[&str], home: &Path) -> (Served, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tclocal"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .env_clear()
        .env("HOME", home)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("tclocal serve starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let endpoint = loop {
        let line = lines
            .next()
            .expect("tclocal serve printed its address")
            .unwrap();
        if let Some(rest) = line.split("tclocal listening on ").nth(1) {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    assert!(endpoint.starts_with("http://127.0.0.1:"), "{endpoint}");
    std::thread::spawn(move || lines.for_each(drop));
    (Served(child), endpoint)
}
