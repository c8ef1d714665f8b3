"""pySHACL with each SPARQL constraint parsed once (kgtool.parsed_queries) finds what pySHACL as shipped finds."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from rdflib import Graph, Literal, URIRef

from gate_helpers import copy_project
from kgtool import parsed_queries
from kgtool.validate import validate_project

FAULTS = Path(__file__).parent / "fixtures" / "validation" / "every-fault.ttl"


def test_a_validation_finds_the_same_with_each_query_parsed_once(tmp_path):
    """On the fixture with a fault of every kind (the SPARQL constraints' among them), alone in data/."""
    project = copy_project(tmp_path / "project")
    for path in project.data_dir.glob("*.ttl"):
        path.unlink()
    (project.data_dir / "faults.ttl").write_bytes(FAULTS.read_bytes())
    logging.disable(logging.CRITICAL)
    try:
        shipped = validate_project(project, parse_once=False)
        once = validate_project(project)
    finally:
        logging.disable(logging.NOTSET)
    messages = {f.message for f in once.findings}
    assert "Add an English label: rdfs:label \"…\"@en." in messages
    assert any(m.startswith("The end date ") for m in messages), "a SPARQL constraint with bindings in its message"
    assert _comparable(once) == _comparable(shipped)


def _comparable(report) -> list[tuple]:
    """Findings as sortable rows; a blank node's label is the parse's own."""
    def blank(text: str) -> str:
        return "_:" if text.startswith("_:") else text

    return sorted((f.severity, f.message, blank(f.focus), f.focus_label, f.path, blank(f.value),
                   blank(f.source_shape)) for f in report.findings)


def test_the_parse_is_shared_only_inside_and_each_call_gets_its_own_bindings():
    from rdflib.plugins.sparql import processor

    shipped = processor.SPARQLProcessor.query
    graph = Graph()
    graph.add((URIRef("urn:a"), URIRef("urn:p"), Literal(1)))
    graph.add((URIRef("urn:b"), URIRef("urn:p"), Literal(2)))
    text = "SELECT ?v WHERE { ?s <urn:p> ?v }"
    with parsed_queries.parsed_once():
        with parsed_queries.parsed_once():  # nested: still patched after the inner one ends
            pass
        assert processor.SPARQLProcessor.query is not shipped
        values = [[row.v.toPython() for row in graph.query(text, initBindings={"s": URIRef(s)})]
                  for s in ("urn:a", "urn:b", "urn:a")]
        assert parsed_queries._prepared.cache_info().currsize == 1
    assert values == [[1], [2], [1]]
    assert processor.SPARQLProcessor.query is shipped
    assert parsed_queries._prepared.cache_info().currsize == 0


def test_threads_that_overlap_leave_rdflib_as_shipped():
    from rdflib.plugins.sparql import processor

    shipped = processor.SPARQLProcessor.query
    inside = threading.Barrier(4)

    def validate_like():
        with parsed_queries.parsed_once():
            inside.wait(timeout=10)

    threads = [threading.Thread(target=validate_like) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert processor.SPARQLProcessor.query is shipped
