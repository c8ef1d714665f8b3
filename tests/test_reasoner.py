"""The fast reasoner (kgtool.rules) infers exactly what the reference (kgtool.reason: owlrl without its
noise) infers: on the bundled data, on the fixtures, and on graphs made by the benchmark generator."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest

from helpers import REPO
from kgtool import rules
from kgtool.loading import parse_files
from kgtool.reason import infer as owlrl_infer

FIXTURES = Path(__file__).parent / "fixtures" / "reasoning"
ONTOLOGY = REPO / "ontology" / "kzcn.ttl"


def _generator():
    spec = importlib.util.spec_from_file_location("kgtool_generate", REPO / "benchmarks" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def as_strings(graph) -> set[tuple[str, str, str]]:
    """rdflib triples as the N-Triples term strings kgtool.rules works on (one parser for both sides)."""
    data = graph.serialize(format="nt")
    parsed = ox.parse(data, format=ox.RdfFormat.N_TRIPLES)
    return {(str(t.subject), str(t.predicate), str(t.object)) for t in parsed}


def compare(files: list[Path]) -> tuple[set, set]:
    asserted = parse_files(files)
    assert len(asserted) > 50, "the graph is nearly empty"
    return as_strings(owlrl_infer(asserted)), rules.infer(as_strings(asserted))


def assert_same(expected: set, got: set) -> None:
    missing, extra = sorted(expected - got)[:10], sorted(got - expected)[:10]
    assert not missing and not extra, f"missing {missing}\nextra {extra}"


def test_same_inferences_as_owlrl_on_the_bundled_data():
    expected, got = compare([ONTOLOGY, *sorted((REPO / "data").glob("*.ttl"))])
    assert len(expected) > 1000
    assert_same(expected, got)


@pytest.mark.parametrize("fixture", ["ci-partnership.ttl", "edge-cases.ttl"])
def test_same_inferences_as_owlrl_on_the_fixtures(fixture):
    files = [FIXTURES / fixture] if fixture == "edge-cases.ttl" else [ONTOLOGY, FIXTURES / fixture]
    expected, got = compare(files)
    assert expected
    assert_same(expected, got)


def test_edge_cases_exercise_equality_chains_and_cycles():
    _expected, got = compare([FIXTURES / "edge-cases.ttl"])
    ex = "https://example.org/"
    assert (f"<{ex}g1>", f"<{ex}grand>", f"<{ex}g4>") in got  # a three-step property chain
    assert (f"<{ex}s3>", f"<{ex}near>", f"<{ex}n1>") in got  # owl:sameAs carries facts over
    assert (f"<{ex}f2>", f"<{ex}amount>", '"5"^^<http://www.w3.org/2001/XMLSchema#integer>') in got


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """A small project from the generator: the CI fixture cloned 12 times, with cross-links."""
    source = tmp_path_factory.mktemp("source")
    shutil.copytree(REPO / "ontology", source / "ontology")
    shutil.copytree(REPO / "queries", source / "queries")
    (source / "data").mkdir()
    shutil.copy(FIXTURES / "ci-partnership.ttl", source / "data" / "ci.ttl")
    out = tmp_path_factory.mktemp("generated") / "project"
    info = _generator().generate(400, out, seed=7, project=source)
    assert info["copies"] >= 10
    return out


def test_same_inferences_as_owlrl_on_a_generated_graph(generated):
    files = [generated / "ontology" / "kzcn.ttl", *sorted((generated / "data").glob("*.ttl"))]
    expected, got = compare(files)
    assert_same(expected, got)


def test_same_inferences_as_owlrl_with_a_faulty_contribution(generated):
    """A figure with two values of a functional property: owlrl's owl:sameAs between the two literals."""
    files = [generated / "ontology" / "kzcn.ttl", *sorted((generated / "data").glob("*.ttl")),
             FIXTURES / "edge-cases.ttl"]
    expected, got = compare(files)
    assert_same(expected, got)


def test_unsupported_axioms_are_detected():
    triples = {("_:r", "<http://www.w3.org/2002/07/owl#someValuesFrom>", "<https://example.org/C>")}
    assert rules.unsupported(triples) == ["<http://www.w3.org/2002/07/owl#someValuesFrom>"]
    assert rules.unsupported(as_strings(parse_files([ONTOLOGY]))) == []


def test_incremental_closure_equals_the_difference_of_full_closures(generated):
    """What an addition entails, computed against the closed base only, equals full(both) − full(base)."""
    data = sorted((generated / "data").glob("*.ttl"))
    base = as_strings(parse_files([generated / "ontology" / "kzcn.ttl", *data[1:]]))
    addition = as_strings(parse_files([data[0]])) - base
    closed = rules.Closure(base).run()
    full_base = {(s, p, o) for p, pairs in closed.facts.items() for s, o in pairs}
    closure = rules.Closure(addition, base=rules.SetBase(full_base), tbox_facts=full_base)
    incremental = closure.run().inferred()
    expected = rules.infer(base | addition) - rules.infer(base) - addition
    assert incremental == expected
