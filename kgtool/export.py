"""Deterministic serialization: the same graph gives the same bytes, in every format.

Triples are inserted into a fresh graph in sorted N-Triples order, so serializers that follow insertion
order (JSON-LD, RDF/XML) are as stable as the Turtle writer, which sorts subjects itself. Blank nodes,
which get random labels at parse time, are canonicalised first.
"""

from __future__ import annotations

from rdflib import BNode, Graph, URIRef

from .atomic import write_atomically  # noqa: F401  (re-exported: callers import it from here)
from .errors import UsageError
from .graphs import LoadedGraphs, serialize_ntriples_sorted
from .loading import new_graph
from .namespaces import BASE, PREFIXES

FORMATS = {"ttl": "turtle", "nt": "nt", "jsonld": "json-ld", "trig": "trig", "xml": "xml"}
GRAPH_NAMES = {
    "ontology": URIRef(BASE + "graph/ontology"),
    "asserted": URIRef(BASE + "graph/asserted"),
    "inferred": URIRef(BASE + "graph/inferred"),
}


def canonical(graph: Graph) -> Graph:
    """A copy with triples in sorted order and blank nodes relabelled canonically."""
    if any(isinstance(t, BNode) for triple in graph for t in triple):
        from rdflib.compare import to_canonical_graph

        graph = to_canonical_graph(graph)
    ordered = new_graph()
    for triple in sorted(graph, key=lambda t: tuple(term.n3() for term in t)):
        ordered.add(triple)
    return ordered


def serialize(graph: Graph, fmt: str) -> str:
    if fmt not in FORMATS:
        raise UsageError(f"unknown export format {fmt!r}", hint=f"choose one of: {', '.join(FORMATS)}")
    if fmt == "nt":
        return serialize_ntriples_sorted(canonical(graph))
    ordered = canonical(graph)
    if fmt == "jsonld":
        context = {p: ns for p, ns in PREFIXES.items() if p != "sh"}
        return _sorted_jsonld(ordered.serialize(format="json-ld", context=context, indent=2, sort_keys=True))
    if fmt == "xml":
        return _sorted_rdfxml(ordered.serialize(format="xml"))
    return ordered.serialize(format=FORMATS[fmt])


def _sorted_jsonld(text: str) -> str:
    """rdflib emits JSON-LD nodes in set order; sort them by @id (blank nodes are canonical already)."""
    import json

    doc = json.loads(text)
    if isinstance(doc, dict) and isinstance(doc.get("@graph"), list):
        doc["@graph"].sort(key=lambda node: json.dumps(node, sort_keys=True, ensure_ascii=False))
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _sorted_rdfxml(text: str) -> str:
    """rdflib's flat RDF/XML writer orders namespaces and subjects by set order: sort both.

    The flat writer (unlike pretty-xml, which drops triples on list nodes) gives one
    ``rdf:Description`` block per subject at two-space indentation, so blocks sort as text.
    """
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("<rdf:RDF"))
    end_ns = next(i for i in range(start, len(lines)) if lines[i].rstrip().endswith(">"))
    header = lines[: start + 1]
    namespaces = sorted(filter(None, (line.strip().rstrip(">").strip() for line in lines[start + 1 : end_ns + 1])))
    blocks: list[list[str]] = []
    for line in lines[end_ns + 1 :]:
        if line.startswith("  <rdf:Description"):
            blocks.append([line])
        elif line.startswith("</rdf:RDF"):
            break
        elif blocks:
            blocks[-1].append(line)
    blocks.sort()
    out = [*header[:-1], header[-1].rstrip(">"), *(f"   {ns}" for ns in namespaces)]
    out[-1] += ">"
    out += [line for block in blocks for line in block] + ["</rdf:RDF>", ""]
    return "\n".join(out)


def serialize_dataset(graphs: LoadedGraphs, ontology: Graph) -> str:
    """TriG with the ontology, the asserted data and the inferences in three named graphs.

    Written graph by graph in a fixed order (rdflib's TriG writer orders graphs by set order), each body
    from the sorted Turtle writer, under one shared block of prefixes.
    """
    data_only = new_graph()
    for triple in graphs.asserted:
        if triple not in ontology:
            data_only.add(triple)
    prefixes: set[str] = set()
    bodies = []
    for name, part in (("ontology", ontology), ("asserted", data_only), ("inferred", graphs.inferred)):
        turtle = canonical(part).serialize(format="turtle")
        lines = turtle.splitlines()
        prefixes.update(line for line in lines if line.startswith("@prefix"))
        body = [("    " + line) if line else "" for line in lines if not line.startswith("@prefix")]
        while body and not body[0]:
            body.pop(0)
        while body and not body[-1]:
            body.pop()
        bodies.append(f"<{GRAPH_NAMES[name]}> {{\n" + "\n".join(body) + "\n}\n")
    return "\n".join(sorted(prefixes)) + "\n\n" + "\n".join(bodies)
