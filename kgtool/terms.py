"""Engine-neutral RDF terms and query results.

The query path renders results without knowing which engine (rdflib or Oxigraph) produced them, and
binds parameters as terms, never as query text. Keeping this module free of rdflib lets the fast path
avoid importing it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"


@dataclass(frozen=True, order=True)
class Term:
    """An IRI, a literal (with datatype or language) or a blank node."""

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


def escape_literal(text: str) -> str:
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return "".join(out)


@dataclass
class SelectResult:
    """Rows of a SELECT; a row holds one term or None (unbound) per variable."""

    variables: list[str]
    rows: list[tuple[Term | None, ...]] = field(default_factory=list)

    def sorted_rows(self) -> list[tuple[str, ...]]:
        """Rows as comparable strings, sorted: how tests and the differential check compare engines."""
        return sorted(tuple("" if t is None else t.n3() for t in row) for row in self.rows)


@dataclass
class AskResult:
    value: bool


@dataclass
class GraphResult:
    """CONSTRUCT/DESCRIBE output as N-Triples lines (sorted), ready to reserialize."""

    ntriples: list[str]


QueryResult = SelectResult | AskResult | GraphResult
