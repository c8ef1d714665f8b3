"""Deterministic serialization: the same graph gives the same bytes, in every format.

Turtle, N-Triples and TriG come from kgtool's own writer (:mod:`kgtool.fastexport`), the one `kgtool
export` uses on the snapshot: the graph's triples are turned into N-Triples lines first, so an rdflib graph
and the snapshot's files give the same bytes for the same triples. JSON-LD and RDF/XML come from rdflib:
triples are inserted into a fresh graph in sorted N-Triples order, so those serializers (which follow
insertion order) are stable too. Blank nodes, which get random labels at parse time, are canonicalised
first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from rdflib import BNode, Graph, Literal, URIRef

from .errors import UsageError
from .fastexport import GRAPH_NAMES as _GRAPH_IRIS
from .fastexport import nquads, ntriples, trig, turtle
from .loading import new_graph
from .namespaces import PREFIXES

FORMATS = {"ttl": "turtle", "nt": "nt", "jsonld": "json-ld", "trig": "trig", "nq": "nquads", "xml": "xml"}
GRAPH_NAMES = {name: URIRef(iri) for name, iri in _GRAPH_IRIS.items()}


def canonical(graph: Graph) -> Graph:
    """A copy with triples in sorted order and blank nodes relabelled canonically."""
    import warnings

    if any(isinstance(t, BNode) for triple in graph for t in triple):
        from rdflib.compare import to_canonical_graph

        graph = to_canonical_graph(graph)
    ordered = new_graph()
    with warnings.catch_warnings():  # rdflib warns of every ill-typed number it writes ("weird numerical")
        warnings.simplefilter("ignore")
        for triple in sorted(graph, key=lambda t: tuple(term.n3() for term in t)):
            ordered.add(triple)
    return ordered


def graph_of_lines(lines: Iterable[bytes]) -> Graph:
    """An rdflib graph of N-Triples lines (``s p o``, with or without the final `` .``) whose literals keep
    their lexical forms. rdflib's own parsers normalise them: ``"01"^^xsd:integer`` became ``"1"``, and
    ``"INF"^^xsd:double`` the invalid ``"inf"``, so a JSON-LD or RDF/XML result differed from the Turtle of
    the same triples."""
    import pyoxigraph as ox

    from .store import quiet_rdflib_logs

    quiet_rdflib_logs()  # rdflib logs a traceback for every ill-typed literal it is given
    data = b"\n".join(line if line.rstrip().endswith(b".") else line + b" ." for line in lines)
    graph = new_graph()
    made: dict = {}

    def term(node):
        known = made.get(node)
        if known is None:
            known = made[node] = _rdflib_term(node)
        return known

    try:
        for triple in ox.parse(data, format=ox.RdfFormat.N_TRIPLES):
            graph.add((term(triple.subject), term(triple.predicate), term(triple.object)))
    except SyntaxError as exc:  # lines kgtool wrote itself: a bug, not the user's input
        raise RuntimeError(f"unreadable N-Triples from kgtool itself: {exc}") from exc
    return graph


def _rdflib_term(node):
    import pyoxigraph as ox

    if isinstance(node, ox.NamedNode):
        return URIRef(node.value)
    if isinstance(node, ox.BlankNode):
        return BNode(node.value)
    if node.language:
        return Literal(node.value, lang=node.language)
    datatype = node.datatype.value
    if datatype == "http://www.w3.org/2001/XMLSchema#string":
        return Literal(node.value)
    return Literal(node.value, datatype=URIRef(datatype), normalize=False)


def serialize(graph: Graph, fmt: str) -> str:
    if fmt not in FORMATS:
        raise UsageError(f"unknown export format {fmt!r}", hint=f"choose one of: {', '.join(FORMATS)}")
    if fmt in ("nt", "nq"):  # one graph in N-Quads: the default graph, which is its N-Triples
        return ntriples(graph_lines(graph)).decode("utf-8")
    if fmt in ("ttl", "trig"):  # one graph in TriG: the default graph, which is its Turtle
        return turtle(graph_lines(graph)).decode("utf-8")
    ordered = canonical(graph)
    if fmt == "jsonld":
        context = {p: ns for p, ns in PREFIXES.items() if p != "sh"}
        return _sorted_jsonld(_jsonld(ordered, context))
    return _sorted_rdfxml(ordered.serialize(format="xml"))


def serialize_dataset(graphs: dict[str, Graph], fmt: str = "trig") -> str:
    """TriG (under one block of prefixes) or N-Quads (``nq``): each graph (``ontology``, ``asserted``,
    ``inferred``; those given) as a named graph, in that order."""
    parts = [(str(GRAPH_NAMES[name]), graph_lines(graphs[name])) for name in GRAPH_NAMES if name in graphs]
    return (nquads if fmt == "nq" else trig)(parts).decode("utf-8")


def graph_lines(graph: Graph) -> list[bytes]:
    """The graph's triples as N-Triples lines (``s p o``), each term written as pyoxigraph writes it, so
    they equal the lines of the snapshot's files for the same triples."""
    written: dict = {}

    def term(node) -> bytes:
        text = written.get(node)
        if text is None:
            text = written[node] = _ntriples_term(node).encode("utf-8")
        return text

    return list({b"%s %s %s" % (term(s), term(p), term(o)) for s, p, o in graph})


def _ntriples_term(node) -> str:
    import pyoxigraph as ox

    try:
        if isinstance(node, URIRef):
            return str(ox.NamedNode(str(node)))
        if isinstance(node, BNode):
            return str(ox.BlankNode(str(node)))
        if isinstance(node, Literal):
            if node.language:
                return str(ox.Literal(str(node), language=node.language))
            if node.datatype is not None:
                return str(ox.Literal(str(node), datatype=ox.NamedNode(str(node.datatype))))
            return str(ox.Literal(str(node)))
    except ValueError:  # not valid RDF (an IRI with a space, a bad language tag): written as it is
        import hashlib

        if isinstance(node, BNode):
            return "_:b" + hashlib.sha256(str(node).encode("utf-8")).hexdigest()
        if isinstance(node, URIRef):
            return "<" + re.sub(r'[\x00-\x20<>"{}|^`\\]', lambda m: f"\\u{ord(m.group()):04X}", str(node)) + ">"
        quoted = '"' + re.sub(r'[\x00-\x1f\x7f"\\]', _escape_char, str(node)) + '"'
        return quoted + (f"@{node.language}" if node.language else f"^^<{node.datatype}>" if node.datatype else "")
    raise TypeError(f"cannot write {node!r} as N-Triples")


_ESCAPES = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r", '"': '\\"', "\\": "\\\\"}


def _escape_char(match: re.Match) -> str:
    """As pyoxigraph escapes a character in a quoted string."""
    char = match.group()
    return _ESCAPES.get(char) or f"\\u{ord(char):04X}"


def _jsonld(graph: Graph, context: dict[str, str]) -> dict | list:
    """The graph as compacted JSON-LD whose every typed literal is a value object with its own lexical form
    (JSON-LD's fromRdf with ``useNativeTypes`` false, its default).

    rdflib's serializer turns xsd:integer, xsd:double and xsd:boolean into JSON numbers whenever a context
    is given: ``"INF"^^xsd:double`` became ``Infinity`` (not JSON), an ill-typed ``"abc"^^xsd:double`` a
    plain string (its datatype lost), and ``"01"`` or ``"1.50E0"`` lost the form the other formats keep.
    """
    from rdflib.plugins.serializers.jsonld import Converter
    from rdflib.plugins.shared.jsonld.context import Context

    active = Context(context)
    converter = Converter(active, use_native_types=False, use_rdf_type=False)
    converter.use_native_types = False  # the constructor turns native types on whenever a context is active
    result = converter.convert(graph)
    if isinstance(result, list):
        result = {active.get_key("@graph"): result}
    result["@context"] = context
    return result


def _sorted_jsonld(doc: dict | list) -> str:
    """rdflib emits JSON-LD nodes in set order; sort them by @id (blank nodes are canonical already)."""
    import json

    if isinstance(doc, dict) and isinstance(doc.get("@graph"), list):
        doc["@graph"].sort(key=lambda node: json.dumps(node, sort_keys=True, ensure_ascii=False))
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"


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
