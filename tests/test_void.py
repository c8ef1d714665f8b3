"""`kgtool stats --format ttl`: a VoID description that parses and counts what the data holds."""

from __future__ import annotations

from collections import Counter

import pytest
from rdflib import RDF, Graph, Literal, Namespace, URIRef

from helpers import REPO, run_cli
from kgtool.loading import parse_files
from kgtool.project import find_project

VOID = Namespace("http://rdfs.org/ns/void#")
DCTERMS = Namespace("http://purl.org/dc/terms/")
KZCN = "https://w3id.org/kzcn/ontology#"
ID = "https://w3id.org/kzcn/id/"


@pytest.fixture(scope="module")
def data() -> Graph:
    graph = parse_files(find_project(REPO).data_files)
    assert len(graph) > 1000
    return graph


@pytest.fixture(scope="module")
def void() -> tuple[Graph, URIRef]:
    graph = Graph().parse(data=run_cli("stats", "--format", "ttl").stdout, format="turtle")
    datasets = list(graph.subjects(RDF.type, VOID.Dataset))
    assert len(datasets) == 1
    return graph, datasets[0]


def number(graph: Graph, node, prop) -> int:
    value = graph.value(node, prop)
    assert isinstance(value, Literal), f"no {prop} on {node}"
    return int(value)


def test_counts_match_the_data(void, data):
    graph, dataset = void
    assert number(graph, dataset, VOID.triples) == len(data)
    entities = {s for s in data.subjects() if str(s).startswith(ID)}
    assert number(graph, dataset, VOID.entities) == len(entities)
    assert number(graph, dataset, VOID.distinctSubjects) == len(set(data.subjects()))
    assert number(graph, dataset, VOID.distinctObjects) == len(set(data.objects()))
    assert number(graph, dataset, VOID.properties) == len(set(data.predicates()))


def test_property_partitions_add_up(void, data):
    graph, dataset = void
    parts = list(graph.objects(dataset, VOID.propertyPartition))
    counts = {graph.value(p, VOID.property): number(graph, p, VOID.triples) for p in parts}
    assert counts == dict(Counter(data.predicates()))
    assert sum(counts.values()) == len(data)


def test_class_partitions_count_instances_with_superclasses(void):
    graph, dataset = void
    parts = {graph.value(p, VOID["class"]): number(graph, p, VOID.entities)
             for p in graph.objects(dataset, VOID.classPartition)}
    assert parts[URIRef(KZCN + "ConfuciusInstitute")] == 5
    assert parts[URIRef(KZCN + "ConfuciusInstitutePartnership")] == 5
    actors, universities = parts[URIRef(KZCN + "Actor")], parts[URIRef(KZCN + "University")]
    assert actors > universities > 5, "superclasses count their subclasses' instances"


def test_describes_title_licence_sources_vocabulary_and_examples(void, data):
    graph, dataset = void
    assert graph.value(dataset, DCTERMS.title) is not None
    assert graph.value(dataset, DCTERMS.description) is not None
    assert graph.value(dataset, DCTERMS.license) is not None
    articles = set(data.subjects(RDF.type, URIRef(KZCN + "Article")))
    assert set(graph.objects(dataset, DCTERMS.source)) == articles
    assert len(set(graph.objects(dataset, DCTERMS.source))) == 2
    assert URIRef(KZCN.rstrip("#")) in set(graph.objects(dataset, VOID.vocabulary))
    assert str(graph.value(dataset, VOID.uriSpace)) == ID
    examples = set(graph.objects(dataset, VOID.exampleResource))
    assert examples and all((e, None, None) in data for e in examples)
    assert graph.value(dataset, VOID.sparqlEndpoint) is None, "no endpoint is published"


def test_output_is_deterministic():
    assert run_cli("stats", "--format", "ttl").stdout == run_cli("stats", "--format", "ttl").stdout
