"""Deterministic serialization: the same graph gives the same bytes, in every format.

Triples are inserted into a fresh graph in sorted N-Triples order, so serializers that follow insertion
order (JSON-LD, RDF/XML) are as stable as the Turtle writer, which sorts subjects itself. Blank nodes,
which get random labels at parse time, are canonicalised first.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from rdflib import BNode, Dataset, Graph, URIRef

from .errors import InputError, UsageError
from .graphs import LoadedGraphs, serialize_ntriples_sorted
from .loading import new_graph
from .namespaces import BASE, PREFIXES

FORMATS = {"ttl": "turtle", "nt": "nt", "jsonld": "json-ld", "trig": "trig", "xml": "pretty-xml"}
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
        return ordered.serialize(format="json-ld", context=context, indent=2, sort_keys=True)
    return ordered.serialize(format=FORMATS[fmt])


def serialize_dataset(graphs: LoadedGraphs, ontology: Graph) -> str:
    """TriG with the ontology, the asserted data and the inferences in three named graphs."""
    dataset = Dataset()
    for prefix, ns in PREFIXES.items():
        dataset.bind(prefix, ns, override=True, replace=True)
    data_only = new_graph()
    for triple in graphs.asserted:
        if triple not in ontology:
            data_only.add(triple)
    for name, part in (("ontology", ontology), ("asserted", data_only), ("inferred", graphs.inferred)):
        target = dataset.graph(GRAPH_NAMES[name])
        for triple in canonical(part):
            target.add(triple)
    return dataset.serialize(format="trig")


def write_atomically(path: Path, text: str | bytes) -> None:
    """Write via a temporary file in the same folder and rename: readers see old or new, never half.

    ``text`` is written as UTF-8; ``bytes`` (a PNG picture) as they are.
    """
    directory = path.resolve().parent
    if not directory.is_dir():
        raise InputError(f"{path}: folder {directory} does not exist")
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    try:
        if isinstance(text, bytes):
            handle = os.fdopen(fd, "wb")
        else:
            handle = os.fdopen(fd, "w", encoding="utf-8", newline="\n")
        with handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
