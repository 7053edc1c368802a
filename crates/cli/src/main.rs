//! The `tclocal` binary: parse the command line, turn it into a validated configuration, run.

mod admin;
mod call;
mod cli;
mod coverage;
mod transparent;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let opts = cli::Opts::parse();
    match cli::run(opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tclocal: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
