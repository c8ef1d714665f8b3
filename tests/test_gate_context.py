"""The contribution in context: SHACL over data + contribution + closure, reporting only what the
contribution causes; references; duplicates.

The checks run on a copy of the project with tests/fixtures/gate-data/gate-test-data.ttl added (a
Confucius Institute with its one partnership, a person with a birth year, an ensemble, a town that already
has a warning), so that every case is about entities of known shape.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import URIRef

from gate_helpers import CONTRIBUTIONS, REPO, assert_expectations, fixture_files, shared_existing, shared_project
from helpers import run_cli
from kgtool.context import neighbourhood_inferences, new_inferences
from kgtool.contribution import examine
from kgtool.loading import new_graph
from kgtool.namespaces import ONTOLOGY
from kgtool.project import find_project
from kgtool.reason import infer
from kgtool.references import normalize_label

CASES = fixture_files("*-context-*.ttl") + fixture_files("valid-*.ttl")


@pytest.mark.parametrize("path", sorted(set(CASES)), ids=lambda p: p.stem)
def test_each_case_gives_the_expected_findings(path: Path):
    report = examine(shared_project(), [path], existing=shared_existing()).report
    assert_expectations(path, report)


def test_a_valid_contribution_exits_0_and_says_it_conforms():
    path = CONTRIBUTIONS / "valid-concert.ttl"
    out = run_cli("--project", str(shared_project().root), "validate", str(path)).stdout
    assert out == f"{path}: conforms (0 violations, 0 warnings, 0 notes; 5 triples checked)\n"


def test_warnings_alone_exit_0():
    path = CONTRIBUTIONS / "valid-context-duplicate-label.ttl"
    out = run_cli("--project", str(shared_project().root), "validate", str(path)).stdout
    assert "conforms (0 violations, 1 warning," in out and "may be the same as Almaty (place:almaty)" in out


def test_the_problem_caused_on_an_existing_entity_is_located_in_the_contribution():
    path = CONTRIBUTIONS / "invalid-context-second-partnership.ttl"
    report = examine(shared_project(), [path], existing=shared_existing()).report
    [finding] = report.violations
    assert finding.focus == "https://w3id.org/kzcn/id/organization/gate-test-confucius-institute"
    assert finding.focus_label == "Gate Test Confucius Institute"
    assert (finding.file, finding.line) == (str(path), 17)  # where the contribution names the institute


def test_a_problem_the_data_already_had_is_not_blamed_on_the_contribution():
    existing = shared_existing()
    town = "https://w3id.org/kzcn/id/place/gate-test-town"
    from kgtool.validate import shacl_findings

    graph = new_graph()
    for source in (existing.asserted, existing.inferred):
        for triple in source:
            graph.add(triple)
    before, _ = shacl_findings(graph, existing.shapes, focus_nodes=[URIRef(town)], inplace=True)
    assert any(f.focus == town for f in before), "the fixture town should already have a warning"
    report = examine(
        shared_project(), [CONTRIBUTIONS / "valid-context-pre-existing-warning.ttl"], existing=existing
    ).report
    assert report.findings == []


def test_new_inferences_equal_owlrl_over_the_whole_graph():
    """The contribution's new inferences, both ways (fast reasoner over everything; owlrl over a
    neighbourhood), against owlrl over everything, on contributions that exercise inverses,
    sub-properties, domains and ranges, functional and transitive properties (Almaty put in a new region:
    everything in Almaty is then in it too)."""
    existing = shared_existing()
    names = [
        "valid-visit-and-person.ttl",
        "invalid-context-second-partnership.ttl",
        "valid-concert.ttl",
        "valid-context-located-chain.ttl",
    ]
    contribution = examine(
        shared_project(), [CONTRIBUTIONS / n for n in names], existing=existing
    ).contribution
    assert contribution is not None
    whole = new_graph()
    for source in (existing.asserted, contribution.graph):
        for triple in source:
            whole.add(triple)
    full = {t for t in infer(whole) if t not in existing.inferred and t not in contribution.graph}
    for method in (new_inferences, neighbourhood_inferences):
        local = set(method(existing, contribution.graph))
        assert local == full, f"{method.__name__}: only it: {local - full}\nonly owlrl: {full - local}"
        assert full, "no new inferences at all: the comparison would prove nothing"
    reaching_back = (
        URIRef("https://w3id.org/kzcn/id/organization/gate-test-ensemble"),
        URIRef("https://w3id.org/kzcn/ontology#locatedIn"),
        URIRef("https://w3id.org/kzcn/id/place/gate-test-region"),
    )
    assert reaching_back in full


@pytest.mark.parametrize(
    ("a", "b"), [("Almaty", "ALMATY"), ("Almaty", "Álmaty"), ("Al-Farabi", "al farabi"), ("Алматы", "АЛМАТЫ")]
)
def test_duplicate_names_compare_without_case_accents_or_punctuation(a, b):
    assert normalize_label(a) == normalize_label(b)


def test_the_check_of_a_small_contribution_is_fast():
    import time

    existing = shared_existing()
    start = time.perf_counter()
    examine(shared_project(), [CONTRIBUTIONS / "valid-concert.ttl"], existing=existing)
    assert time.perf_counter() - start < 10


def test_a_link_outside_its_range_is_blamed_on_the_link_not_on_what_it_points_to():
    """Without the domain and range stage this file conformed: the closure made Almaty an article and the
    person a place, and the shapes then reported Almaty's missing title, if anything."""
    path = CONTRIBUTIONS / "invalid-context-domain.ttl"
    report = examine(shared_project(), [path], existing=shared_existing()).report
    assert {(f.stage, f.line) for f in report.violations if f.stage != "shacl"} == {("ontology", 14), ("ontology", 20)}
    # the wrong links are left out of the later stages: nothing about Almaty as an article or a person;
    # the concert, whose only source was the wrong one, is asked for a source
    shapes = [(f.focus.rsplit("/", 1)[-1], f.path.rsplit("#", 1)[-1]) for f in report.findings if f.stage == "shacl"]
    assert shapes == [("2019-09-03-gate-test-domain-concert", "statedIn")], shapes


def test_the_bundled_data_meets_every_domain_and_range_by_its_asserted_classes():
    """The stage's premise: data/ types its entities itself, so the stage refuses nothing data/ does."""
    from rdflib import RDF, Literal

    from kgtool.domains import Signatures
    from kgtool.graphs import load_graphs

    signatures = Signatures(shared_existing().closed_ontology)
    graph = load_graphs(find_project(REPO), inference=False).union()
    misfits = []
    for s, p, o in graph:
        for node, expected in ((s, signatures.domains.get(p)), (o, signatures.ranges.get(p))):
            if expected and not isinstance(node, Literal):
                have = signatures.closed(set(graph.objects(node, RDF.type)))
                if not have or not {c for c in expected if str(c).startswith(ONTOLOGY)} <= have:
                    misfits.append((s, p, o))
    assert not misfits, misfits[:5]
    assert len(signatures.ranges) > 20 and len(signatures.domains) > 40


def test_the_ontology_closure_of_one_checkout_is_not_reused_by_another(tmp_path, monkeypatch):
    """A relative IRI in the ontology names the checkout's own folder; the cache's key, only the bytes."""
    from gate_helpers import copy_project
    from kgtool.context import Existing

    monkeypatch.setenv("KGTOOL_CACHE_DIR", str(tmp_path / "cache"))
    for name in ("a", "b"):
        project = copy_project(tmp_path / name, with_gate_data=False)
        with project.ontology_file.open("a", encoding="utf-8") as out:
            out.write("\n<LocalClass> a <http://www.w3.org/2002/07/owl#Class> .\n")
        closed = Existing(project).closed_ontology
        assert URIRef((project.root / "ontology" / "LocalClass").as_uri()) in set(closed.subjects())
