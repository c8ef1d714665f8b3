"""What the pictures and documents need to know about classes and labels, read from the asserted graph.

The ontology is part of the asserted graph, so ``rdfs:subClassOf`` is there; walking it is enough to
know that a concert is a cultural event, without running the reasoner.
"""

from __future__ import annotations

from rdflib import RDF, RDFS, Graph, Literal, URIRef

from .namespaces import ONTOLOGY, shorten


def superclasses(graph: Graph) -> dict[URIRef, set[URIRef]]:
    """Each class with all its superclasses (itself included), from rdfs:subClassOf."""
    direct: dict[URIRef, set[URIRef]] = {}
    for sub, sup in graph.subject_objects(RDFS.subClassOf):
        if isinstance(sub, URIRef) and isinstance(sup, URIRef):
            direct.setdefault(sub, set()).add(sup)
    closure: dict[URIRef, set[URIRef]] = {}
    for cls in set(direct) | {o for parents in direct.values() for o in parents}:
        seen, todo = {cls}, [cls]
        while todo:
            for parent in direct.get(todo.pop(), ()):
                if parent not in seen:
                    seen.add(parent)
                    todo.append(parent)
        closure[cls] = seen
    return closure


def label_of(graph: Graph, node: object) -> str:
    """The English label, else an untagged one, else the prefixed name."""
    if isinstance(node, Literal):
        return str(node)
    labels = {lit.language: str(lit) for lit in graph.objects(node, RDFS.label) if isinstance(lit, Literal)}
    return labels.get("en") or labels.get(None) or shorten(str(node))


def kzcn_types(graph: Graph, node: URIRef) -> list[URIRef]:
    """The node's classes in the project ontology, sorted."""
    types = graph.objects(node, RDF.type)
    return sorted(t for t in types if isinstance(t, URIRef) and str(t).startswith(ONTOLOGY))


def most_specific(types: list[URIRef], supers: dict[URIRef, set[URIRef]]) -> URIRef | None:
    """The type with the most superclasses: Concert rather than CulturalEvent."""
    return max(types, key=lambda t: (len(supers.get(t, ())), str(t)), default=None)


def is_a(graph: Graph, supers: dict[URIRef, set[URIRef]], node: URIRef, cls: URIRef) -> bool:
    return any(cls in supers.get(t, {t}) for t in graph.objects(node, RDF.type))
