"""SHACL validation of the bundled data (ontology + data + OWL RL closure) against ontology/shapes.ttl,
and of the ontology and shapes against ontology/lint-shapes.ttl."""

from __future__ import annotations

from contextlib import nullcontext

from rdflib import RDFS, BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, SH

from .graphs import load_graphs
from .loading import new_graph, parse_files
from .project import Project
from .report import Finding, Report


def shacl_findings(data: Graph, shapes: Graph, labels: Graph | None = None, *,
                   focus_nodes: list | None = None, inplace: bool = False,
                   parse_once: bool = True) -> tuple[list[Finding], Graph]:
    """Run pySHACL (no extra inference: the caller passes the closure) and translate its results.

    ``focus_nodes`` restricts validation to those nodes; ``inplace`` skips pySHACL's copy of ``data`` (safe
    here: no inference and no SHACL rules, so nothing is written to it); ``parse_once`` lets rdflib parse
    each SPARQL constraint once rather than once per focus node (:mod:`kgtool.parsed_queries`; off: pySHACL
    exactly as shipped, the benchmarks' baseline).
    """
    import pyshacl

    from .parsed_queries import parsed_once

    with parsed_once() if parse_once else nullcontext():
        _conforms, report_graph, _text = pyshacl.validate(
            data, shacl_graph=shapes, inference="none", advanced=True, allow_warnings=True, allow_infos=True,
            focus_nodes=focus_nodes, inplace=inplace,
        )
    label_source = labels if labels is not None else data
    findings = []
    for result in report_graph.subjects(RDF.type, SH.ValidationResult):
        focus = report_graph.value(result, SH.focusNode)
        path = report_graph.value(result, SH.resultPath)
        value = report_graph.value(result, SH.value)
        severity = report_graph.value(result, SH.resultSeverity)
        message = report_graph.value(result, SH.resultMessage)
        shape = report_graph.value(result, SH.sourceShape)
        findings.append(Finding(
            severity=str(severity).rsplit("#", 1)[-1] if severity else "Violation",
            message=str(message) if message else "constraint not met",
            focus=_term_text(focus),
            focus_label=label_of(label_source, focus),
            path=str(path) if isinstance(path, URIRef) else "",
            value=value.n3() if value is not None and value != focus else "",
            source_shape=_term_text(shape),
        ))
    findings.sort(key=lambda f: (f.focus, f.path, f.message, f.value))
    return findings, report_graph


def _term_text(term: object) -> str:
    if term is None:
        return ""
    if isinstance(term, BNode):
        return f"_:{term}"
    return str(term)


def label_of(graph: Graph, node: object) -> str:
    """The English label of a node, else any label, else empty."""
    if node is None or isinstance(node, Literal):
        return ""
    fallback = ""
    for label in graph.objects(node, RDFS.label):
        if isinstance(label, Literal) and (label.language or "").startswith("en"):
            return str(label)
        fallback = fallback or str(label)
    return fallback


def validate_project(project: Project, parse_once: bool = True) -> Report:
    graphs = load_graphs(project, inference=True)
    data = graphs.union()
    shapes = parse_files([project.shapes_file])
    findings, _ = shacl_findings(data, shapes, parse_once=parse_once)
    return Report("data/ and ontology/", findings, checked_triples=len(graphs.asserted))


def lint_ontology(project: Project) -> Report:
    """Ontology and shapes against the lint shapes: labels, definitions, messages."""
    target = new_graph()
    parse_files([project.ontology_file, project.shapes_file], target)
    lint = parse_files([project.lint_shapes_file])
    findings, _ = shacl_findings(target, lint)
    return Report("ontology and shapes", findings, checked_triples=len(target))
