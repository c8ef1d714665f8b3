"""Helpers for the contribution-gate tests: project copies, fixture files and their expectations.

Every test that writes works on a copy of the project (ontology/, data/, queries/) in a temporary folder,
never on the real data/. Read-only checks share one copy per test session (:func:`shared_project`), with
``tests/fixtures/gate-data/gate-test-data.ttl`` added to its data/ so that context checks have entities of
known shape; its state (graphs, closure) is loaded once (:func:`shared_existing`).
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from kgtool.context import Existing, load_existing
from kgtool.project import Project, find_project
from kgtool.report import Report

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
SHARED = Path(__file__).resolve().parents[2] / "shared"
W3C = SHARED / "w3c" / "turtle"
CONTRIBUTIONS = TESTS / "fixtures" / "contributions"
GATE_DATA = TESTS / "fixtures" / "gate-data" / "gate-test-data.ttl"


def copy_project(target: Path, with_gate_data: bool = True) -> Project:
    """A writable copy of the project; with the gate test data in data/ unless told otherwise."""
    for folder in ("ontology", "data", "queries"):
        if (REPO / folder).is_dir():
            shutil.copytree(REPO / folder, target / folder)
    if with_gate_data:
        shutil.copy(GATE_DATA, target / "data" / GATE_DATA.name)
    return find_project(target)


@functools.cache
def shared_project() -> Project:
    folder = Path(tempfile.mkdtemp(prefix="kgtool-gate-"))
    atexit.register(shutil.rmtree, folder, True)
    return copy_project(folder / "project")


@functools.cache
def shared_existing() -> Existing:
    existing = load_existing(shared_project())
    _ = existing.closed_ontology
    return existing


def data_digest(project: Project) -> str:
    """Every file under data/ (hidden ones included), by name and bytes: 'unchanged byte for byte'."""
    digest = hashlib.sha256()
    for path in sorted(p for p in project.data_dir.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(project.data_dir)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def fixture_files(pattern: str) -> list[Path]:
    files = sorted(CONTRIBUTIONS.glob(pattern))
    assert files, f"no fixture matches {pattern} in {CONTRIBUTIONS}"
    return files


@dataclass(frozen=True)
class Expectation:
    stage: str
    severity: str
    text: str


_EXPECT = re.compile(r"^# expect: (\w+) (Violation|Warning|Info): (.+)$")


def expectations(path: Path) -> tuple[list[Expectation], bool]:
    """A fixture's ``# expect: stage Severity: text`` lines, and whether it says ``# expect: nothing``."""
    found, nothing = [], False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() == "# expect: nothing":
            nothing = True
        elif match := _EXPECT.match(line):
            found.append(Expectation(*match.groups()))
    return found, nothing


def assert_expectations(path: Path, report: Report) -> None:
    """Every expectation of the fixture is met by a finding; valid-* fixtures conform, invalid-* do not."""
    wanted, nothing = expectations(path)
    shown = "\n".join(f"  {f.stage} {f.severity} {f.location()}: {f.message}" for f in report.findings)
    if nothing:
        assert not report.findings, f"{path.name}: expected no findings, got:\n{shown}"
    for expected in wanted:
        assert any(
            f.stage == expected.stage and f.severity == expected.severity and expected.text in f.message
            for f in report.findings
        ), f"{path.name}: no finding matches {expected}; got:\n{shown}"
    assert report.conforms == path.name.startswith("valid-"), (
        f"{path.name}: conforms={report.conforms}\n{shown}"
    )
    assert nothing or wanted or path.name.startswith("valid-"), f"{path.name} has no # expect: lines"


def run_kgtool(
    project: Project,
    *args: str,
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """kgtool in a separate process (for concurrency and crash tests)."""
    return subprocess.run(
        [sys.executable, "-m", "kgtool", "--project", str(project.root), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def spawn_kgtool(project: Project, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "kgtool", "--project", str(project.root), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
