"""The gate at scale: it reads the project's snapshot, never the whole graph, and still says what full
pySHACL on the merged graph says.

- the SHACL stage equals "full pySHACL on data + contribution minus full pySHACL on the data", result for
  result, on a contribution with a fault of each kind (tests/fixtures/gate-scale/every-kind.ttl);
- the fast evaluation on a neighbourhood and the pySHACL fallback over the whole graph give the same report;
- a check parses no data file and never loads the asserted triples whole;
- the snapshot views (asserted, inferred), the gate's index, the quicker name normalisation and "did you
  mean" equal what they replace;
- a contribution of 10,000 triples is checked (the old cap was 2,000).
"""

from __future__ import annotations

import difflib
import logging
import shutil
import unicodedata
from collections import Counter
from pathlib import Path

import pytest
from rdflib import RDF, BNode, URIRef

from gate_helpers import CONTRIBUTIONS, copy_project, shared_existing, shared_project
from kgtool import hygiene
from kgtool.context import AssertedGraph, Existing, load_existing
from kgtool.contribution import check_contribution, examine
from kgtool.loading import new_graph, parse_files
from kgtool.namespaces import INSTANCE_BASE, shorten
from kgtool.references import normalize_label
from kgtool.shapes_fast import compile_shapes, locality_problem, sparql_is_local
from kgtool.snapshot import parse_file
from kgtool.validate import validate_project
from kgtool.vocabulary import _local, suggestions

EVERY_KIND = Path(__file__).parent / "fixtures" / "gate-scale" / "every-kind.ttl"
KZCN = "https://w3id.org/kzcn/ontology#"


def keys(findings) -> Counter:
    return Counter((f.severity, f.message, f.focus, f.path, f.value) for f in findings)


@pytest.fixture(scope="module")
def full_runs(tmp_path_factory):
    """pySHACL over the whole graph (data + closure), before and after the contribution joins data/."""
    logging.disable(logging.CRITICAL)
    try:
        before = validate_project(shared_project())
        merged = copy_project(tmp_path_factory.mktemp("merged") / "project")
        shutil.copy(EVERY_KIND, merged.data_dir / "zz-every-kind.ttl")
        return before, validate_project(merged)
    finally:
        logging.disable(logging.NOTSET)


def test_the_shacl_stage_equals_full_pyshacl_on_the_merged_graph(full_runs):
    before, after = full_runs
    report = examine(shared_project(), [EVERY_KIND], existing=shared_existing()).report
    caused = keys(after.findings) - keys(before.findings)
    assert not before.violations, "the test data should conform before the contribution"
    assert sum(caused.values()) >= 15, "the fixture should cause a result of each kind"
    assert keys(f for f in report.findings if f.stage == "shacl") == caused
    assert report.conforms is after.conforms is False
    # what only the ontology says (disjoint classes) is the ontology stage's
    assert [f.focus for f in report.findings if f.stage == "ontology"] == [
        "https://w3id.org/kzcn/id/organization/gate-test-university-b"
    ]


def test_a_date_with_a_time_is_refused_as_full_pyshacl_refuses_it(full_runs):
    """pySHACL checking some focus nodes only skips sh:or members (the old gate missed this fault)."""
    _before, after = full_runs
    meeting = "https://w3id.org/kzcn/id/event/2019-gate-scale-timed-meeting"
    assert any(f.focus == meeting and f.path == f"{KZCN}date" for f in after.violations)
    report = examine(shared_project(), [CONTRIBUTIONS / "invalid-context-date-time.ttl"],
                     existing=shared_existing()).report
    assert [f.stage for f in report.violations] == ["shacl"]


def test_the_fast_path_and_the_pyshacl_fallback_agree():
    """The fallback (pySHACL over the whole graph, before and after) for shapes shapes_fast cannot
    evaluate on a neighbourhood gives the very report the fast path gives."""
    fallback = load_existing(shared_project())
    fallback.__dict__["fast_shapes"] = None  # as if the shapes used a feature shapes_fast lacks

    def comparable(report):
        return sorted((f.severity, f.message, f.focus, f.focus_label, f.path, f.value, f.stage, f.file, f.line)
                      for f in report.findings)

    fast = examine(shared_project(), [EVERY_KIND], existing=shared_existing()).report
    logging.disable(logging.CRITICAL)
    try:
        slow = examine(shared_project(), [EVERY_KIND], existing=fallback).report
    finally:
        logging.disable(logging.NOTSET)
    assert comparable(fast) == comparable(slow)
    assert len(fast.findings) >= 15, "too little found: the comparison would prove little"


def test_a_check_reads_no_data_file_and_never_the_whole_graph(monkeypatch):
    import kgtool.graphs
    import kgtool.loading

    project = shared_project()
    parsed: list[Path] = []
    original = kgtool.loading.parse_turtle
    monkeypatch.setattr(kgtool.loading, "parse_turtle", lambda path, into=None: (parsed.append(path),
                                                                                    original(path, into))[1])

    def refuse(*_args, **_kwargs):
        raise AssertionError("the whole graph was loaded")

    monkeypatch.setattr(kgtool.graphs, "load_asserted", refuse)
    monkeypatch.setattr(AssertedGraph, "load_all", refuse)
    existing = Existing(project)
    for name in ("valid-concert.ttl", "invalid-context-second-partnership.ttl",
                 "invalid-vocabulary-concert-typos.ttl", "valid-context-duplicate-label.ttl",
                 "invalid-context-disjoint.ttl", "valid-context-located-chain.ttl"):
        examine(project, [CONTRIBUTIONS / name], existing=existing)
    examine(project, [EVERY_KIND], existing=existing)
    assert set(parsed) <= {project.ontology_file, project.shapes_file}


def test_the_asserted_and_inferred_views_equal_the_files():
    existing = Existing(shared_project())
    data = parse_files(shared_project().source_files)
    inferred = new_graph().parse(existing.snapshot.inferred_file, format="nt")

    def named(triples) -> set:
        return {t for t in triples if not any(isinstance(x, BNode) for x in t)}

    town = URIRef(f"{INSTANCE_BASE}place/gate-test-town")
    almaty = URIRef(f"{INSTANCE_BASE}place/almaty")
    for subject in (town, almaty, URIRef(f"{INSTANCE_BASE}figure/kz-students-in-china-2019-article-000")):
        assert set(existing.asserted.triples((subject, None, None))) == set(data.triples((subject, None, None)))
        assert set(existing.inferred.triples((subject, None, None))) == set(inferred.triples((subject, None, None)))
    for pattern in ((None, RDF.type, URIRef(f"{KZCN}City")), (None, URIRef(f"{KZCN}locatedIn"), almaty)):
        assert set(existing.asserted.triples(pattern)) == set(data.triples(pattern))
        assert set(existing.inferred.triples(pattern)) == set(inferred.triples(pattern))
    assert named(existing.inferred) == named(inferred)
    assert named(existing.asserted) == named(data)
    assert len(existing.asserted) == len(data)


def test_the_index_finds_names_and_entities_as_a_pass_over_the_data_would():
    existing = shared_existing()
    data = parse_files(shared_project().source_files)
    labels = {}
    for predicate in ("http://www.w3.org/2000/01/rdf-schema#label", "http://www.w3.org/2004/02/skos/core#altLabel",
                      "http://www.w3.org/2004/02/skos/core#prefLabel"):
        for s, label in data.subject_objects(URIRef(predicate)):
            if str(s).startswith(INSTANCE_BASE):
                labels.setdefault(normalize_label(str(label)), set()).add(s)
    assert len(labels) > 500
    assert existing.same_names(set(labels)) == labels
    assert existing.same_names({"no entity is called this"}) == {}
    places = sorted({s for s in data.subjects() if str(s).startswith(f"{INSTANCE_BASE}place/")})
    assert existing.entities_from(f"{INSTANCE_BASE}place/") == places
    assert existing.entities == {s for s in data.subjects() if isinstance(s, URIRef)
                                 and str(s).startswith(INSTANCE_BASE)}


def _tables(folder: Path) -> tuple[list, list]:
    import sqlite3

    with sqlite3.connect(folder / "index.sqlite") as index, sqlite3.connect(folder / "names.sqlite") as names:
        return (index.execute("SELECT * FROM subjects ORDER BY subject").fetchall(),
                names.execute("SELECT * FROM names ORDER BY name, subject").fetchall())


@pytest.mark.parametrize("how", ["no fork", "the child fails"])
def test_the_index_is_the_same_built_in_one_process(tmp_path, monkeypatch, how):
    """The names table is built by a forked child; without fork, or when the child fails, by the process
    itself: the same index either way."""
    import os

    from kgtool import gate_index
    from kgtool.snapshot import get_snapshot

    asserted = get_snapshot(shared_project()).asserted_file
    (tmp_path / "forked").mkdir()
    gate_index.build(asserted, tmp_path / "forked" / "index.sqlite")
    if how == "no fork":
        monkeypatch.setattr(gate_index, "_forked", lambda work: None)
    else:
        parent, build_names = os.getpid(), gate_index.build_names

        def fails_in_the_child(source, target):
            if os.getpid() != parent:
                target.write_bytes(b"half written")
                raise OSError("the child's disk is full")
            build_names(source, target)

        monkeypatch.setattr(gate_index, "build_names", fails_in_the_child)
    (tmp_path / "alone").mkdir()
    gate_index.build(asserted, tmp_path / "alone" / "index.sqlite")
    forked, alone = _tables(tmp_path / "forked"), _tables(tmp_path / "alone")
    assert len(forked[0]) > 500 and len(forked[1]) > 500
    assert alone == forked


def _normalize_label_as_before(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return " ".join("".join(ch if ch.isalnum() else " " for ch in plain).split())


@pytest.mark.parametrize("text", [
    "Almaty", "  Al-Farabi  Kazakh_National University (KazNU)!", "ÁLMATY", "Алматы", "Қазақстан", "哈萨克斯坦",
    "Straße", "ﬁlm ½ Ⅳ", "a\u0301b\u0327c", "x__y--z", "", "___", "Ǆemal", "İstanbul", "١٢٣ Arabic digits",
])
def test_the_quicker_name_normalisation_gives_the_same_names(text):
    assert normalize_label(text) == _normalize_label_as_before(text)


def _suggestions_as_before(term, candidates, n=3):
    wanted = shorten(str(term)).lower()
    scored = []
    for name in {shorten(str(c)) for c in candidates}:
        full = difflib.SequenceMatcher(None, wanted, name.lower()).ratio()
        local = difflib.SequenceMatcher(None, _local(wanted), _local(name).lower()).ratio()
        scored.append((max(full, local), name))
    scored = sorted((s for s in scored if s[0] >= 0.75), key=lambda s: (-s[0], s[1]))
    return [name for score, name in scored if score >= scored[0][0] - 0.08][:n] if scored else []


@pytest.mark.parametrize("typo", ["place/almatty", "place/astana-city", "person/nursultan-nazarbaev", "event/x",
                                  "organization/kaznu", "place/Almaty"])
def test_did_you_mean_gives_the_same_suggestions(typo):
    entities = shared_existing().entities
    term = URIRef(INSTANCE_BASE + typo)
    assert suggestions(term, entities) == _suggestions_as_before(term, entities)


def test_shapes_that_look_further_than_a_node_s_neighbourhood_go_to_pyshacl():
    assert locality_problem(compile_shapes(list(parse_file(shared_project().shapes_file)))) is None
    assert sparql_is_local('SELECT $this WHERE { FILTER NOT EXISTS { $this <urn:p> ?l ; <urn:q> ?m } }')
    for query in ('SELECT $this WHERE { $this <urn:p> ?x . ?x <urn:q> ?y }',
                  'SELECT $this WHERE { ?x <urn:p> $this }',
                  'SELECT $this WHERE { $this <urn:p>/<urn:q> ?x }',
                  'SELECT $this WHERE { GRAPH ?g { $this <urn:p> ?x } }',
                  'SELECT $this WHERE { $this ?p ?x }'):
        assert not sparql_is_local(query), query
    sh = "http://www.w3.org/ns/shacl#"
    nested = [("<urn:S>", f"<{sh}targetClass>", "<urn:C>"), ("<urn:S>", f"<{sh}property>", "_:p"),
              ("_:p", f"<{sh}path>", "<urn:p>"), ("_:p", f"<{sh}message>", '"m"'), ("_:p", f"<{sh}property>", "_:q"),
              ("_:q", f"<{sh}path>", "<urn:q>"), ("_:q", f"<{sh}minCount>", '"1"')]
    assert locality_problem(compile_shapes(nested)) is not None
    implicit = [("<urn:S>", "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>",
                 "<http://www.w3.org/2000/01/rdf-schema#Class>"), ("<urn:S>", f"<{sh}targetNode>", "<urn:n>")]
    assert compile_shapes(implicit) is None


def test_a_contribution_of_ten_thousand_triples_is_checked(tmp_path):
    assert hygiene.MAX_TRIPLES >= 10_000
    lines = ["@prefix place: <https://w3id.org/kzcn/id/place/> .", "@prefix kzcn: <https://w3id.org/kzcn/ontology#> .",
             "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> ."]
    lines += [f'place:gate-scale-site-{i} a kzcn:Site ; rdfs:label "Gate scale site {i}"@en ; '
              "kzcn:locatedIn place:almaty ." for i in range(3_400)]
    path = tmp_path / "sites.ttl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = check_contribution(shared_project(), [path])
    assert report.checked_triples == 10_200
    assert report.conforms and report.findings == []
