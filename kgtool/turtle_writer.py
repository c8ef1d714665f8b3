"""A deterministic Turtle writer for the files people read and diff: ``data/*.ttl``.

The same triples always give the same bytes, whatever the insertion order, the hash seed or the rdflib
version: subjects sorted by IRI; ``a`` first, then ``rdfs:label``, then the other properties by their
prefixed name; objects sorted by their written form; only the project prefixes that are used, in the
project's order and aligned as in the hand-written files; one subject per block, blocks separated by a
blank line. IRIs are written as prefixed names when the local part is a safe Turtle local name, literals
with the usual escapes, integers and decimals bare when that round-trips exactly.

rdflib's own serializer is not used here: its output order and prefix choice vary between versions and
it writes ``@prefix`` lines for every bound namespace.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from rdflib import RDF, RDFS, XSD, BNode, Graph, Literal, URIRef
from rdflib.term import Node

from .namespaces import PREFIXES
from .terms import escape_literal

LINE_WIDTH = 110
INDENT = "    "
_LOCAL = re.compile(r"(?:[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_-])?)?")
_BARE = {
    XSD.integer: re.compile(r"[+-]?\d+"),
    XSD.decimal: re.compile(r"[+-]?\d*\.\d+"),
    XSD.boolean: re.compile(r"true|false"),
}
_IRI_ESCAPE = re.compile(r"[\x00-\x20<>\"{}|^`\\]")


class TermWriter:
    """Writes terms, remembering which prefixes it used."""

    def __init__(self, prefixes: dict[str, str] | None = None) -> None:
        self.prefixes = prefixes if prefixes is not None else PREFIXES
        self._by_length = sorted(self.prefixes.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        self.used: set[str] = set()

    def iri(self, iri: str) -> str:
        for prefix, namespace in self._by_length:
            if iri.startswith(namespace) and _LOCAL.fullmatch(iri[len(namespace) :]):
                self.used.add(prefix)
                return f"{prefix}:{iri[len(namespace) :]}"
        return "<" + _IRI_ESCAPE.sub(lambda m: f"\\u{ord(m.group()):04X}", iri) + ">"

    def term(self, node: Node) -> str:
        if isinstance(node, URIRef):
            return self.iri(str(node))
        if isinstance(node, BNode):
            return f"_:{node}"
        if isinstance(node, Literal):
            return self.literal(node)
        raise TypeError(f"cannot write {node!r} as Turtle")

    def literal(self, literal: Literal) -> str:
        text = str(literal)
        if literal.language:
            return f'"{escape_literal(text)}"@{literal.language}'
        datatype = literal.datatype
        if datatype is None:
            return f'"{escape_literal(text)}"'
        bare = _BARE.get(datatype)
        if bare is not None and bare.fullmatch(text):
            return text
        return f'"{escape_literal(text)}"^^{self.iri(str(datatype))}'

    def prefix_lines(self) -> str:
        used = [p for p in self.prefixes if p in self.used]
        if not used:
            return ""
        width = max(len(p) for p in used) + 2
        return "".join(f"@prefix {(p + ':').ljust(width)}<{self.prefixes[p]}> .\n" for p in used)


def _predicate_key(writer: TermWriter, predicate: Node) -> tuple[int, str]:
    if predicate == RDF.type:
        return (0, "")
    if predicate == RDFS.label:
        return (1, "")
    return (2, writer.term(predicate))


def subject_block(graph: Graph, subject: Node, writer: TermWriter) -> str:
    """One subject and all its triples in ``graph``, as one Turtle statement."""
    head = writer.term(subject)
    predicates = sorted(set(graph.predicates(subject, None)), key=lambda p: _predicate_key(writer, p))
    lines = []
    for predicate in predicates:
        verb = "a" if predicate == RDF.type else writer.term(predicate)
        objects = sorted(writer.term(o) for o in graph.objects(subject, predicate))
        one_line = f"{INDENT}{verb} {', '.join(objects)}"
        if len(one_line) + 2 <= LINE_WIDTH or len(objects) == 1:
            lines.append(one_line)
        else:
            lines.append(f"{INDENT}{verb} " + (",\n" + INDENT * 2).join(objects))
    first, *rest = lines
    return head + " " + first.lstrip() + "".join(" ;\n" + line for line in rest) + " .\n"


def serialize_statements(graph: Graph, writer: TermWriter, subjects: Iterable[Node] | None = None) -> str:
    """The blocks of every subject (sorted by IRI), separated by blank lines; no prefix lines."""
    chosen = sorted(set(graph.subjects()) if subjects is None else set(subjects), key=_subject_key)
    return "\n".join(subject_block(graph, s, writer) for s in chosen)


def _subject_key(node: Node) -> tuple[int, str]:
    return (1 if isinstance(node, BNode) else 0, str(node))


def serialize_turtle(graph: Graph, header: str = "") -> str:
    """A complete, deterministic Turtle document: optional ``#`` header, used prefixes, the blocks."""
    writer = TermWriter()
    body = serialize_statements(graph, writer)
    parts = [header.rstrip("\n") + "\n" if header else "", writer.prefix_lines()]
    if body:
        parts.append("\n" + body)
    return "".join(parts)
