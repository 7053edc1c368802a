//! `tclocal coverage`: which products and actions tclocal knows, and how far it goes with each.
//!
//! Every action of every embedded model is in one of three states:
//!
//! - **emulated**: a product implements it (state, business rules);
//! - **validated only**: routed, authenticated and its parameters checked against the model,
//!   then answered `UnsupportedOperation.NotEmulated` (or, with `tclocal serve
//!   --stub-responses`, a stub that follows the output model);
//! - **offline**: the model marks it offline; calls get `ActionOffline`.
//!
//! Which actions are emulated is asked of the products themselves (built over an in-memory
//! store), so the report cannot drift from what `tclocal serve` does. `--format markdown`
//! writes `docs/coverage.md`; a test keeps that page current.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use clap::{Args, ValueEnum};
use serde_json::{Value, json};
use tclocal_server::{App, Config, StoreConfig};
use tclocal_services::Products;
use tclocal_wire::spec::ActionStatus;

use crate::cli::CliError;

/// Options of `tclocal coverage`.
#[derive(Debug, Args)]
pub(crate) struct CoverageOpts {
    /// Only these products (short names, e.g. `vpc`; repeatable or comma-separated); their
    /// actions are listed one per line.
    #[arg(long = "service", value_name = "NAME", value_delimiter = ',')]
    services: Vec<String>,
    /// List every action, not only the per-product summary (text format).
    #[arg(long)]
    actions: bool,
    /// `text` (a table), `markdown` (the `docs/coverage.md` page) or `json`.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Markdown,
    Json,
}

/// How far tclocal goes with one action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Coverage {
    /// A product implements it.
    Emulated,
    /// Routed and validated, then answered as not emulated (or stubbed).
    Validated,
    /// Offline in the model: `ActionOffline`.
    Offline,
}

impl Coverage {
    fn as_str(self) -> &'static str {
        match self {
            Coverage::Emulated => "emulated",
            Coverage::Validated => "validated",
            Coverage::Offline => "offline",
        }
    }
}

/// One action of one product version.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub(crate) action: &'static str,
    pub(crate) status: ActionStatus,
    pub(crate) coverage: Coverage,
}

/// One product version and its actions, sorted by name.
#[derive(Debug, Clone)]
pub(crate) struct ProductVersion {
    pub(crate) service: &'static str,
    pub(crate) version: &'static str,
    pub(crate) rows: Vec<Row>,
}

impl ProductVersion {
    fn count(&self, c: Coverage) -> usize {
        self.rows.iter().filter(|r| r.coverage == c).count()
    }

    fn deprecated(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| r.status == ActionStatus::Deprecated)
            .count()
    }
}

/// Every embedded product version (of `only`, when not empty), classified against `products`.
pub(crate) fn collect(products: &Products, only: &[String]) -> Vec<ProductVersion> {
    let specs = tclocal_specs::registry();
    let mut out = Vec::new();
    for (service, versions) in specs.all() {
        if !only.is_empty() && !only.iter().any(|s| s == service) {
            continue;
        }
        let product = products.get(service);
        for version in versions {
            let rows = specs
                .actions(service, version)
                .unwrap_or_default()
                .into_iter()
                .map(|(action, status)| {
                    let coverage = if status == ActionStatus::Offline {
                        Coverage::Offline
                    } else if product.is_some_and(|p| p.emulates(version, action)) {
                        Coverage::Emulated
                    } else {
                        Coverage::Validated
                    };
                    Row {
                        action,
                        status,
                        coverage,
                    }
                })
                .collect();
            out.push(ProductVersion {
                service,
                version,
                rows,
            });
        }
    }
    out
}

/// The products `tclocal serve` runs, over an in-memory store.
async fn emulated_products() -> Result<Products, CliError> {
    let config = Config {
        store: StoreConfig::Memory,
        ..Config::for_tests()
    };
    let app = App::build(&config)
        .await
        .map_err(|e| CliError::Runtime(format!("cannot build the products: {e}")))?;
    Ok(app.products().clone())
}

/// Runs `tclocal coverage`.
pub(crate) fn run(opts: &CoverageOpts) -> Result<(), CliError> {
    let specs = tclocal_specs::registry();
    if let Some(unknown) = opts.services.iter().find(|s| !specs.has_service(s)) {
        return Err(CliError::Usage(format!(
            "--service {unknown:?}: no embedded model has that product short name"
        )));
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Runtime(format!("cannot start the runtime: {e}")))?;
    let products = runtime.block_on(emulated_products())?;
    let data = collect(&products, &opts.services);
    let text = match opts.format {
        Format::Text => text(&data, opts.actions || !opts.services.is_empty()),
        Format::Markdown => markdown(&data),
        Format::Json => {
            let mut s = serde_json::to_string_pretty(&to_json(&data))
                .map_err(|e| CliError::Runtime(e.to_string()))?;
            s.push('\n');
            s
        }
    };
    print!("{text}");
    Ok(())
}

struct Totals {
    products: usize,
    versions: usize,
    actions: usize,
    emulated: usize,
    validated: usize,
    offline: usize,
    deprecated: usize,
}

fn totals(data: &[ProductVersion]) -> Totals {
    let mut products: Vec<&str> = data.iter().map(|p| p.service).collect();
    products.dedup();
    Totals {
        products: products.len(),
        versions: data.len(),
        actions: data.iter().map(|p| p.rows.len()).sum(),
        emulated: data.iter().map(|p| p.count(Coverage::Emulated)).sum(),
        validated: data.iter().map(|p| p.count(Coverage::Validated)).sum(),
        offline: data.iter().map(|p| p.count(Coverage::Offline)).sum(),
        deprecated: data.iter().map(ProductVersion::deprecated).sum(),
    }
}

/// A plain table, one product version a line; with `actions`, every action after it.
fn text(data: &[ProductVersion], actions: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<22} {:<10} {:>7} {:>8} {:>9} {:>7} {:>10}",
        "PRODUCT", "VERSION", "ACTIONS", "EMULATED", "VALIDATED", "OFFLINE", "DEPRECATED"
    );
    for p in data {
        let _ = writeln!(
            out,
            "{:<22} {:<10} {:>7} {:>8} {:>9} {:>7} {:>10}",
            p.service,
            p.version,
            p.rows.len(),
            p.count(Coverage::Emulated),
            p.count(Coverage::Validated),
            p.count(Coverage::Offline),
            p.deprecated()
        );
        if actions {
            for r in &p.rows {
                let deprecated = if r.status == ActionStatus::Deprecated {
                    " (deprecated)"
                } else {
                    ""
                };
                let _ = writeln!(
                    out,
                    "  {:<60} {}{deprecated}",
                    r.action,
                    r.coverage.as_str()
                );
            }
        }
    }
    let t = totals(data);
    let _ = writeln!(
        out,
        "{} products, {} versions, {} actions: {} emulated, {} validated only, {} offline ({} deprecated)",
        t.products, t.versions, t.actions, t.emulated, t.validated, t.offline, t.deprecated
    );
    out
}

fn to_json(data: &[ProductVersion]) -> Value {
    let t = totals(data);
    let products: Vec<Value> = data
        .iter()
        .map(|p| {
            let actions: Vec<Value> = p
                .rows
                .iter()
                .map(|r| {
                    json!({
                        "action": r.action,
                        "coverage": r.coverage.as_str(),
                        "deprecated": r.status == ActionStatus::Deprecated,
                    })
                })
                .collect();
            json!({
                "service": p.service,
                "version": p.version,
                "emulated": p.count(Coverage::Emulated),
                "validated": p.count(Coverage::Validated),
                "offline": p.count(Coverage::Offline),
                "deprecated": p.deprecated(),
                "actions": actions,
            })
        })
        .collect();
    json!({
        "totals": {
            "products": t.products,
            "versions": t.versions,
            "actions": t.actions,
            "emulated": t.emulated,
            "validated": t.validated,
            "offline": t.offline,
            "deprecated": t.deprecated,
        },
        "products": products,
    })
}

fn codes(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The `docs/coverage.md` page.
pub(crate) fn markdown(data: &[ProductVersion]) -> String {
    let t = totals(data);
    let mut out = String::new();
    let _ = writeln!(out, "# Coverage: products and actions");
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Generated by `tclocal coverage --format markdown > docs/coverage.md` from the embedded \
         models (`specs/`, see `specs/README.md`) and the emulated products; a test fails when \
         this page is out of date. `tclocal coverage` prints the same as a table, \
         `tclocal coverage --service vpc` lists one product's actions, `--format json` all of \
         them."
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "tclocal knows every product version the official models describe: **{} products, {} \
         versions, {} actions**. Every request is routed (host label, TC3 credential scope, or \
         the action and version), authenticated and validated against the model: unknown \
         version `NoSuchVersion`, unknown action `InvalidAction`, `MissingParameter`, \
         `UnknownParameter`, `InvalidParameter` for members of the wrong type. Then:",
        t.products, t.versions, t.actions
    );
    let _ = writeln!(out);
    let _ = writeln!(out, "| state | actions | answer |");
    let _ = writeln!(out, "|---|---|---|");
    let _ = writeln!(
        out,
        "| emulated | {} | the product's own answer, from its state |",
        t.emulated
    );
    let _ = writeln!(
        out,
        "| validated only | {} | `UnsupportedOperation.NotEmulated` (code `UnsupportedOperation`, \
         message naming the action, product and version); with `tclocal serve \
         --stub-responses`, a deterministic answer that follows the output model |",
        t.validated
    );
    let _ = writeln!(out, "| offline | {} | `ActionOffline` |", t.offline);
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{} actions are marked deprecated in the model; they are served like the others.",
        t.deprecated
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Stub answers (`--stub-responses`) hold every member of the action's output structure: \
         strings `\"stub-<Member>\"` (dates `2020-01-01`, times `2020-01-01 00:00:00` or \
         `2020-01-01T00:00:00Z` as the model types them), numbers `0`, booleans `false`, lists \
         `[]`, structures filled the same way, then `RequestId`."
    );
    let _ = writeln!(out);

    let _ = writeln!(out, "## Emulated actions");
    let _ = writeln!(out);
    for p in data.iter().filter(|p| p.count(Coverage::Emulated) > 0) {
        let names: Vec<&str> = p
            .rows
            .iter()
            .filter(|r| r.coverage == Coverage::Emulated)
            .map(|r| r.action)
            .collect();
        let _ = writeln!(
            out,
            "- **{} {}** ({} of {}): {}",
            p.service,
            p.version,
            names.len(),
            p.rows.len(),
            codes(&names)
        );
    }
    let _ = writeln!(out);

    let _ = writeln!(out, "## Offline actions");
    let _ = writeln!(out);
    let _ = writeln!(out, "| product | version | actions |");
    let _ = writeln!(out, "|---|---|---|");
    for p in data.iter().filter(|p| p.count(Coverage::Offline) > 0) {
        let names: Vec<&str> = p
            .rows
            .iter()
            .filter(|r| r.coverage == Coverage::Offline)
            .map(|r| r.action)
            .collect();
        let _ = writeln!(out, "| {} | {} | {} |", p.service, p.version, codes(&names));
    }
    let _ = writeln!(out);

    let _ = writeln!(out, "## Every product version");
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "| product | version | actions | emulated | validated only | offline | deprecated |"
    );
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|");
    let mut by_service: BTreeMap<&str, usize> = BTreeMap::new();
    for p in data {
        *by_service.entry(p.service).or_default() += 1;
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            p.service,
            p.version,
            p.rows.len(),
            p.count(Coverage::Emulated),
            p.count(Coverage::Validated),
            p.count(Coverage::Offline),
            p.deprecated()
        );
    }
    let _ = writeln!(
        out,
        "| **total** | {} products | {} | {} | {} | {} | {} |",
        by_service.len(),
        t.actions,
        t.emulated,
        t.validated,
        t.offline,
        t.deprecated
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> Vec<ProductVersion> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let products = runtime.block_on(emulated_products()).unwrap();
        collect(&products, &[])
    }

    #[test]
    fn every_action_is_classified() {
        let data = data();
        let t = totals(&data);
        assert_eq!((t.products, t.versions, t.actions), (262, 300, 16_204));
        assert_eq!(t.offline, 26);
        assert_eq!(t.emulated + t.validated + t.offline, t.actions);
        let cvm = data.iter().find(|p| p.service == "cvm").unwrap();
        let zones = cvm
            .rows
            .iter()
            .find(|r| r.action == "DescribeZones")
            .unwrap();
        assert_eq!(zones.coverage, Coverage::Emulated);
        let vpc = data.iter().find(|p| p.service == "vpc").unwrap();
        assert_eq!(vpc.count(Coverage::Emulated), 0);
        // Products tclocal emulates: cvm, cam and sts, each with some actions.
        let emulating: Vec<&str> = data
            .iter()
            .filter(|p| p.count(Coverage::Emulated) > 0)
            .map(|p| p.service)
            .collect();
        assert!(
            emulating.contains(&"cvm") && emulating.contains(&"cam") && emulating.contains(&"sts")
        );

        let json = to_json(&data);
        assert_eq!(json["totals"]["actions"], 16_204);
        let text = text(&data, false);
        assert!(text.lines().count() == 302, "header, 300 rows, totals");
    }

    /// `docs/coverage.md` is what `tclocal coverage --format markdown` prints.
    #[test]
    fn the_docs_page_is_current() {
        let page = markdown(&data());
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/coverage.md");
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == page,
            "docs/coverage.md is out of date: run `cargo run -- coverage --format markdown > docs/coverage.md`"
        );
    }

    #[test]
    fn unknown_products_are_a_usage_error() {
        let opts = CoverageOpts {
            services: vec!["nope".to_owned()],
            actions: false,
            format: Format::Text,
        };
        assert_eq!(run(&opts).unwrap_err().exit_code(), 2);
    }
}
