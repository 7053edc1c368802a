//! Repository maintenance tasks, run with `cargo run -p xtask -- <task>`.
//!
//! `import-specs` turns the official published API models (the
//! `api.json` files shipped in the tccli package, the `errorcodes.py` files of the Python SDK
//! and the per-action error-code comments of the Go SDK's `client.go`) into the
//! structure-only `specs/<service>/<version>.json` files the emulator reads.
//! See `specs/README.md` for the format and the exact command.
//!
//! `codegen` writes the SDK's typed product code (`crates/sdk/src/<service>/generated.rs`)
//! from those specs; `codegen --check` only verifies the committed files are current.

mod codegen;
mod convert;
mod errorcodes;
mod goclient;
mod import;
mod index;
mod output;

use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand};

/// Maintenance tasks for the tclocal repository.
#[derive(Debug, Parser)]
#[command(name = "xtask")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Debug, Subcommand)]
enum Task {
    /// Derive `specs/<service>/<version>.json` from unpacked tccli and SDK packages.
    ImportSpecs(Box<ImportArgs>),
    /// Write the SDK's generated code from `specs/` (`crates/sdk/src/<service>/generated.rs`).
    Codegen {
        /// Only check that the committed files are what the generator writes; fail otherwise.
        #[arg(long)]
        check: bool,
    },
}

/// Arguments of `import-specs`.
#[derive(Debug, clap::Args)]
pub(crate) struct ImportArgs {
    /// The unpacked `tccli` package directory (the one holding `services/`).
    #[arg(long, value_name = "DIR")]
    pub(crate) tccli: PathBuf,
    /// A directory holding unpacked `tencentcloud` SDK packages
    /// (`tencentcloud/<svc>/v<YYYYMMDD>/errorcodes.py`, `*.dist-info/`). Repeatable: for
    /// each service the first directory that has its `errorcodes.py` wins, and the package
    /// version recorded is the one unpacked in that directory.
    #[arg(long, value_name = "DIR", required = true)]
    pub(crate) sdk: Vec<PathBuf>,
    /// Only these services (tccli directory name or `serviceShortName`); all when absent.
    #[arg(long = "service", value_name = "NAME", value_delimiter = ',')]
    pub(crate) services: Vec<String>,
    /// Leave these services out (tccli directory name or `serviceShortName`), e.g. the ones a
    /// separate run imports with their own Go SDK source.
    #[arg(long = "exclude", value_name = "NAME", value_delimiter = ',')]
    pub(crate) exclude: Vec<String>,
    /// Where to write; defaults to the repository's `specs/`.
    #[arg(long, value_name = "DIR")]
    pub(crate) out: Option<PathBuf>,
    /// tccli version to record, overriding the wheel metadata.
    #[arg(long, value_name = "VERSION")]
    pub(crate) tccli_version: Option<String>,
    /// SDK package and version to record (e.g. `tencentcloud-sdk-python 3.1.178`),
    /// overriding the wheel metadata.
    #[arg(long, value_name = "VERSION")]
    pub(crate) sdk_version: Option<String>,
    /// The Go SDK's `tencentcloud` directory, for per-action error codes: either a source
    /// tree (`<svc>/v<YYYYMMDD>/client.go`) or the Go module cache directory
    /// (`<svc>@<version>/v<YYYYMMDD>/client.go`; the highest version of a service wins).
    #[arg(long, value_name = "DIR")]
    pub(crate) go_sdk: Option<PathBuf>,
    /// Go module version to record (e.g. `v1.1.30`), overriding the one in the directory name.
    #[arg(long, value_name = "VERSION")]
    pub(crate) go_sdk_version: Option<String>,
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.task {
        Task::Codegen { check } => {
            let manifest_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
            let repo = manifest_dir.parent().unwrap_or(manifest_dir);
            for line in codegen::run(repo, check)? {
                println!("{line}");
            }
            Ok(())
        }
        Task::ImportSpecs(args) => {
            let manifest_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
            let repo = manifest_dir.parent().unwrap_or(manifest_dir);
            let out = args.out.clone().unwrap_or_else(|| repo.join("specs"));
            let report = import::run(&args, &out)?;
            for line in &report {
                println!("{line}");
            }
            println!(
                "{} spec file(s) up to date in {}",
                report.len(),
                out.display()
            );
            Ok(())
        }
    }
}
