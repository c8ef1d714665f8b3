"""Engine-neutral RDF terms and query results.

The query path renders results without knowing which engine (rdflib or Oxigraph) produced them, and
binds parameters as terms, never as query text. Keeping this module free of rdflib lets the fast path
avoid importing it.
"""

from __future__ import annotations

from typing import NamedTuple

XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"


class Term(NamedTuple):
    """An IRI, a literal (with datatype or language) or a blank node: immutable, hashable, ordered.

    A NamedTuple rather than a dataclass: the query path makes one per result cell (0.43 µs against
    0.98 for a frozen dataclass), and defining a frozen, ordered dataclass costs ~1 ms of every start."""

    kind: str  # "iri" | "literal" | "bnode"
    value: str
    datatype: str | None = None
    lang: str | None = None

    @staticmethod
    def iri(value: str) -> Term:
        return Term("iri", value)

    @staticmethod
    def literal(value: str, datatype: str | None = None, lang: str | None = None) -> Term:
        if lang:
            return Term("literal", value, RDF_LANGSTRING, lang.lower())
        return Term("literal", value, datatype or XSD + "string")

    def n3(self) -> str:
        """The term in N-Triples syntax (escaped), as used in Turtle output and TSV results."""
        if self.kind == "iri":
            return f"<{self.value}>"
        if self.kind == "bnode":
            return f"_:{self.value}"
        text = '"' + escape_literal(self.value) + '"'
        if self.lang:
            return f"{text}@{self.lang}"
        if self.datatype and self.datatype != XSD + "string":
            return f"{text}^^<{self.datatype}>"
        return text

    def __str__(self) -> str:
        return self.value


#: What N-Triples escapes in a literal: the backslash, the quote, the named control characters, and the
#: other control characters as \\uXXXX.
_LITERAL_ESCAPES = {**{code: f"\\u{code:04X}" for code in [*range(0x20), 0x7F]},
                    ord("\\"): "\\\\", ord('"'): '\\"', ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t"}


def escape_literal(text: str) -> str:
    return text.translate(_LITERAL_ESCAPES)  # in C: a results table repeats it for every cell


class collector_paused:
    """Pause the cyclic garbage collector while a result's many acyclic objects (terms, rows) are made:
    each of its passes would walk them all again (a 19,893-row answer read back in 0.044-0.052 s instead
    of 0.073-0.101 s, in a process holding 300,000 other objects). The thread that paused it restarts it."""

    def __enter__(self) -> None:
        import gc

        self.was_enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *_exc) -> None:
        import gc

        if self.was_enabled:
            gc.enable()


class _Record:
    """Equality and repr from ``__slots__``: the little of a dataclass the results need, without the
    ~1 ms per class a dataclass costs at import (the query path is timed against ``import click``)."""

    __slots__: tuple[str, ...] = ()
    __hash__ = None  # mutable, like a dataclass with eq

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in self.__slots__)

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__name__}({fields})"


class SelectResult(_Record):
    """Rows of a SELECT; a row holds one term or None (unbound) per variable."""

    __slots__ = ("rows", "variables")

    def __init__(self, variables: list[str], rows: list[tuple[Term | None, ...]] | None = None) -> None:
        self.variables = variables
        self.rows = [] if rows is None else rows

    def sorted_rows(self) -> list[tuple[str, ...]]:
        """Rows as comparable strings, sorted: how tests and the differential check compare engines."""
        return sorted(tuple("" if t is None else t.n3() for t in row) for row in self.rows)


class AskResult(_Record):
    __slots__ = ("value",)

    def __init__(self, value: bool) -> None:
        self.value = value


class GraphResult(_Record):
    """CONSTRUCT/DESCRIBE output as N-Triples lines (sorted), ready to reserialize."""

    __slots__ = ("ntriples",)

    def __init__(self, ntriples: list[str]) -> None:
        self.ntriples = ntriples


QueryResult = SelectResult | AskResult | GraphResult
