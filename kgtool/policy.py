"""The policy stage: what a contribution may say at all, whatever the ontology and the shapes allow.

A contribution describes entities of the instance namespace (``https://w3id.org/kzcn/id/<kind>/<slug>``)
with the ontology's terms. It may not:

* use blank nodes (``[ … ]``, ``_:x``, collections): things people refer to need IRIs, and a merge of blank
  nodes could never be idempotent (the same file twice would add the nodes twice);
* use relative IRIs (resolved against the pinned contribution base, never against a file path) or IRIs
  outside the instance namespace, as subjects or as links;
* say anything about the schema: ``rdfs:subClassOf``/``subPropertyOf``/``domain``/``range``, any ``owl:`` or
  ``sh:`` property, classes or properties declared, ontology terms as subjects;
* import other documents (``owl:imports``) or merge entities (``owl:sameAs``);
* put control or bidirectional-override characters in literals (and line breaks in labels).

Each finding names the triple's subject and line and says why and what to do instead.
"""

from __future__ import annotations

import re
import unicodedata

from rdflib import OWL, RDF, RDFS, BNode, Literal, URIRef
from rdflib.namespace import SH, SKOS
from rdflib.term import Node

from .namespaces import INSTANCE_BASE, INSTANCE_KINDS, ONTOLOGY, shorten
from .report import Finding
from .strict_turtle import CONTRIBUTION_BASE, Contribution, Triple

_SCHEMA_PREDICATES = {RDFS.subClassOf, RDFS.subPropertyOf, RDFS.domain, RDFS.range}
_SCHEMA_NAMESPACES = (str(OWL), str(SH), str(RDFS), "http://www.w3.org/2001/XMLSchema#")
_LABEL_PREDICATES = {RDFS.label, SKOS.altLabel, SKOS.prefLabel}
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_LINE_BREAK = re.compile("[\t\n\r\u2028\u2029]")
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]*")
_IRI_HINT = "name it in https://w3id.org/kzcn/id/<kind>/<slug>, e.g. place:almaty (data/MODELLING.md)"


def policy_findings(
    contribution: Contribution, known_kinds: set[str] | None = None
) -> tuple[list[Finding], set[Triple]]:
    """Every policy problem, one finding per offending triple or node; and the triples found at fault."""
    kinds = set(INSTANCE_KINDS) | (known_kinds or set())
    findings: list[Finding] = []
    offending: set[Triple] = set()
    bad_nodes: dict[Node, tuple[str, str] | None] = {}
    ordered = sorted(contribution.origin.items(), key=lambda item: (item[1], [t.n3() for t in item[0]]))
    for triple, _where in ordered:
        found = _triple_findings(contribution, triple, kinds, bad_nodes)
        blamed = [bad_nodes.get(node) for node in (triple[0], triple[2])]
        if any(f.severity == "Violation" for f in found) or any(b and b[0] == "Violation" for b in blamed):
            offending.add(triple)
        findings.extend(found)
    if len(contribution.graph) == 0:
        findings.append(
            Finding(
                "Violation",
                "the contribution holds no triples: nothing to check or add",
                stage="policy",
                file=contribution.names[0] if contribution.names else "",
            )
        )
    return findings, offending


def needs_known_kinds(contribution: Contribution) -> bool:
    """Whether some instance IRI of the contribution is unusual by the standard kinds alone: only then do
    the kinds the data uses (``known_kinds``: every entity of the data must be listed) change what
    policy_findings says."""
    for s, _p, o in contribution.graph:
        for node in (s, o):
            if isinstance(node, URIRef) and str(node).startswith(INSTANCE_BASE):
                kind, _, slug = str(node)[len(INSTANCE_BASE) :].partition("/")
                if kind not in INSTANCE_KINDS or not _SLUG.fullmatch(slug):
                    return True
    return False


def _triple_findings(
    contribution: Contribution, triple: Triple, kinds: set[str], judged: dict[Node, tuple[str, str] | None]
) -> list[Finding]:
    s, p, o = triple
    out: list[Finding] = []
    for node in (s, o):
        if node in judged:
            continue  # each node is judged (and reported) once, at its first use
        judged[node] = problem = _node_problem(node, kinds)
        if problem:
            focus = node if isinstance(node, URIRef) else s
            out.append(_finding(contribution, triple, problem[1], severity=problem[0], focus=focus))
    if problem := _schema_problem(p, o) or _vocabulary_as_entity(s, p, o):
        out.append(_finding(contribution, triple, problem))
    if p not in judged:
        judged[p] = None
        if problem := _predicate_problem(p):
            judged[p] = ("Violation", problem)
            out.append(_finding(contribution, triple, problem))
    if isinstance(o, Literal) and (problem := literal_problem(p, o)):
        out.append(_finding(contribution, triple, problem[1], severity=problem[0]))
    return out


def _finding(
    contribution: Contribution,
    triple: Triple,
    message: str,
    severity: str = "Violation",
    focus: Node | None = None,
) -> Finding:
    s, p, o = triple
    file, line = contribution.where(s, p, o)
    focus = s if focus is None else focus
    return Finding(
        severity,
        message,
        focus=_text(focus),
        path=str(p) if isinstance(p, URIRef) else "",
        value=o.n3() if not isinstance(o, BNode) else "",
        stage="policy",
        file=file,
        line=line,
    )


def _text(node: Node) -> str:
    return "" if isinstance(node, BNode) else str(node)


def _node_problem(node: Node, kinds: set[str]) -> tuple[str, str] | None:
    """A subject or object that cannot be an entity of this graph (literals are fine as objects)."""
    if isinstance(node, BNode):
        return (
            "Violation",
            "an anonymous node ([ … ], _:x or a ( … ) list) is not allowed: everything people "
            f"refer to needs an IRI; {_IRI_HINT}",
        )
    if not isinstance(node, URIRef):
        return None
    iri = str(node)
    if _is_vocabulary(node):
        return None  # judged as schema statements, or by _vocabulary_as_entity and the vocabulary stage
    if iri.startswith(CONTRIBUTION_BASE):
        return (
            "Violation",
            f"relative IRI <{iri[len(CONTRIBUTION_BASE) :]}>: write it with a prefix or in full; "
            + _IRI_HINT,
        )
    if not iri.startswith(INSTANCE_BASE):
        return (
            "Violation",
            f"<{iri}> is outside the project's namespace; {_IRI_HINT}; an external web "
            'address is a literal: kzcn:url "https://…"^^xsd:anyURI',
        )
    kind, _, slug = iri[len(INSTANCE_BASE) :].partition("/")
    if kind not in kinds or not _SLUG.fullmatch(slug):
        return (
            "Warning",
            f"unusual IRI {shorten(iri)}: expected https://w3id.org/kzcn/id/<kind>/<slug> with a "
            f"kind among {', '.join(sorted(kinds))} and a lower-case slug with hyphens",
        )
    return None


def _is_vocabulary(node: Node) -> bool:
    return isinstance(node, URIRef) and str(node).startswith((ONTOLOGY, *_SCHEMA_NAMESPACES, str(RDF)))


def _vocabulary_as_entity(s: Node, p: Node, o: Node) -> str | None:
    """Ontology terms as subjects (editing the ontology) or as link targets (a term is not an entity)."""
    if _is_vocabulary(s):
        return (
            f"this describes {shorten(str(s))}, a term of the vocabulary: the ontology is edited in "
            "ontology/kzcn.ttl, not contributed"
        )
    if p != RDF.type and _is_vocabulary(o):
        return (
            f"{shorten(str(o))} is a term of the vocabulary, not an entity: link to an entity instead "
            "(a field of cooperation is a concept such as concept:culture)"
        )
    return None


def _schema_problem(p: Node, o: Node) -> str | None:
    if p == OWL.imports:
        return "owl:imports is refused: a contribution cannot pull other documents into the graph"
    if p == OWL.sameAs:
        return (
            "owl:sameAs is refused: it would merge two entities and everything said about them; if they are "
            "the same thing, use one IRI and keep the other name as skos:altLabel"
        )
    if p in _SCHEMA_PREDICATES or str(p).startswith((str(OWL), str(SH))):
        return (
            f"{shorten(str(p))} is a schema statement: classes, properties and shapes are changed in "
            "ontology/, not contributed"
        )
    if p == RDF.type and isinstance(o, URIRef) and str(o).startswith((*_SCHEMA_NAMESPACES, str(RDF))):
        return (
            f"declaring something a {shorten(str(o))} is a schema statement: classes, properties and shapes "
            "are changed in ontology/, not contributed"
        )
    return None


def _predicate_problem(p: Node) -> str | None:
    if isinstance(p, URIRef) and str(p).startswith(CONTRIBUTION_BASE):
        return f"relative IRI <{str(p)[len(CONTRIBUTION_BASE) :]}> as a property: use kzcn: properties"
    return None


def literal_problem(p: Node, literal: Literal) -> tuple[str, str] | None:
    """Control characters anywhere, line breaks in labels, U+FFFD (a broken conversion) as a warning."""
    text = str(literal)
    if match := _CONTROL.search(text):
        return (
            "Violation",
            f"the literal contains the control character {_describe(match.group())} at "
            f"position {match.start() + 1}: remove it",
        )
    if p in _LABEL_PREDICATES and (match := _LINE_BREAK.search(text)):
        return (
            "Violation",
            f"a label is one line, but this one contains {_describe(match.group())} at position "
            f"{match.start() + 1}",
        )
    if "\ufffd" in text:
        return (
            "Warning",
            "the literal contains U+FFFD (�), the mark of text damaged by a wrong encoding; "
            "check it against the source",
        )
    return None


_CONTROL_NAMES = {
    0x00: "NULL",
    0x07: "BELL",
    0x08: "BACKSPACE",
    0x09: "TAB",
    0x0A: "LINE FEED",
    0x0B: "LINE TABULATION",
    0x0C: "FORM FEED",
    0x0D: "CARRIAGE RETURN",
    0x1B: "ESCAPE",
    0x7F: "DELETE",
}


def _describe(char: str) -> str:
    name = unicodedata.name(char, "") or _CONTROL_NAMES.get(ord(char), "")
    return f"U+{ord(char):04X}" + (f" ({name})" if name else "")
