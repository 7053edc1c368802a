#!/usr/bin/env python3
"""The README's compatibility matrix: per-suite results, the table, and its check.

    scripts/compat_matrix.py record SUITE --junit FILE... [--include S] [--exclude S]
    scripts/compat_matrix.py record SUITE --go-log FILE
    scripts/compat_matrix.py render            # rewrite the README table from pins + results
    scripts/compat_matrix.py check             # fail if the README disagrees with the pins

Rows, and where each row's pinned versions are read from, are in compat/matrix.json. Results
are .cache/compat-results/<suite>.json (format in compat/README.md); `record` writes them from
a test run's report (JUnit XML, or `go test -v` output), any other tool may write its own.
`check` needs no results: it compares the table's rows and version cells with the pins, so a
changed pin without a re-rendered README fails. Standard library only.
"""

from __future__ import annotations

import argparse
import datetime
import json
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = "compat/matrix.json"
RESULTS = ".cache/compat-results"
README = "README.md"
START = "<!-- compat-matrix:start -->"
END = "<!-- compat-matrix:end -->"
HEADER = ("client", "pinned version", "what is tested", "tests", "status")


class MatrixError(Exception):
    """A pin that cannot be read, a README without the table, a malformed report."""


# --- pins -----------------------------------------------------------------------------------


def pin_version(root: Path, pin: dict) -> str:
    """The version one pin names in its file."""
    path = root / pin["file"]
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise MatrixError(f"{pin['file']}: {e.strerror}") from e
    if "pip" in pin:
        want = pin["pip"].lower()
        for line in text.splitlines():
            line = line.split("#", 1)[0].strip()
            name, sep, version = line.partition("==")
            if sep and name.strip().lower() == want:
                return version.strip()
        raise MatrixError(f"{pin['file']}: no `{pin['pip']}==…` line")
    if "npm" in pin:
        deps = json.loads(text).get("dependencies", {})
        if pin["npm"] not in deps:
            raise MatrixError(f"{pin['file']}: no dependency {pin['npm']}")
        return deps[pin["npm"]]
    if "gomod" in pin:
        # `require path version` or a line of a `require (…)` block; `// indirect` allowed.
        pattern = re.compile(r"^\s*(?:require\s+)?" + re.escape(pin["gomod"]) + r"\s+(v\S+)", re.M)
        m = pattern.search(text)
        if not m:
            raise MatrixError(f"{pin['file']}: {pin['gomod']} is not required")
        return m.group(1)
    if "maven_property" in pin:
        name = re.escape(pin["maven_property"])
        m = re.search(rf"<{name}>\s*([^<\s]+)\s*</{name}>", text)
        if not m:
            raise MatrixError(f"{pin['file']}: no <{pin['maven_property']}> property")
        return m.group(1)
    if "regex" in pin:
        m = re.search(pin["regex"], text, re.M)
        if not m:
            raise MatrixError(f"{pin['file']}: nothing matches {pin['regex']!r}")
        return m.group(1)
    raise MatrixError(f"pin {pin} names no kind (pip, npm, gomod, maven_property, regex)")


def pinned(root: Path, row: dict) -> str | None:
    """`label version, …` for a row; None when the row has no pins."""
    pins = row.get("pins") or []
    if not pins:
        return None
    return ", ".join(f"{p['label']} {pin_version(root, p)}" for p in pins)


def load_manifest(root: Path) -> list[dict]:
    return json.loads((root / MANIFEST).read_text(encoding="utf-8"))["rows"]


# --- results ----------------------------------------------------------------------------------


def count_junit(paths: list[Path], include: str | None = None, exclude: str | None = None) -> dict:
    """Counts the test cases of JUnit XML reports (pytest, node --test, Maven Surefire)."""
    counts = {"tests": 0, "passed": 0, "failed": 0, "skipped": 0}
    for path in paths:
        try:
            tree = ET.parse(path)
        except (OSError, ET.ParseError) as e:
            raise MatrixError(f"{path}: {e}") from e
        for case in tree.iter("testcase"):
            name = f"{case.get('classname', '')}::{case.get('name', '')}"
            if include and include not in name:
                continue
            if exclude and exclude in name:
                continue
            counts["tests"] += 1
            if case.find("failure") is not None or case.find("error") is not None:
                counts["failed"] += 1
            elif case.find("skipped") is not None:
                counts["skipped"] += 1
            else:
                counts["passed"] += 1
    return counts


GO_RESULT = re.compile(r"^\s*--- (PASS|FAIL|SKIP): (\S+)")


def count_go(text: str) -> dict:
    """Counts `go test -v` results; a test with subtests counts as its subtests only."""
    results: dict[str, str] = {}
    for line in text.splitlines():
        m = GO_RESULT.match(line)
        if m:
            results[m.group(2)] = m.group(1)
    parents = {name.rsplit("/", 1)[0] for name in results if "/" in name}
    counts = {"tests": 0, "passed": 0, "failed": 0, "skipped": 0}
    for name, outcome in results.items():
        if name in parents:
            continue
        counts["tests"] += 1
        counts[{"PASS": "passed", "FAIL": "failed", "SKIP": "skipped"}[outcome]] += 1
    if "\nFAIL" in "\n" + text and counts["failed"] == 0:
        # The package failed outside any test (a panic, TestMain): count it as one failure.
        counts["tests"] += 1
        counts["failed"] += 1
    return counts


def record(root: Path, suite: str, counts: dict, error: str | None = None) -> Path:
    rows = {r["suite"]: r for r in load_manifest(root)}
    if suite not in rows:
        raise MatrixError(f"suite {suite!r} is not in {MANIFEST}")
    result = {
        "suite": suite,
        "client": rows[suite]["client"],
        "version": pinned(root, rows[suite]),
        **counts,
        "finished": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if error:
        result["error"] = error
    out = root / RESULTS / f"{suite}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return out


def load_result(root: Path, suite: str) -> dict | None:
    path = root / RESULTS / f"{suite}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


# --- the table --------------------------------------------------------------------------------


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def status(row: dict, version: str | None, result: dict | None) -> tuple[str, str]:
    """(tests cell, status cell) for a row."""
    if result is None:
        return "–", row.get("pending", "not run yet")
    tests = int(result.get("tests", 0))
    failed = int(result.get("failed", 0))
    skipped = int(result.get("skipped", 0))
    passed = int(result.get("passed", tests - failed - skipped))
    counted = f"{passed}/{tests}" + (f" ({skipped} skipped)" if skipped else "")
    if version is not None and result.get("version") not in (None, version):
        return counted, f"stale: last run was {result.get('version')}"
    if result.get("error") and tests == 0:
        return "–", f"failed: {result['error']}"
    if tests == 0:
        return "0", "failed: no test ran"
    if failed:
        return counted, f"failing: {failed} failed"
    return counted, "passing"


def render_table(root: Path) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    for row in load_manifest(root):
        version = pinned(root, row)
        result = load_result(root, row["suite"])
        shown = version or (result or {}).get("version") or "–"
        tests, state = status(row, version, result)
        lines.append(
            "| " + " | ".join(cell(c) for c in (row["client"], shown, row["covers"], tests, state)) + " |"
        )
    return "\n".join(lines)


def split_readme(text: str) -> tuple[str, str, str]:
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        raise MatrixError(f"{README} has no {START} … {END} section")
    return text[: start + len(START)], text[start + len(START) : end], text[end:]


def render(root: Path) -> bool:
    """Rewrites the README table; True when it changed."""
    path = root / README
    text = path.read_text(encoding="utf-8")
    head, _old, tail = split_readme(text)
    new = head + "\n" + render_table(root) + "\n" + tail
    if new != text:
        path.write_text(new, encoding="utf-8")
        return True
    return False


def table_rows(body: str) -> dict[str, list[str]]:
    """Client cell -> cells, for the data rows of a markdown table."""
    rows = {}
    for line in body.strip().splitlines()[2:]:
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        if cells:
            rows[cells[0]] = cells
    return rows


def check(root: Path) -> list[str]:
    """What in the README table disagrees with the manifest and the pins (empty: all good)."""
    _head, body, _tail = split_readme((root / README).read_text(encoding="utf-8"))
    found = table_rows(body)
    problems = []
    expected = set()
    for row in load_manifest(root):
        client = cell(row["client"])
        expected.add(client)
        if client not in found:
            problems.append(f"no row for {row['client']}")
            continue
        version = pinned(root, row)
        if version is not None and found[client][1] != cell(version):
            problems.append(f"{row['client']}: README says {found[client][1]!r}, the pins say {version!r}")
    for client in found:
        if client not in expected:
            problems.append(f"README row {client!r} is not in {MANIFEST}")
    return problems


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("record", help="write .cache/compat-results/SUITE.json from a report")
    rec.add_argument("suite")
    src = rec.add_mutually_exclusive_group(required=True)
    src.add_argument("--junit", nargs="*", type=Path, help="JUnit XML reports (none found: recorded as not run)")
    src.add_argument("--go-log", type=Path, help="`go test -v` output")
    rec.add_argument("--include", help="only test cases whose classname::name contains this")
    rec.add_argument("--exclude", help="leave out test cases whose classname::name contains this")
    sub.add_parser("render", help="rewrite the README table")
    sub.add_parser("check", help="fail when the README table disagrees with the pins")
    args = parser.parse_args(argv)
    try:
        if args.command == "record":
            error = None
            if args.go_log is not None:
                try:
                    counts = count_go(args.go_log.read_text(encoding="utf-8", errors="replace"))
                except OSError:
                    counts, error = {"tests": 0, "passed": 0, "failed": 0, "skipped": 0}, "no test output"
            else:
                reports = [p for p in args.junit if p.is_file()]
                counts = count_junit(reports, args.include, args.exclude)
                if not reports:
                    error = "no test report (install or build failed?)"
            out = record(ROOT, args.suite, counts, error)
            print(
                f"{args.suite}: {counts['passed']} passed, {counts['failed']} failed"
                + (f", {counts['skipped']} skipped" if counts["skipped"] else "")
                + f" ({out.relative_to(ROOT)})"
            )
            return 0
        if args.command == "render":
            changed = render(ROOT)
            print(f"{README}: compatibility matrix {'rewritten' if changed else 'unchanged'}")
            return 0
        problems = check(ROOT)
        for p in problems:
            print(f"compat matrix: {p}", file=sys.stderr)
        if problems:
            print("compat matrix: run scripts/compat.sh, then scripts/compat_matrix.py render", file=sys.stderr)
            return 1
        print(f"{README}: compatibility matrix matches the pinned versions")
        return 0
    except MatrixError as e:
        print(f"compat matrix: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
