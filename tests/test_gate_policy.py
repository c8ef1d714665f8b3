"""Policy and vocabulary: what a contribution may say at all, and with which terms.

Data first: each case is a small file in tests/fixtures/contributions/ whose ``# expect:`` lines say which
findings it must produce (stage, severity, words of the message).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rdflib import Graph
from rdflib.namespace import SH

from gate_helpers import (
    CONTRIBUTIONS,
    assert_expectations,
    data_digest,
    fixture_files,
    shared_existing,
    shared_project,
)
from helpers import run_cli
from kgtool.contribution import examine

CASES = (
    fixture_files("invalid-policy-*.ttl")
    + fixture_files("invalid-vocabulary-*.ttl")
    + fixture_files("invalid-syntax-*.ttl")
)


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_each_case_is_refused_with_the_expected_findings(path: Path):
    report = examine(shared_project(), [path], existing=shared_existing()).report
    assert_expectations(path, report)
    for finding in report.findings:
        if finding.severity == "Violation":
            assert finding.file == str(path) and (finding.line or finding.stage == "policy")


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_each_case_exits_1_and_leaves_data_unchanged(path: Path):
    project = shared_project()
    before = data_digest(project)
    run_cli("--project", str(project.root), "validate", str(path), exit_code=1)
    run_cli("--project", str(project.root), "add", str(path), exit_code=1)
    assert data_digest(project) == before
    assert not list(project.data_dir.glob(".kgtool-merge*")), "a refusal left a lock or temporary file"


def test_policy_problems_stop_the_check_before_the_data_is_consulted():
    path = CONTRIBUTIONS / "invalid-policy-sameas.ttl"
    report = examine(shared_project(), [path], existing=shared_existing()).report
    assert {f.stage for f in report.findings} == {"policy"}
    assert any(f.severity == "Info" and "fix the policy problems" in f.message for f in report.findings)


def test_findings_name_the_line_of_the_offending_triple():
    path = CONTRIBUTIONS / "invalid-vocabulary-concert-typos.ttl"
    report = examine(shared_project(), [path], existing=shared_existing()).report
    lines = {f.message.split(";")[0]: f.line for f in report.findings}
    assert lines["kzcn:Concrt is not a class of the ontology"] == 17
    assert lines["kzcn:plce is not a property of the ontology"] == 20


def test_text_report_groups_by_entity_with_labels_and_lines():
    path = CONTRIBUTIONS / "invalid-vocabulary-concert-typos.ttl"
    out = run_cli("--project", str(shared_project().root), "validate", str(path), exit_code=1).stdout
    assert out.startswith(f"{path}: does not conform (4 violations")
    assert "\nGate test friendship concert in Almaty (event:2019-09-01-gate-test-friendship-concert)\n" in out
    assert (
        f"  violation: {path}:17: kzcn:Concrt is not a class of the ontology; did you mean kzcn:Concert?"
        in out
    )
    assert "value place:almatty" in out  # values shortened, not bare IRIs


def test_json_report_carries_stage_severity_and_location():
    path = CONTRIBUTIONS / "invalid-vocabulary-concert-typos.ttl"
    out = run_cli(
        "--project", str(shared_project().root), "validate", str(path), "--format", "json", exit_code=1
    ).stdout
    doc = json.loads(out)
    assert doc["conforms"] is False and doc["counts"]["Violation"] == 4
    stages = {(f["stage"], f["line"]) for f in doc["findings"]}
    assert ("vocabulary", 17) in stages and ("datatype", 19) in stages and ("reference", 21) in stages


def test_ttl_report_is_a_shacl_validation_report():
    path = CONTRIBUTIONS / "invalid-policy-blank-node.ttl"
    out = run_cli(
        "--project", str(shared_project().root), "validate", str(path), "--format", "ttl", exit_code=1
    ).stdout
    graph = Graph().parse(data=out, format="turtle")
    report = next(graph.subjects(predicate=SH.conforms))
    assert str(graph.value(report, SH.conforms)) == "false"
    messages = [str(m) for m in graph.objects(None, SH.resultMessage)]
    assert any("anonymous node" in m for m in messages)


def test_several_files_are_checked_together_and_findings_keep_their_file():
    paths = [CONTRIBUTIONS / "valid-concert.ttl", CONTRIBUTIONS / "invalid-policy-sameas.ttl"]
    report = examine(shared_project(), paths, existing=shared_existing()).report
    assert {f.file for f in report.findings if f.severity == "Violation"} == {str(paths[1])}
