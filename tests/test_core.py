"""The ontology, the shapes, the bundled data and OWL RL reasoning."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import OWL, RDF, Literal, Namespace, URIRef

from kgtool.loading import parse_files
from kgtool.project import find_project
from kgtool.reason import infer
from kgtool.validate import lint_ontology, validate_project

KZCN = Namespace("https://w3id.org/kzcn/ontology#")
ID = "https://w3id.org/kzcn/id/"
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def project():
    return find_project(Path(__file__).resolve().parents[1])


def test_ontology_and_shapes_pass_their_lint(project):
    report = lint_ontology(project)
    assert report.checked_triples > 500, "the lint saw almost nothing"
    assert report.conforms, [f.message for f in report.violations]


def test_bundled_data_conforms_to_the_shapes(project):
    report = validate_project(project)
    assert report.checked_triples > 2000, "the bundled data is nearly empty"
    assert report.conforms, "\n".join(f"{f.focus} {f.path} {f.message}" for f in report.violations[:20])


def test_every_shape_targets_a_class_of_the_ontology(project):
    ontology = parse_files([project.ontology_file])
    shapes = parse_files([project.shapes_file])
    classes = set(ontology.subjects(RDF.type, OWL.Class))
    targets = set(shapes.objects(None, URIRef("http://www.w3.org/ns/shacl#targetClass")))
    assert targets, "no shape targets any class"
    unknown = {t for t in targets if str(t).startswith(str(KZCN)) and t not in classes}
    assert not unknown


def test_every_ontology_class_is_covered_by_a_shape_target(project):
    """Shapes target superclasses; every class must fall under some target (SHACL follows subClassOf). The
    classes of other vocabularies that the ontology declares (for OWL 2 DL) are not its own."""
    ontology = parse_files([project.ontology_file])
    shapes = parse_files([project.shapes_file])
    targets = set(shapes.objects(None, URIRef("http://www.w3.org/ns/shacl#targetClass")))
    subclass = URIRef("http://www.w3.org/2000/01/rdf-schema#subClassOf")
    own = [c for c in ontology.subjects(RDF.type, OWL.Class) if str(c).startswith(str(KZCN))]
    assert len(own) > 50
    for cls in own:
        ancestors = {cls, *ontology.transitive_objects(cls, subclass)}
        assert ancestors & targets, f"{cls} is not covered by any shape"


@pytest.fixture(scope="module")
def fixture_inferences(project):
    asserted = parse_files([project.ontology_file, FIXTURES / "reasoning" / "ci-partnership.ttl"])
    return asserted, infer(asserted)


@pytest.mark.parametrize("triple", [
    ("organization/ci-test", KZCN.hostedBy, "organization/host-u"),
    ("organization/ci-test", KZCN.chinesePartner, "organization/partner-u"),
    ("organization/ci-test", RDF.type, KZCN.Organization),
    ("organization/ci-test", RDF.type, KZCN.Actor),
    ("organization/ci-test", KZCN.runBy, "partnership/ci-test"),
    ("organization/host-u", KZCN.partnerIn, "partnership/ci-test"),
    ("partnership/ci-test", KZCN.partner, "organization/host-u"),
    ("place/test-city", KZCN.locatedIn, "place/test-country"),
    ("organization/host-u", KZCN.locatedIn, "place/test-country"),
    ("place/test-country", KZCN.partyTo, "agreement/test"),
    ("person/signer", KZCN.signed, "agreement/test"),
    ("agreement/test", RDF.type, KZCN.Agreement),
    ("event/test", KZCN.participant, "organization/host-u"),
    ("organization/host-u", KZCN.participatedIn, "event/test"),
    ("initiative/b", KZCN.alignedWith, "initiative/a"),
], ids=lambda v: str(v).rsplit("#", 1)[-1].rsplit("/", 1)[-1])
def test_owl_rl_adds_the_expected_inference(fixture_inferences, triple):
    _asserted, inferred = fixture_inferences
    s, p, o = triple
    o_term = URIRef(ID + o) if isinstance(o, str) and "/" in o and not o.startswith("http") else o
    assert (URIRef(ID + s), p, o_term) in inferred


def test_inferences_are_apart_from_and_new_to_the_asserted_graph(fixture_inferences):
    asserted, inferred = fixture_inferences
    assert len(inferred) > 20
    assert not any(t in asserted for t in inferred)


def test_inferences_carry_no_reasoner_noise(fixture_inferences):
    _asserted, inferred = fixture_inferences
    for s, p, o in inferred:
        assert not isinstance(s, Literal)
        assert not (p == OWL.sameAs and s == o)
        assert o not in (OWL.Thing, URIRef("http://www.w3.org/2000/01/rdf-schema#Resource"))
        assert not str(s).startswith(("http://www.w3.org/", str(KZCN))), f"schema-level noise: {s} {p} {o}"


def test_reasoning_never_mutates_its_input(project):
    asserted = parse_files([project.ontology_file, FIXTURES / "reasoning" / "ci-partnership.ttl"])
    before = len(asserted)
    infer(asserted)
    assert len(asserted) == before
