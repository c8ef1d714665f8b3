"""The strict syntax stage: contributed Turtle parsed by Oxigraph, turned into rdflib terms with lines.

rdflib's Turtle parser accepts about 40 of the 94 W3C negative syntax tests (literals with both a language
and a datatype, bad escapes, lone surrogates, literals as subjects …). Oxigraph's parser rejects all of
them and accepts every positive test, so a contribution is parsed by Oxigraph only: the rdflib graph the
later stages use is built from Oxigraph's triples, never by a second, more lenient parse.

Relative IRIs are resolved against a pinned base, :data:`CONTRIBUTION_BASE`, never against the file's
location (no ``file:`` IRIs); the policy stage refuses whatever lands there.

Line numbers: the parser streams, so the file is fed to it one line at a time and each triple is stamped
with the line being read when it came out: the line where its object ends. An entity's line is the first
line of its triples.

RDF 1.2 (triple terms, reifiers, base directions) parses in Oxigraph but is refused here: the graph is
RDF 1.1 and every tool that reads ``data/`` must load it.
"""

from __future__ import annotations

import io
import logging
import re
import warnings
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

from .hygiene import SourceText
from .loading import new_graph
from .report import Finding

CONTRIBUTION_BASE = "https://w3id.org/kzcn/contribution/"
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"

Triple = tuple[Node, Node, Node]


class Rdf12Term(ValueError):
    """A triple term or a directional literal: valid RDF 1.2, not accepted into this RDF 1.1 graph."""


@dataclass
class Contribution:
    """The contributed triples (as one rdflib graph) and where each came from (file, line)."""

    names: list[str]
    graph: Graph = field(default_factory=new_graph)
    origin: dict[Triple, tuple[str, int]] = field(default_factory=dict)

    def add(self, triple: Triple, name: str, line: int) -> None:
        self.graph.add(triple)
        self.origin.setdefault(triple, (name, line))

    def where(
        self, s: Node | None = None, p: Node | None = None, o: Node | None = None
    ) -> tuple[str, int | None]:
        """File and first line of the triples matching the pattern, else of the subject, else of a mention."""
        for pattern in ((s, p, o), (s, p, None), (s, None, None), (None, None, s)):
            if pattern[0] is None and pattern[2] is None:
                continue
            hits = [self.origin[t] for t in self.graph.triples(pattern) if t in self.origin]
            if hits:
                return min(hits, key=lambda h: (h[0] != self.names[0], h[0], h[1]))
        return (self.names[0] if self.names else "", None)

    def without(self, triples: set[Triple]) -> Contribution:
        kept = Contribution(list(self.names))
        for triple, (name, line) in self.origin.items():
            if triple not in triples:
                kept.add(triple, name, line)
        return kept

    def subjects_by_line(self) -> dict[Node, int]:
        first: dict[Node, int] = defaultdict(lambda: 1 << 30)
        for (s, _p, _o), (_name, line) in self.origin.items():
            first[s] = min(first[s], line)
        return dict(first)


class _LineReader(io.RawIOBase):
    """Feeds the parser one line per read, and says which line (1-based) the last bytes came from."""

    def __init__(self, data: bytes) -> None:
        super().__init__()
        self._lines = re.findall(rb"[^\n]*\n|[^\n]+$", data)  # lines as the parser counts them: by \n
        self._next = 0  # index of the next line to hand over
        self.line = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        if self._next >= len(self._lines):
            return 0
        chunk = self._lines[self._next]
        self.line = self._next + 1
        if len(chunk) > len(buffer):  # a very long line: hand it over in pieces
            buffer[:] = chunk[: len(buffer)]
            self._lines[self._next] = chunk[len(buffer) :]
            return len(buffer)
        buffer[: len(chunk)] = chunk
        self._next += 1
        return len(chunk)


def parse_contribution(source: SourceText, into: Contribution) -> list[Finding]:
    """Parse one file into ``into``; return syntax findings (empty when the file is valid Turtle)."""
    import pyoxigraph as ox

    reader = _LineReader(source.data)
    triples: list[tuple[Triple, int]] = []
    try:
        with quiet_rdflib():
            for quad in ox.parse(reader, format=ox.RdfFormat.TURTLE, base_iri=CONTRIBUTION_BASE):
                triple = (to_rdflib(quad.subject), to_rdflib(quad.predicate), to_rdflib(quad.object))
                triples.append((triple, max(reader.line, 1)))
    except SyntaxError as exc:
        return [_syntax_finding(source.name, exc)]
    except Rdf12Term as exc:
        return [
            Finding(
                "Violation",
                f"not RDF 1.1: {exc}; this graph is RDF 1.1, so other tools can read it",
                stage="syntax",
                file=source.name,
                line=max(reader.line, 1),
            )
        ]
    for triple, line in triples:
        into.add(triple, source.name, line)
    return []


_POSITION = re.compile(
    r"^Parser error (?:at line \d+ (?:column \d+|between columns \d+ and \d+)|"
    r"between line \d+ column \d+ and line \d+ column \d+):\s*"
)


def _syntax_finding(name: str, exc: SyntaxError) -> Finding:
    text = exc.msg if isinstance(exc.msg, str) and exc.msg else str(exc)
    reason = re.sub(r"\s*\(line \d+\)$", "", _POSITION.sub("", text)) or "invalid Turtle"
    return Finding(
        "Violation",
        f"invalid Turtle: {reason}",
        stage="syntax",
        file=name,
        line=exc.lineno or None,
        column=exc.offset or None,
    )


def to_rdflib(term) -> Node:
    """An Oxigraph term as the rdflib term the rdflib Turtle parser would have made."""
    import pyoxigraph as ox

    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if getattr(term, "direction", None):
            raise Rdf12Term(f'the literal "{term.value}" has a base direction (--{term.direction})')
        if term.language:
            return Literal(term.value, lang=term.language)
        datatype = term.datatype.value
        if datatype == XSD_STRING:
            return Literal(term.value)
        return Literal(term.value, datatype=URIRef(datatype))
    raise Rdf12Term("a triple term (<< … >> or <<( … )>>) is RDF 1.2")


@contextmanager
def quiet_rdflib() -> Iterator[None]:
    """rdflib logs a traceback for every ill-typed literal ("1992-13-45"^^xsd:date) and warns about odd
    ones; the gate reports those itself, in words, so both are silenced while a contribution is checked."""
    logger = logging.getLogger("rdflib.term")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings():  # "Parsing weird boolean" and the like
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)
