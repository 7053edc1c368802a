"""Tests of scripts/compat_matrix.py (run: python3 -m unittest discover -s scripts -p 'test_*.py')."""

from __future__ import annotations

import json
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import compat_matrix as cm  # noqa: E402

JUNIT = """<?xml version="1.0"?>
<testsuites>
  <testsuite name="s">
    <testcase classname="test_a" name="test_ok"/>
    <testcase classname="test_a" name="test_bad"><failure message="x"/></testcase>
    <testcase classname="test_b" name="test_err"><error message="y"/></testcase>
    <testcase classname="test_b" name="test_skip"><skipped/></testcase>
    <testcase classname="test_transparent" name="test_tccli_runs"/>
  </testsuite>
</testsuites>
"""

GO_LOG = """=== RUN   TestA
--- PASS: TestA (0.01s)
=== RUN   TestB
=== RUN   TestB/POST
    --- PASS: TestB/POST (0.00s)
    --- FAIL: TestB/GET (0.00s)
--- FAIL: TestB (0.01s)
--- SKIP: TestC (0.00s)
FAIL
FAIL\ttclocal.invalid/compat/go\t0.5s
"""


class Repo:
    """A throwaway repository with pins, a manifest and a README."""

    def __init__(self) -> None:
        self.tmp = tempfile.TemporaryDirectory()
        self.root = Path(self.tmp.name)
        self.write("compat/python/requirements.txt", "# pins\ntencentcloud-sdk-python-cvm==3.1.178  # cvm\npytest==9\n")
        self.write("compat/node/package.json", json.dumps({"dependencies": {"tencentcloud-sdk-nodejs-cvm": "4.1.316"}}))
        self.write(
            "compat/go/go.mod",
            "module x\n\nrequire github.com/t/cvm v1.3.183\n\nrequire (\n\tgithub.com/t/common v1.3.210 // indirect\n)\n",
        )
        self.write("compat/java/pom.xml", "<properties>\n  <sdk.version>3.1.1342</sdk.version>\n</properties>\n")
        self.write("compat/tf/versions.tf", 'source = "tencentcloudstack/tencentcloud"\nversion = "1.81.0"\n')
        self.manifest(
            [
                {"suite": "python", "client": "Python", "covers": "a | b",
                 "pins": [{"label": "cvm", "file": "compat/python/requirements.txt", "pip": "tencentcloud-sdk-python-cvm"}]},
                {"suite": "node", "client": "Node", "covers": "c",
                 "pins": [{"label": "cvm", "file": "compat/node/package.json", "npm": "tencentcloud-sdk-nodejs-cvm"}]},
                {"suite": "go", "client": "Go", "covers": "d",
                 "pins": [{"label": "cvm", "file": "compat/go/go.mod", "gomod": "github.com/t/cvm"},
                          {"label": "common", "file": "compat/go/go.mod", "gomod": "github.com/t/common"}]},
                {"suite": "java", "client": "Java", "covers": "e",
                 "pins": [{"label": "sdk", "file": "compat/java/pom.xml", "maven_property": "sdk.version"}]},
                {"suite": "terraform", "client": "Terraform", "covers": "f", "pins": [], "pending": "see issue/terraform"},
            ]
        )
        self.write("README.md", f"# x\n\n## Compatibility matrix\n\n{cm.START}\n{cm.END}\n\nafter\n")

    def write(self, rel: str, text: str) -> None:
        p = self.root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")

    def manifest(self, rows: list[dict]) -> None:
        self.write(cm.MANIFEST, json.dumps({"rows": rows}))

    def readme(self) -> str:
        return (self.root / "README.md").read_text(encoding="utf-8")

    def close(self) -> None:
        self.tmp.cleanup()


class PinTest(unittest.TestCase):
    def setUp(self) -> None:
        self.repo = Repo()
        self.addCleanup(self.repo.close)

    def test_every_pin_kind_reads_its_version(self):
        rows = {r["suite"]: r for r in cm.load_manifest(self.repo.root)}
        self.assertEqual(cm.pinned(self.repo.root, rows["python"]), "cvm 3.1.178")
        self.assertEqual(cm.pinned(self.repo.root, rows["node"]), "cvm 4.1.316")
        self.assertEqual(cm.pinned(self.repo.root, rows["go"]), "cvm v1.3.183, common v1.3.210")
        self.assertEqual(cm.pinned(self.repo.root, rows["java"]), "sdk 3.1.1342")
        self.assertIsNone(cm.pinned(self.repo.root, rows["terraform"]))
        regex = {"label": "provider", "file": "compat/tf/versions.tf", "regex": r'^version = "([^"]+)"'}
        self.assertEqual(cm.pin_version(self.repo.root, regex), "1.81.0")

    def test_a_missing_pin_is_an_error_naming_the_file(self):
        with self.assertRaisesRegex(cm.MatrixError, "requirements.txt: no `nope=="):
            cm.pin_version(self.repo.root, {"file": "compat/python/requirements.txt", "pip": "nope"})
        with self.assertRaisesRegex(cm.MatrixError, "is not required"):
            cm.pin_version(self.repo.root, {"file": "compat/go/go.mod", "gomod": "github.com/t/cv"})


class CountTest(unittest.TestCase):
    def test_junit_counts_failures_errors_and_skips(self):
        with tempfile.TemporaryDirectory() as d:
            p = Path(d) / "r.xml"
            p.write_text(JUNIT)
            self.assertEqual(cm.count_junit([p]), {"tests": 5, "passed": 2, "failed": 2, "skipped": 1})
            self.assertEqual(cm.count_junit([p], include="tccli"), {"tests": 1, "passed": 1, "failed": 0, "skipped": 0})
            self.assertEqual(cm.count_junit([p], exclude="tccli")["tests"], 4)

    def test_go_log_counts_subtests_instead_of_their_parent(self):
        self.assertEqual(cm.count_go(GO_LOG), {"tests": 4, "passed": 2, "failed": 1, "skipped": 1})

    def test_go_package_failure_outside_tests_counts_as_a_failure(self):
        self.assertEqual(cm.count_go("tclocal binary not found\nFAIL\ttclocal.invalid/compat/go\t0.1s\n")["failed"], 1)
        self.assertEqual(cm.count_go("--- PASS: TestA (0.00s)\nPASS\nok  \tx\t0.1s\n"),
                         {"tests": 1, "passed": 1, "failed": 0, "skipped": 0})


class TableTest(unittest.TestCase):
    def setUp(self) -> None:
        self.repo = Repo()
        self.addCleanup(self.repo.close)

    def test_render_then_check_passes_and_keeps_the_rest_of_the_readme(self):
        cm.record(self.repo.root, "python", {"tests": 3, "passed": 3, "failed": 0, "skipped": 0})
        self.assertTrue(cm.render(self.repo.root))
        text = self.repo.readme()
        self.assertTrue(text.startswith("# x\n\n## Compatibility matrix\n\n"))
        self.assertTrue(text.endswith(f"{cm.END}\n\nafter\n"))
        self.assertIn("| Python | cvm 3.1.178 | a \\| b | 3/3 | passing |", text)
        self.assertIn("| Node | cvm 4.1.316 | c | – | not run yet |", text)
        self.assertIn("| Terraform | – | f | – | see issue/terraform |", text)
        self.assertEqual(cm.check(self.repo.root), [])
        self.assertFalse(cm.render(self.repo.root), "a second render changes nothing")

    def test_check_fails_when_a_pin_changes_until_rendered_again(self):
        cm.render(self.repo.root)
        self.repo.write("compat/node/package.json", json.dumps({"dependencies": {"tencentcloud-sdk-nodejs-cvm": "4.1.400"}}))
        problems = cm.check(self.repo.root)
        self.assertEqual(len(problems), 1)
        self.assertIn("'cvm 4.1.316'", problems[0])
        self.assertIn("'cvm 4.1.400'", problems[0])
        cm.render(self.repo.root)
        self.assertEqual(cm.check(self.repo.root), [])

    def test_check_fails_for_a_missing_or_unknown_row(self):
        cm.render(self.repo.root)
        text = self.repo.readme().replace("| Java |", "| Kotlin |")
        (self.repo.root / "README.md").write_text(text)
        problems = cm.check(self.repo.root)
        self.assertIn("no row for Java", problems)
        self.assertTrue(any("'Kotlin'" in p for p in problems), problems)

    def test_readme_without_markers_is_an_error(self):
        (self.repo.root / "README.md").write_text("# nothing\n")
        with self.assertRaises(cm.MatrixError):
            cm.check(self.repo.root)

    def test_status_shows_failures_stale_results_and_result_versions_of_unpinned_rows(self):
        cm.record(self.repo.root, "go", {"tests": 4, "passed": 3, "failed": 1, "skipped": 0})
        self.repo.write(
            f"{cm.RESULTS}/java.json",
            json.dumps({"suite": "java", "version": "sdk 3.1.1000", "tests": 2, "passed": 2, "failed": 0}),
        )
        self.repo.write(
            f"{cm.RESULTS}/terraform.json",
            json.dumps({"suite": "terraform", "version": "tencentcloud 1.81.0, terraform 1.9.8", "tests": 5, "passed": 5, "failed": 0}),
        )
        cm.render(self.repo.root)
        text = self.repo.readme()
        self.assertIn("| Go | cvm v1.3.183, common v1.3.210 | d | 3/4 | failing: 1 failed |", text)
        self.assertIn("| Java | sdk 3.1.1342 | e | 2/2 | stale: last run was sdk 3.1.1000 |", text)
        self.assertIn("| Terraform | tencentcloud 1.81.0, terraform 1.9.8 | f | 5/5 | passing |", text)

    def test_recorded_result_carries_the_pinned_version(self):
        out = cm.record(self.repo.root, "go", {"tests": 1, "passed": 1, "failed": 0, "skipped": 0})
        result = json.loads(out.read_text())
        self.assertEqual(result["version"], "cvm v1.3.183, common v1.3.210")
        self.assertEqual(result["suite"], "go")
        self.assertEqual(result["client"], "Go")
        with self.assertRaises(cm.MatrixError):
            cm.record(self.repo.root, "ruby", {"tests": 0, "passed": 0, "failed": 0, "skipped": 0})


if __name__ == "__main__":
    unittest.main()
