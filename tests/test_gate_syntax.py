"""The strict syntax stage against the W3C Turtle test suite (../shared/w3c/turtle).

Every negative file is refused as a syntax error with FILE:LINE:COL, by `validate` (exit 1) and by `add`
(exit 1, data/ unchanged byte for byte, no lock or temporary file left). Every positive file gets past the
syntax stage (it may still be refused later, for policy reasons, but never as a syntax error), and a
relative IRI in one never becomes a file: IRI.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from gate_helpers import CONTRIBUTIONS, W3C, data_digest, shared_existing, shared_project
from helpers import run_cli
from kgtool.contribution import examine

if not (W3C / "INDEX.tsv").is_file():
    pytest.skip(f"the W3C Turtle suite is not at {W3C} (../shared is absent)", allow_module_level=True)


def _rows() -> list[dict[str, str]]:
    with (W3C / "INDEX.tsv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


ROWS = _rows()
NEGATIVE = [W3C / r["file"] for r in ROWS if r["w3c_type"] == "TestTurtleNegativeSyntax"]
POSITIVE = [W3C / r["file"] for r in ROWS if r["w3c_type"] == "TestTurtlePositiveSyntax"]


def test_the_suite_is_complete():
    suites = [r["suite"] for r in ROWS if r["w3c_type"] == "TestTurtleNegativeSyntax"]
    assert (suites.count("rdf11"), suites.count("rdf12"), len(POSITIVE)) == (94, 33, 74)
    assert all(path.is_file() for path in NEGATIVE + POSITIVE)


@pytest.mark.parametrize("path", NEGATIVE, ids=lambda p: p.name)
def test_every_negative_file_is_refused_as_a_syntax_error(path: Path):
    project = shared_project()
    before = data_digest(project)
    report = examine(project, [path], existing=shared_existing()).report
    assert not report.conforms
    assert [f.stage for f in report.findings] == ["syntax"], report.findings
    finding = report.findings[0]
    assert finding.file == str(path) and finding.line and finding.line >= 1
    out = run_cli("--project", str(project.root), "validate", str(path), exit_code=1).stdout
    assert f"{path}:{finding.line}" in out
    assert "Traceback" not in out
    run_cli("--project", str(project.root), "add", str(path), exit_code=1)
    assert data_digest(project) == before


@pytest.mark.parametrize("path", POSITIVE, ids=lambda p: p.name)
def test_every_positive_file_gets_past_the_syntax_stage(path: Path):
    report = examine(shared_project(), [path], existing=shared_existing()).report
    assert "syntax" not in {f.stage for f in report.findings}, report.findings
    for finding in report.findings:
        assert "file:" not in finding.focus + finding.value + finding.message


def test_relative_iris_resolve_against_the_pinned_base_never_a_file_path():
    path = W3C / "rdf11" / "positive-syntax" / "turtle-syntax-kw-01.ttl"  # <s> <p> true .
    report = examine(shared_project(), [path], existing=shared_existing()).report
    relative = [f for f in report.findings if "relative IRI <s>" in f.message]
    assert relative and relative[0].focus == "https://w3id.org/kzcn/contribution/s"
    assert relative[0].stage == "policy" and not report.conforms


def test_a_syntax_error_is_reported_as_file_line_column_and_reason():
    path = CONTRIBUTIONS / "invalid-syntax-lang-and-datatype.ttl"
    out = run_cli("--project", str(shared_project().root), "validate", str(path), exit_code=1).stdout
    assert f"{path}:15:27: invalid Turtle: ^^ is not a valid subject or graph name" in out


def test_rdf_1_2_triple_terms_are_refused_at_the_syntax_stage():
    path = CONTRIBUTIONS / "invalid-syntax-rdf12.ttl"
    report = examine(shared_project(), [path], existing=shared_existing()).report
    assert [f.stage for f in report.findings] == ["syntax"]
    assert "not RDF 1.1" in report.findings[0].message and report.findings[0].line == 14
