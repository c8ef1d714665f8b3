"""The narrow interface every query engine offers, and a registry of engines imported lazily.

``oxigraph`` (the default): pyoxigraph over the project's cached snapshot (:mod:`kgtool.snapshot`), a
store of the asserted and inferred triples (or of the asserted ones alone, without inference); a cold
process answers in milliseconds and never imports rdflib. ``rdflib``: the pure-Python in-memory graph,
kept available and checked against the other by a differential test. An engine takes SPARQL text and
parameter bindings as :class:`~kgtool.terms.Term` values: rdflib binds them as its own terms
(``initBindings``), Oxigraph as ``VALUES`` rows of checked terms (:mod:`kgtool.binding`), never as
query syntax.
"""

from __future__ import annotations

from typing import Protocol

from .errors import QueryError, UsageError
from .terms import AskResult, GraphResult, QueryResult, SelectResult, Term, collector_paused


class Store(Protocol):
    name: str

    def query(self, sparql: str, bindings: dict[str, Term] | None = None) -> QueryResult: ...


class RdflibStore:
    """Queries an rdflib graph; bindings go through ``initBindings``."""

    name = "rdflib"

    def __init__(self, graph) -> None:
        self.graph = graph
        quiet_rdflib_logs()  # its tracebacks for ill-typed literals are not the user's to read

    def query(self, sparql: str, bindings: dict[str, Term] | None = None) -> QueryResult:
        from rdflib import Variable

        _refuse_service_in_rdflib()
        init = {Variable(k): to_rdflib(v) for k, v in (bindings or {}).items()}
        try:  # rdflib evaluates lazily: errors come while the rows are read, too
            return from_rdflib_result(self.graph.query(sparql, initBindings=init))
        except QueryError:
            raise
        except Exception as exc:
            raise QueryError(f"query failed: {' '.join(str(exc).split())[:400]}") from None


def quiet_rdflib_logs() -> None:
    """Silence rdflib's log for the process: a traceback per ill-typed literal and warnings about odd
    IRIs, which kgtool reports itself, in words (validate, the gate). Here, not in a module that imports
    rdflib, so that the CLI can call it without loading rdflib."""
    import logging

    logging.getLogger("rdflib").setLevel(logging.CRITICAL)


def _refuse_service_in_rdflib() -> None:
    """Make rdflib refuse SERVICE when it evaluates one, through its documented hook (CUSTOM_EVALS, tried
    before its own evaluation): the keyword check before evaluation (:mod:`kgtool.safety`) is the first
    line, this one holds whatever spelling reached the parser."""
    from rdflib.plugins.sparql import CUSTOM_EVALS

    CUSTOM_EVALS.setdefault("kgtool-no-service", _no_service)


def _no_service(_ctx, part):
    if getattr(part, "name", None) == "ServiceGraphPattern":
        raise QueryError("SERVICE refused: federated SERVICE calls reach the network")
    raise NotImplementedError  # rdflib's own evaluation goes on


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
        import warnings

        with warnings.catch_warnings():  # rdflib warns of every ill-typed number it writes ("weird numerical")
            warnings.simplefilter("ignore")
            lines = sorted({f"{s.n3()} {p.n3()} {o.n3()} ." for s, p, o in result.graph})
        return GraphResult(lines)
    variables = [str(v) for v in result.vars]
    rows = [tuple(from_rdflib(row[i]) for i in range(len(variables))) for row in result]
    return SelectResult(variables, rows)


class OxigraphStore:
    """Queries a pyoxigraph store whose default graph is the union of the given graphs ("": the store's own).

    Parameters are bound by :func:`kgtool.binding.bind_parameters` (DESIGN section 5; the same binding
    as for remote endpoints): one-row ``VALUES`` blocks of checked terms wherever the parameter's variable
    is in scope, sub-selects that project it included, so that a canned query is evaluated for the
    parameter's value rather than over the whole graph (actor-activity at 1M triples: 4.6 s with a row at
    the start of the WHERE clause alone, 2 ms bound in its sub-selects too).
    """

    name = "oxigraph"

    def __init__(self, store, graphs: list, exact_literals=None, snapshot: str | None = None) -> None:
        self.store = store
        self.default_graph = graph_terms(graphs)
        self.exact_literals = exact_literals  # the snapshot's exact-literals.nt, if any
        self.snapshot = snapshot  # the name of the snapshot it was opened from (kgtool.answers files by it)

    def query(self, sparql: str, bindings: dict[str, Term] | None = None) -> QueryResult:
        if bindings:  # only then: importing the binding's regular expressions costs ~2 ms of a cold start
            from .binding import bind_parameters

            sparql = bind_parameters(sparql, bindings)
        try:
            result = from_oxigraph_result(self.store.query(sparql, default_graph=self.default_graph,
                                                           named_graphs=[]))
        except (SyntaxError, OSError, ValueError, TypeError, RuntimeError) as exc:
            raise QueryError(f"query failed: {' '.join(str(exc).split())[:400]}") from None
        if isinstance(result, GraphResult) and self.exact_literals is not None:
            result = GraphResult(sorted(restore_literals(result.ntriples, self.exact_literals)))
        return result


_INTEGER_END = '"^^<http://www.w3.org/2001/XMLSchema#integer> .'


def restore_literals(lines: list[str], exact_file) -> list[str]:
    """Triples as the data writes them: Oxigraph stores "25"^^xsd:positiveInteger as "25"^^xsd:integer
    (oxigraph#526); the snapshot lists every such triple as written (exact-literals.nt), so a graph
    result's triple gets its literal back by subject, predicate and number. (A SELECT row cannot: its
    value carries no triple.)"""
    if not any(line.endswith(_INTEGER_END) for line in lines):
        return lines
    from .fastvalidate import exact_objects
    from .shapes_fast import load_exact

    exact = load_exact(exact_file)
    out = []
    for line in lines:
        s, p, o = line[:-2].split(" ", 2)
        if line.endswith(_INTEGER_END) and (s, p) in exact:
            out += [f"{s} {p} {written} ." for written in sorted(exact_objects({o}, exact[s, p]))]
        else:
            out.append(line)
    return out


def graph_terms(graphs: list) -> list:
    """Graph names as pyoxigraph terms: an IRI string names a graph, "" is the default graph."""
    import pyoxigraph as ox

    return [ox.DefaultGraph() if g == "" else ox.NamedNode(g) if isinstance(g, str) else g for g in graphs]


def from_oxigraph(node) -> Term | None:
    import pyoxigraph as ox

    if node is None:
        return None
    if isinstance(node, ox.NamedNode):
        return Term.iri(node.value)
    if isinstance(node, ox.BlankNode):
        return Term("bnode", node.value)
    if isinstance(node, ox.Literal):
        return Term.literal(node.value, node.datatype.value, node.language)
    raise TypeError(f"unexpected term {node!r}")


def from_oxigraph_result(result) -> QueryResult:
    import pyoxigraph as ox

    if isinstance(result, ox.QueryBoolean):
        return AskResult(bool(result))
    if isinstance(result, ox.QueryTriples):
        return GraphResult(sorted({f"{t} ." for t in result}))
    variables = [v.value for v in result.variables]
    width = range(len(variables))
    with collector_paused():
        rows = [tuple(from_oxigraph(solution[i]) for i in width) for solution in result]
    return SelectResult(variables, rows)


ENGINES = ("oxigraph", "rdflib")
DEFAULT_ENGINE = "oxigraph"


def check_engine(name: str) -> str:
    if name not in ENGINES:
        raise UsageError(f"unknown engine {name!r}", hint=f"choose one of: {', '.join(ENGINES)}")
    return name
