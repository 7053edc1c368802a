//! The `import-specs` task: finds the models, converts them and writes the spec files.
//!
//! Everything is driven by what the packages contain: every `services/<dir>/v<date>/api.json`
//! of tccli is one spec, named by its own metadata, and its error codes come from the SDK's
//! `tencentcloud/<service>/v<date>/errorcodes.py` when present, and each action's own codes
//! from the Go SDK's `tencentcloud/<service>/v<date>/client.go` when `--go-sdk` is given. The
//! files are independent, so a full import (about 300 service versions) runs them on all cores.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, Result, bail};

use crate::ImportArgs;
use crate::convert::{self, Source};
use crate::errorcodes;
use crate::goclient;
use crate::index;
use crate::output;

/// One `api.json` to import.
#[derive(Debug, Clone)]
struct Job {
    /// tccli directory name, e.g. `autoscaling`.
    dir: String,
    api_json: PathBuf,
}

/// Package versions found in the inputs.
#[derive(Debug, Default)]
struct Versions {
    tccli: Option<String>,
    /// The `--sdk-version` override, recorded verbatim.
    sdk_override: Option<String>,
    /// Per `--sdk` directory, in order: normalised distribution name
    /// (`tencentcloud-sdk-python-cvm`) → version.
    sdk: Vec<BTreeMap<String, String>>,
}

impl Versions {
    /// `"<package> <version>"` of the SDK package unpacked in the `dir`-th `--sdk` directory
    /// that ships `service`'s error codes.
    fn sdk_for(&self, service: &str, dir: usize) -> Option<String> {
        if let Some(v) = &self.sdk_override {
            return Some(v.clone());
        }
        let dists = self.sdk.get(dir)?;
        let own = format!("tencentcloud-sdk-python-{service}");
        let all = "tencentcloud-sdk-python";
        [own.as_str(), all]
            .into_iter()
            .find_map(|name| dists.get(name).map(|v| format!("{name} {v}")))
    }
}

/// Runs the import; returns one summary line per file written, sorted by path.
pub(crate) fn run(args: &ImportArgs, out: &Path) -> Result<Vec<String>> {
    let services_dir = args.tccli.join("services");
    let mut jobs = discover(&services_dir)?;
    if jobs.is_empty() {
        bail!(
            "no services/<service>/v<version>/api.json under {}",
            args.tccli.display()
        );
    }
    if !args.services.is_empty() {
        let keep = matching(&jobs, &args.services)?;
        jobs = zip_filter(jobs, &keep, true);
    }
    if !args.exclude.is_empty() {
        let drop = matching(&jobs, &args.exclude)?;
        jobs = zip_filter(jobs, &drop, false);
    }
    if jobs.is_empty() {
        bail!("no service left to import");
    }

    let versions = Versions {
        tccli: args
            .tccli_version
            .clone()
            .or_else(|| tccli_version(&args.tccli)),
        sdk_override: args.sdk_version.clone(),
        sdk: args.sdk.iter().map(|d| dist_infos(d)).collect(),
    };
    if versions.tccli.is_none() {
        eprintln!(
            "warning: tccli version unknown (no tccli-*.dist-info beside the package); use --tccli-version"
        );
    }

    let go = args.go_sdk.as_deref().map(|root| GoSdk {
        root,
        version: args.go_sdk_version.as_deref(),
    });
    let results = parallel(&jobs, |job| {
        import_one(job, &args.sdk, go.as_ref(), &versions, out)
    })?;

    let mut seen = BTreeSet::new();
    let mut report = Vec::with_capacity(results.len());
    let mut entries = BTreeMap::new();
    for r in results {
        if !seen.insert(r.path.clone()) {
            bail!("two models map to {}", r.path);
        }
        for w in &r.warnings {
            eprintln!("warning: {}: {w}", r.path);
        }
        report.push(r.summary);
        entries.insert(r.path, r.entry);
    }
    report.sort();
    index::update(out, entries)?;
    Ok(report)
}

/// All `services/<dir>/v*/api.json`, sorted.
fn discover(services_dir: &Path) -> Result<Vec<Job>> {
    let mut jobs = Vec::new();
    for dir in sorted_dirs(services_dir)? {
        let Some(name) = file_name(&dir) else {
            continue;
        };
        for version_dir in sorted_dirs(&dir)? {
            let api_json = version_dir.join("api.json");
            let is_version = file_name(&version_dir).is_some_and(|v| v.starts_with('v'));
            if is_version && api_json.is_file() {
                jobs.push(Job {
                    dir: name.clone(),
                    api_json,
                });
            }
        }
    }
    Ok(jobs)
}

/// Keeps the jobs whose flag in `hits` equals `keep`.
fn zip_filter(jobs: Vec<Job>, hits: &[bool], keep: bool) -> Vec<Job> {
    jobs.into_iter()
        .zip(hits)
        .filter(|(_, hit)| **hit == keep)
        .map(|(job, _)| job)
        .collect()
}

/// Which jobs belong to the named services. A name matches a tccli directory name, or else
/// (this costs a parse of every model) a `serviceShortName`, as for `as` in `autoscaling/`.
/// A name that matches nothing is an error.
fn matching(jobs: &[Job], wanted: &[String]) -> Result<Vec<bool>> {
    let by_dir: BTreeSet<&str> = jobs.iter().map(|j| j.dir.as_str()).collect();
    let missing: BTreeSet<&str> = wanted
        .iter()
        .map(String::as_str)
        .filter(|w| !by_dir.contains(w))
        .collect();
    let short_names: Vec<Option<String>> = if missing.is_empty() {
        vec![None; jobs.len()]
    } else {
        parallel(jobs, |job| {
            let text = fs::read_to_string(&job.api_json)?;
            Ok(Some(convert::parse(&text)?.metadata.service_short_name))
        })?
    };
    let mut found = BTreeSet::new();
    let mut hits = Vec::with_capacity(jobs.len());
    for (job, short) in jobs.iter().zip(short_names) {
        let hit = wanted.iter().find(|w| {
            **w == job.dir || (missing.contains(w.as_str()) && short.as_deref() == Some(w))
        });
        if let Some(w) = hit {
            found.insert(w.clone());
        }
        hits.push(hit.is_some());
    }
    let unknown: Vec<&String> = wanted.iter().filter(|w| !found.contains(*w)).collect();
    if !unknown.is_empty() {
        bail!("no model for service(s) {unknown:?}");
    }
    Ok(hits)
}

struct Imported {
    path: String,
    summary: String,
    warnings: Vec<String>,
    entry: index::Entry,
}

/// The `--go-sdk` directory and the `--go-sdk-version` override.
#[derive(Debug, Clone, Copy)]
struct GoSdk<'a> {
    root: &'a Path,
    version: Option<&'a str>,
}

/// A Go SDK `client.go` and the module it belongs to.
#[derive(Debug, PartialEq)]
struct GoClient {
    client_go: PathBuf,
    /// `<module path> <version>`, or just the module path when the version is unknown.
    module: String,
    version_known: bool,
}

impl GoSdk<'_> {
    /// The `client.go` of the first of `names` that has one for `compact` (`20170312`).
    /// In the module cache layout (`<name>@<version>/`) the highest version wins; a plain
    /// source tree (`<name>/`) comes after it.
    fn find(&self, names: &[&str], compact: &str) -> Result<Option<GoClient>> {
        let tail = Path::new(&format!("v{compact}")).join("client.go");
        let mut entries: Vec<String> = Vec::new();
        for entry in
            fs::read_dir(self.root).with_context(|| format!("reading {}", self.root.display()))?
        {
            let entry = entry.with_context(|| format!("reading {}", self.root.display()))?;
            if let Some(name) = entry.file_name().to_str() {
                entries.push(name.to_owned());
            }
        }
        for name in names {
            let prefix = format!("{name}@");
            let best = entries
                .iter()
                .filter_map(|e| Some((e, e.strip_prefix(&prefix)?)))
                .filter(|(e, _)| self.root.join(e).join(&tail).is_file())
                .max_by(|a, b| version_key(a.1).cmp(&version_key(b.1)).then(a.1.cmp(b.1)));
            let (module_dir, dir_version) = match best {
                Some((e, v)) => (self.root.join(e), Some(v)),
                None if self.root.join(name).join(&tail).is_file() => (self.root.join(name), None),
                None => continue,
            };
            let path = go_module_path(&module_dir).unwrap_or_else(|| (*name).to_owned());
            let version = self.version.or(dir_version);
            return Ok(Some(GoClient {
                client_go: module_dir.join(&tail),
                module: match version {
                    Some(v) => format!("{path} {v}"),
                    None => path,
                },
                version_known: version.is_some(),
            }));
        }
        Ok(None)
    }
}

/// The `module` line of `<dir>/go.mod`.
fn go_module_path(dir: &Path) -> Option<String> {
    let text = fs::read_to_string(dir.join("go.mod")).ok()?;
    text.lines().find_map(|l| {
        let path = l.trim().strip_prefix("module")?.trim().trim_matches('"');
        (!path.is_empty()).then(|| path.to_owned())
    })
}

/// Orders `v1.1.30` after `v1.1.9`: the numeric parts of a semantic version.
fn version_key(version: &str) -> Vec<u64> {
    let core = version.trim_start_matches('v');
    let core = core.split(['-', '+']).next().unwrap_or(core);
    core.split('.').map(|p| p.parse().unwrap_or(0)).collect()
}

fn import_one(
    job: &Job,
    sdk_dirs: &[PathBuf],
    go: Option<&GoSdk<'_>>,
    versions: &Versions,
    out: &Path,
) -> Result<Imported> {
    let context = || format!("importing {}", job.api_json.display());
    let text = fs::read_to_string(&job.api_json).with_context(context)?;
    let model = convert::parse(&text).with_context(context)?;
    let service = model.metadata.service_short_name.clone();
    let version = model.metadata.api_version.clone();
    check_name(&service, "serviceShortName").with_context(context)?;
    check_version(&version).with_context(context)?;

    let mut inputs = index::Inputs {
        api_json: index::sha256(text.as_bytes()),
        errorcodes_py: None,
        client_go: None,
    };
    let compact = version.replace('-', "");
    // The SDK names its package by the short name; fall back to the tccli directory. The
    // first `--sdk` directory that has the file wins.
    let codes_file = sdk_dirs.iter().enumerate().find_map(|(i, dir)| {
        [service.as_str(), job.dir.as_str()]
            .iter()
            .map(|s| {
                dir.join("tencentcloud")
                    .join(s)
                    .join(format!("v{compact}"))
                    .join("errorcodes.py")
            })
            .find(|p| p.is_file())
            .map(|p| (i, p))
    });
    let mut warnings = Vec::new();
    let (errors, sdk) = match &codes_file {
        Some((dir, p)) => {
            let codes =
                fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            inputs.errorcodes_py = Some(index::sha256(codes.as_bytes()));
            let sdk = versions.sdk_for(&service, *dir);
            if sdk.is_none() {
                warnings.push("SDK package version unknown; use --sdk-version".to_owned());
            }
            (errorcodes::extract(&codes), sdk)
        }
        None => {
            warnings.push("no errorcodes.py in the SDK directory; errors left empty".to_owned());
            (Vec::new(), None)
        }
    };

    // Per-action codes from the Go SDK.
    let mut action_errors = BTreeMap::new();
    let mut go_sdk = None;
    if let Some(go) = go {
        match go.find(&[service.as_str(), job.dir.as_str()], &compact)? {
            Some(client) => {
                let text = fs::read_to_string(&client.client_go)
                    .with_context(|| format!("reading {}", client.client_go.display()))?;
                inputs.client_go = Some(index::sha256(text.as_bytes()));
                action_errors = goclient::extract(&text);
                if !client.version_known {
                    warnings.push("Go SDK module version unknown; use --go-sdk-version".to_owned());
                }
                go_sdk = Some(client.module);
            }
            None => warnings.push(format!(
                "no {service}/v{compact}/client.go in the Go SDK directory; per-action errors left out"
            )),
        }
    }

    let source = Source {
        tccli: versions.tccli.clone(),
        sdk,
        go_sdk,
    };
    let converted = convert::convert(model, source, errors).with_context(context)?;
    warnings.extend(converted.warnings);
    let mut spec = converted.spec;
    let mut unknown = Vec::new();
    for (action, codes) in action_errors {
        match spec.actions.get_mut(&action) {
            Some(a) => a.errors = codes,
            None => unknown.push(action),
        }
    }
    if !unknown.is_empty() {
        warnings.push(format!(
            "the Go SDK lists codes for action(s) not in the model, left out: {}",
            unknown.join(", ")
        ));
    }
    let with_lists = spec.actions.values().filter(|a| !a.errors.is_empty());
    let (listed, listed_codes) = with_lists.fold((0, 0), |(n, c), a| (n + 1, c + a.errors.len()));
    let rendered = output::render(&spec);

    let rel = format!("{service}/{version}.json");
    let path = out.join(&service).join(format!("{version}.json"));
    fs::create_dir_all(path.parent().unwrap_or(out))
        .with_context(|| format!("creating {}", out.display()))?;
    let unchanged = fs::read_to_string(&path).is_ok_and(|old| old == rendered);
    if !unchanged {
        fs::write(&path, &rendered).with_context(|| format!("writing {}", path.display()))?;
    }
    let summary = format!(
        "{rel}: {} actions ({listed} with {listed_codes} action error codes), {} objects, \
         {} error codes, {} bytes{}",
        spec.actions.len(),
        spec.objects.len(),
        spec.errors.len(),
        rendered.len(),
        if unchanged { " (unchanged)" } else { "" },
    );
    let entry = index::Entry {
        sha256: index::sha256(rendered.as_bytes()),
        actions: spec.actions.len(),
        inputs,
    };
    Ok(Imported {
        path: rel,
        summary,
        warnings,
        entry,
    })
}

/// A service name becomes a directory name: keep it to lowercase ASCII, digits, `-`, `_`.
fn check_name(name: &str, what: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if !ok {
        bail!("{what} {name:?} is not a plain lowercase name");
    }
    Ok(())
}

/// API versions are dates, `YYYY-MM-DD`.
fn check_version(version: &str) -> Result<()> {
    let b = version.as_bytes();
    let ok = b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        });
    if !ok {
        bail!("apiVersion {version:?} is not YYYY-MM-DD");
    }
    Ok(())
}

/// The version of the `tccli-*.dist-info` beside the package directory.
fn tccli_version(package_dir: &Path) -> Option<String> {
    let parent = package_dir.canonicalize().ok()?.parent()?.to_path_buf();
    dist_infos(&parent).remove("tccli")
}

/// Name → version of every `*.dist-info/METADATA` directly under `dir`.
fn dist_infos(dir: &Path) -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "dist-info") {
            continue;
        }
        let Ok(text) = fs::read_to_string(path.join("METADATA")) else {
            continue;
        };
        if let Some((name, version)) = name_and_version(&text) {
            found.insert(name, version);
        }
    }
    found
}

/// `Name` (normalised: lowercase, `_`/`.` → `-`) and `Version` from a METADATA header.
fn name_and_version(metadata: &str) -> Option<(String, String)> {
    let mut name = None;
    let mut version = None;
    for line in metadata.lines() {
        if line.is_empty() {
            break; // end of the header; the description follows
        }
        if let Some(v) = line.strip_prefix("Name:") {
            name = Some(v.trim().to_ascii_lowercase().replace(['_', '.'], "-"));
        } else if let Some(v) = line.strip_prefix("Version:") {
            version = Some(v.trim().to_owned());
        }
    }
    Some((name?, version?))
}

fn sorted_dirs(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut dirs: Vec<PathBuf> = fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    Ok(dirs)
}

fn file_name(path: &Path) -> Option<String> {
    path.file_name()?.to_str().map(str::to_owned)
}

/// Runs `f` over `items` on all cores; results in input order, the first error wins.
fn parallel<T, R, F>(items: &[T], f: F) -> Result<Vec<R>>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> Result<R> + Sync,
{
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(items.len())
        .max(1);
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<R>>>> =
        Mutex::new(std::iter::repeat_with(|| None).take(items.len()).collect());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let r = f(item);
                    results
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)[i] = Some(r);
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .into_iter()
        .map(|r| r.unwrap_or_else(|| bail!("a worker thread panicked")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_header_gives_normalised_name_and_version() {
        let text = "Metadata-Version: 2.1\nName: tencentcloud_sdk_python-CVM\nVersion: 3.1.178\n\n\
                    Name: not-this\n";
        assert_eq!(
            name_and_version(text),
            Some((
                "tencentcloud-sdk-python-cvm".to_owned(),
                "3.1.178".to_owned()
            ))
        );
        assert_eq!(name_and_version("Name: x\n"), None);
    }

    #[test]
    fn sdk_source_prefers_the_service_package_then_the_full_sdk() {
        let mut v = Versions::default();
        let mut first = BTreeMap::new();
        first.insert("tencentcloud-sdk-python".to_owned(), "3.0.1".to_owned());
        first.insert(
            "tencentcloud-sdk-python-cvm".to_owned(),
            "3.1.178".to_owned(),
        );
        let mut second = BTreeMap::new();
        second.insert("tencentcloud-sdk-python".to_owned(), "3.1.189".to_owned());
        v.sdk = vec![first, second];
        assert_eq!(
            v.sdk_for("cvm", 0).as_deref(),
            Some("tencentcloud-sdk-python-cvm 3.1.178")
        );
        assert_eq!(
            v.sdk_for("cam", 0).as_deref(),
            Some("tencentcloud-sdk-python 3.0.1")
        );
        // The version of the directory the codes came from.
        assert_eq!(
            v.sdk_for("cvm", 1).as_deref(),
            Some("tencentcloud-sdk-python 3.1.189")
        );
        assert_eq!(v.sdk_for("cvm", 2), None);
        v.sdk_override = Some("pinned 9".to_owned());
        assert_eq!(v.sdk_for("cvm", 1).as_deref(), Some("pinned 9"));
    }

    #[test]
    fn names_and_versions_are_checked() {
        assert!(check_name("cvm", "s").is_ok());
        assert!(check_name("../etc", "s").is_err());
        assert!(check_name("", "s").is_err());
        assert!(check_version("2017-03-12").is_ok());
        assert!(check_version("20170312").is_err());
        assert!(check_version("2017-03-1x").is_err());
    }

    /// A tccli + SDK layout in a temporary directory, imported end to end.
    #[test]
    fn imports_a_package_layout() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let tccli = root.join("site").join("tccli");
        let model = |service: &str, version: &str| {
            format!(
                r#"{{"actions": {{"Ping": {{"document": "说明", "input": "PingRequest", "name": "探测",
                   "output": "PingResponse", "status": "online"}}}},
                   "metadata": {{"apiVersion": "{version}", "serviceNameCN": "服务",
                   "serviceShortName": "{service}"}},
                   "objects": {{"PingRequest": {{"document": "", "members": [], "type": "object"}},
                   "PingResponse": {{"document": "", "members": [{{"document": "ID",
                   "member": "string", "name": "RequestId", "type": "string"}}], "type": "object"}}}},
                   "version": "1.0"}}"#
            )
        };
        let write = |path: PathBuf, text: &str| {
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        };
        write(
            tccli.join("services/ping/v20200102/api.json"),
            &model("ping", "2020-01-02"),
        );
        write(
            tccli.join("services/autoping/v20210304/api.json"),
            &model("ap", "2021-03-04"),
        );
        write(
            root.join("site/tccli-9.9.9.dist-info/METADATA"),
            "Metadata-Version: 2.1\nName: tccli\nVersion: 9.9.9\n",
        );
        let sdk = root.join("sdk");
        write(
            sdk.join("tencentcloud/ping/v20200102/errorcodes.py"),
            "# 超时\nFAILEDOPERATION_TIMEOUT = 'FailedOperation.Timeout'\n",
        );
        write(
            sdk.join("tencentcloud_sdk_python_ping-1.0.0.dist-info/METADATA"),
            "Name: tencentcloud-sdk-python-ping\nVersion: 1.0.0\n",
        );
        let out = root.join("specs");
        let mut args = ImportArgs {
            tccli,
            sdk: vec![sdk],
            services: vec![],
            exclude: vec![],
            out: None,
            tccli_version: None,
            sdk_version: None,
            go_sdk: None,
            go_sdk_version: None,
        };

        let report = run(&args, &out).unwrap();
        assert_eq!(report.len(), 2, "{report:?}");
        let ping: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(out.join("ping/2020-01-02.json")).unwrap())
                .unwrap();
        assert_eq!(ping["source"]["tccli"], "9.9.9");
        assert_eq!(ping["source"]["sdk"], "tencentcloud-sdk-python-ping 1.0.0");
        assert_eq!(
            ping["errors"],
            serde_json::json!(["FailedOperation.Timeout"])
        );
        assert_eq!(ping["actions"]["Ping"]["input"], "PingRequest");
        // Named by serviceShortName, not by the tccli directory; no SDK file, no codes.
        let ap: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(out.join("ap/2021-03-04.json")).unwrap())
                .unwrap();
        assert_eq!(ap["errors"], serde_json::json!([]));
        assert_eq!(ap["source"]["sdk"], serde_json::Value::Null);

        // Selection by directory name and by short name; unknown names fail.
        args.services = vec!["ping".to_owned()];
        assert_eq!(run(&args, &out).unwrap().len(), 1);
        args.services = vec!["ap".to_owned()];
        let report = run(&args, &out).unwrap();
        assert_eq!(report.len(), 1);
        assert!(report[0].starts_with("ap/2021-03-04.json") && report[0].ends_with("(unchanged)"));
        args.services = vec!["nope".to_owned()];
        assert!(run(&args, &out).is_err());

        // Exclusion by short name; every service excluded is an error, so is an unknown name.
        args.services = vec![];
        args.exclude = vec!["ap".to_owned()];
        let report = run(&args, &out).unwrap();
        assert_eq!(report.len(), 1);
        assert!(report[0].starts_with("ping/2020-01-02.json"), "{report:?}");
        args.exclude = vec!["ap".to_owned(), "ping".to_owned()];
        assert!(run(&args, &out).is_err());
        args.exclude = vec!["nope".to_owned()];
        assert!(run(&args, &out).is_err());
        args.exclude = vec![];

        // The index lists both files with their checksums and the inputs'.
        let index: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(out.join("index.json")).unwrap()).unwrap();
        let files = index["files"].as_object().unwrap();
        assert_eq!(
            files.keys().collect::<Vec<_>>(),
            ["ap/2021-03-04.json", "ping/2020-01-02.json"]
        );
        let ping_text = fs::read(out.join("ping/2020-01-02.json")).unwrap();
        let entry = &files["ping/2020-01-02.json"];
        assert_eq!(entry["sha256"], crate::index::sha256(&ping_text));
        assert_eq!(entry["actions"], 1);
        let api_json = fs::read(args.tccli.join("services/ping/v20200102/api.json")).unwrap();
        assert_eq!(entry["inputs"]["api_json"], crate::index::sha256(&api_json));
        assert!(entry["inputs"]["errorcodes_py"].is_string());
        assert!(
            files["ap/2021-03-04.json"]["inputs"]
                .get("errorcodes_py")
                .is_none()
        );

        // Flags override the metadata.
        args.services = vec![];
        args.tccli_version = Some("1.0".to_owned());
        args.sdk_version = Some("pinned 2".to_owned());
        run(&args, &out).unwrap();
        let ping: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(out.join("ping/2020-01-02.json")).unwrap())
                .unwrap();
        assert_eq!(
            ping["source"],
            serde_json::json!({"tccli": "1.0", "sdk": "pinned 2"})
        );
    }

    /// A method of a generated `client.go`, with its code list when `codes` is not empty.
    fn go_method(action: &str, codes: &[&str]) -> String {
        let mut text = format!("// {action}\n// 说明。\n//\n");
        if !codes.is_empty() {
            text.push_str("// 可能返回的错误码:\n");
            for c in codes {
                let constant = c.to_ascii_uppercase().replace('.', "_");
                text.push_str(&format!("//  {constant} = \"{c}\"\n"));
            }
        }
        text.push_str(&format!(
            "func (c *Client) {action}WithContext(ctx context.Context, request *{action}Request) \
             (response *{action}Response, err error) {{\n    return\n}}\n\n"
        ));
        text
    }

    #[test]
    fn go_sdk_layouts_and_versions() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let touch = |rel: &str, text: &str| {
            let path = root.join(rel);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        };
        touch("cvm@v1.1.9/v20170312/client.go", "");
        touch("cvm@v1.1.30/v20170312/client.go", "");
        touch(
            "cvm@v1.1.30/go.mod",
            "module example.com/sdk/cvm\n\ngo 1.14\n",
        );
        touch("cvm@v1.2.0/v20990101/client.go", "");
        touch("sts/v20180813/client.go", "");
        let go = GoSdk {
            root,
            version: None,
        };

        let cvm = go.find(&["cvm"], "20170312").unwrap().unwrap();
        assert_eq!(cvm.client_go, root.join("cvm@v1.1.30/v20170312/client.go"));
        assert_eq!(cvm.module, "example.com/sdk/cvm v1.1.30");
        assert!(cvm.version_known);

        // A plain tree: no version unless given; the module path falls back to the name.
        let sts = go.find(&["nope", "sts"], "20180813").unwrap().unwrap();
        assert_eq!(sts.client_go, root.join("sts/v20180813/client.go"));
        assert_eq!(sts.module, "sts");
        assert!(!sts.version_known);
        let pinned = GoSdk {
            root,
            version: Some("v9.9.9"),
        };
        assert_eq!(
            pinned.find(&["sts"], "20180813").unwrap().unwrap().module,
            "sts v9.9.9"
        );

        assert_eq!(go.find(&["cvm"], "20200101").unwrap(), None);
        assert_eq!(go.find(&["cam"], "20190116").unwrap(), None);
        assert!(version_key("v1.1.30") > version_key("v1.1.9"));
        assert!(version_key("v1.10.0") > version_key("v1.9.99"));
    }

    /// `--go-sdk` puts each action's codes into the spec and the module into `source`.
    #[test]
    fn imports_per_action_codes_from_the_go_sdk() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let write = |path: PathBuf, text: &str| {
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        };
        let tccli = root.join("tccli");
        write(
            tccli.join("services/ping/v20200102/api.json"),
            r#"{"actions": {
                 "Ping": {"input": "PingRequest", "output": "PingResponse", "status": "online"},
                 "Pong": {"input": "PingRequest", "output": "PingResponse"}},
               "metadata": {"apiVersion": "2020-01-02", "serviceShortName": "ping"},
               "objects": {"PingRequest": {"members": []},
                           "PingResponse": {"members": []}}}"#,
        );
        let go_root = root.join("go");
        let client = [
            go_method("Ping", &["UnsupportedOperation", "InvalidFilter"]),
            go_method("Ping", &["InvalidFilter", "FailedOperation.Timeout"]),
            go_method("Pong", &[]),
            go_method("Gone", &["InternalError"]),
        ]
        .concat();
        write(go_root.join("ping@v1.0.7/v20200102/client.go"), &client);
        write(
            go_root.join("ping@v1.0.7/go.mod"),
            "module example.com/sdk/ping\n",
        );
        let out = root.join("specs");
        let args = ImportArgs {
            tccli,
            sdk: vec![root.join("no-sdk")],
            services: vec![],
            exclude: vec![],
            out: None,
            tccli_version: Some("1.0".to_owned()),
            sdk_version: None,
            go_sdk: Some(go_root),
            go_sdk_version: None,
        };
        let report = run(&args, &out).unwrap();
        assert!(
            report[0].contains("2 actions (1 with 3 action error codes)"),
            "{report:?}"
        );
        let ping: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(out.join("ping/2020-01-02.json")).unwrap())
                .unwrap();
        assert_eq!(
            ping["source"],
            serde_json::json!({"tccli": "1.0", "sdk": null, "go_sdk": "example.com/sdk/ping v1.0.7"})
        );
        assert_eq!(
            ping["actions"]["Ping"]["errors"],
            serde_json::json!([
                "FailedOperation.Timeout",
                "InvalidFilter",
                "UnsupportedOperation"
            ])
        );
        // No list in the Go SDK: no field. Actions the model lacks are not added.
        assert!(ping["actions"]["Pong"].get("errors").is_none());
        assert!(ping["actions"].get("Gone").is_none());
    }

    #[test]
    fn parallel_keeps_order_and_reports_errors() {
        let items: Vec<u32> = (0..100).collect();
        let doubled = parallel(&items, |i| Ok(i * 2)).unwrap();
        assert_eq!(doubled, (0..100).map(|i| i * 2).collect::<Vec<_>>());
        let failed = parallel(&items, |i| if *i == 42 { bail!("boom") } else { Ok(*i) });
        assert!(failed.is_err());
    }
}
