"""The gate's domain and range stage: a contribution's links checked against the classes each node is
given, not the classes the links would make it.

OWL RL reads ``rdfs:domain`` and ``rdfs:range`` as rules: ``event:x kzcn:place person:y`` makes person:y a
``kzcn:Place``, and a shape's ``sh:class kzcn:Place`` is then met by the very triple it should refuse (the
closure the shapes see includes it). So this stage takes a node's classes from ``data/`` (asserted and
inferred there) and from the contribution's own ``rdf:type`` triples, with their superclasses, and asks
every new link whether its subject is in the property's domain and its object in its range. The
domain of a property's inverse counts as a range, and the inverse's range as a domain. A node with no
class at all is left to the shapes and the reference stage, which say "needs a class" or "exists nowhere".
"""

from __future__ import annotations

from rdflib import OWL, RDF, RDFS, XSD, Graph, Literal, URIRef
from rdflib.term import Node

from .namespaces import ONTOLOGY, shorten
from .report import Finding
from .strict_turtle import Contribution


class Signatures:
    """Domains, ranges and superclasses read once from the closed ontology."""

    def __init__(self, closed: Graph) -> None:
        self.superclasses: dict[Node, set[Node]] = {}
        for c, d in closed.subject_objects(RDFS.subClassOf):
            self.superclasses.setdefault(c, {c}).add(d)
        self.domains: dict[Node, set[Node]] = {}
        self.ranges: dict[Node, set[Node]] = {}
        for p, c in closed.subject_objects(RDFS.domain):
            self._add(self.domains, p, c)
        for p, c in closed.subject_objects(RDFS.range):
            self._add(self.ranges, p, c)
        for p, q in closed.subject_objects(OWL.inverseOf):
            for a, b in ((p, q), (q, p)):
                for c in closed.objects(b, RDFS.domain):
                    self._add(self.ranges, a, c)
                for c in closed.objects(b, RDFS.range):
                    self._add(self.domains, a, c)

    @staticmethod
    def _add(table: dict[Node, set[Node]], p: Node, c: Node) -> None:
        if isinstance(p, URIRef) and isinstance(c, URIRef) and is_class(c):
            table.setdefault(p, set()).add(c)

    def closed(self, classes) -> set[Node]:
        return {sup for c in classes for sup in self.superclasses.get(c, {c})}


def is_class(term: URIRef) -> bool:
    """A class, not a datatype: datatype ranges are the datatype stage's concern."""
    return not str(term).startswith(str(XSD)) and term not in (RDFS.Literal, RDF.langString, RDFS.Resource,
                                                                 OWL.Thing)


def domain_range_findings(existing, contribution: Contribution, signatures: Signatures) \
        -> tuple[list[Finding], set]:
    """Findings, and the triples they are about: the later stages leave those out, as they leave out
    triples with unknown terms, so that what the closure would infer from them (the person made a place,
    the city an article) raises no shape results of its own."""
    findings: list[Finding] = []
    misfits: set = set()
    given: dict[Node, set[Node]] = {}

    def classes(node: Node) -> set[Node]:
        if node not in given:
            own = set(contribution.graph.objects(node, RDF.type))
            given[node] = signatures.closed(own) | set(existing.types(node))
        return given[node]

    for triple in sorted(contribution.graph, key=lambda t: contribution.origin[t]):
        s, p, o = triple
        for node, expected, side in ((s, signatures.domains.get(p), "domain"),
                                     (o, signatures.ranges.get(p), "range")):
            if not expected or isinstance(node, Literal):
                continue
            have = classes(node)
            missing = sorted(most_specific(expected, signatures) - have)
            if not have or not missing:
                continue
            misfits.add(triple)
            file, line = contribution.origin[triple]
            findings.append(Finding(
                "Violation", misfit_message(p, node, missing, have, side, signatures), focus=str(s), path=str(p),
                value=o.n3(), stage="ontology", file=file, line=line))
    return findings, misfits


def misfit_message(p: Node, node: Node, missing: list[Node], have: set[Node], side: str,
                   signatures: Signatures) -> str:
    wanted = " and a ".join(shorten(str(c)) for c in missing)
    kinds = ", ".join(sorted(shorten(str(c)) for c in most_specific(have, signatures))) or "something else"
    if side == "range":
        return (f"{shorten(str(p))} links to a {wanted}, but {shorten(str(node))} is a {kinds}: "
                "link to the right entity, or use the property meant for this kind")
    return (f"{shorten(str(p))} is said of a {wanted}, but {shorten(str(node))} is a {kinds}: "
            "say it of the right entity, or use the property meant for this kind")


def most_specific(classes: set[Node], signatures: Signatures) -> set[Node]:
    """The classes that are no other given class's superclass, in the project's own namespace when any
    is (kzcn:City rather than schema:Place; kzcn:Place rather than its alignment schema:Place, which the
    closed ontology lists as a range too)."""
    specific = {c for c in classes
                if not any(c != d and c in signatures.superclasses.get(d, ()) for d in classes)}
    own = {c for c in specific if str(c).startswith(str(ONTOLOGY))}
    return own or specific
