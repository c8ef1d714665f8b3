"""The narrow interface every query engine offers, and a registry of engines imported lazily.

``rdflib``: the embedded in-memory default, pure Python. Others (Oxigraph) register here too. An engine
takes SPARQL text and parameter bindings as :class:`~kgtool.terms.Term` values, which it turns into its
own terms: parameters are bound, never pasted into the query.
"""

from __future__ import annotations

from typing import Protocol

from .errors import QueryError, UsageError
from .terms import AskResult, GraphResult, QueryResult, SelectResult, Term


class Store(Protocol):
    name: str

    def query(self, sparql: str, bindings: dict[str, Term] | None = None) -> QueryResult: ...


class RdflibStore:
    """Queries an rdflib graph; bindings go through ``initBindings``."""

    name = "rdflib"

    def __init__(self, graph) -> None:
        self.graph = graph

    def query(self, sparql: str, bindings: dict[str, Term] | None = None) -> QueryResult:
        from rdflib import Variable

        init = {Variable(k): to_rdflib(v) for k, v in (bindings or {}).items()}
        try:
            result = self.graph.query(sparql, initBindings=init)
        except Exception as exc:
            raise QueryError(f"query failed: {' '.join(str(exc).split())[:400]}") from None
        return from_rdflib_result(result)


def to_rdflib(term: Term):
    from rdflib import BNode, Literal, URIRef

    if term.kind == "iri":
        return URIRef(term.value)
    if term.kind == "bnode":
        return BNode(term.value)
    if term.lang:
        return Literal(term.value, lang=term.lang)
    return Literal(term.value, datatype=URIRef(term.datatype) if term.datatype else None)


def from_rdflib(node) -> Term | None:
    from rdflib import BNode, Literal, URIRef

    if node is None:
        return None
    if isinstance(node, URIRef):
        return Term.iri(str(node))
    if isinstance(node, BNode):
        return Term("bnode", str(node))
    if isinstance(node, Literal):
        return Term.literal(str(node), str(node.datatype) if node.datatype else None, node.language)
    raise TypeError(f"unexpected term {node!r}")


def from_rdflib_result(result) -> QueryResult:
    if result.type == "ASK":
        return AskResult(bool(result.askAnswer))
    if result.type in ("CONSTRUCT", "DESCRIBE"):
        lines = sorted({f"{s.n3()} {p.n3()} {o.n3()} ." for s, p, o in result.graph})
        return GraphResult(lines)
    variables = [str(v) for v in result.vars]
    rows = [tuple(from_rdflib(row[i]) for i in range(len(variables))) for row in result]
    return SelectResult(variables, rows)


ENGINES = ("rdflib",)


def check_engine(name: str) -> str:
    if name not in ENGINES:
        raise UsageError(f"unknown engine {name!r}", hint=f"choose one of: {', '.join(ENGINES)}")
    return name
