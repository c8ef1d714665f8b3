"""The narrow interface every query engine offers, and a registry of engines imported lazily.

``oxigraph`` (the default): pyoxigraph over the project's cached snapshot (:mod:`kgtool.snapshot`), a
store of the asserted and inferred triples (or of the asserted ones alone, without inference); a cold
process answers in milliseconds and never imports rdflib. ``rdflib``: the pure-Python in-memory graph,
kept available and checked against the other by a differential test. An engine takes SPARQL text and
parameter bindings as :class:`~kgtool.terms.Term` values, which it turns into its own terms: parameters
are bound (rdflib's ``initBindings``, pyoxigraph's ``substitutions``), never pasted into the query.
"""

from __future__ import annotations

import re
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


class OxigraphStore:
    """Queries a pyoxigraph store whose default graph is the union of the given graphs ("": the store's own).

    Parameters go through pyoxigraph's ``substitutions``, which bind the variable everywhere in the query,
    sub-selects included, before it is planned: a canned query evaluates per parameter value rather than
    over the whole graph (actor-activity at 1M triples: 4.6 s with a ``VALUES`` row, 2 ms substituted).
    pyoxigraph substitutes only variables the outermost SELECT projects, so a bound variable it does not
    project is added to the projection for the evaluation and its column dropped from the result; where
    that is not valid SPARQL (an aggregate query that does not group by the variable) or the query is not
    a SELECT, the parameters become one row of a ``VALUES`` block of typed terms at the start of the WHERE
    clause (DESIGN section 5; the same binding as for remote endpoints), each term written by
    :func:`sparql_term`, which refuses anything that could leave its token.
    """

    name = "oxigraph"

    def __init__(self, store, graphs: list) -> None:
        self.store = store
        self.default_graph = graph_terms(graphs)

    def query(self, sparql: str, bindings: dict[str, Term] | None = None) -> QueryResult:
        import pyoxigraph as ox

        bindings = bindings or {}
        substitutions, hidden = {}, []
        if bindings:
            projected = with_projected(sparql, bindings)
            if projected is None:
                sparql = with_values(sparql, bindings)
            else:
                sparql, hidden = projected
                substitutions = {ox.Variable(k): to_oxigraph(v) for k, v in bindings.items()}
        try:
            result = self.store.query(sparql, default_graph=self.default_graph, named_graphs=[],
                                      substitutions=substitutions)
            return from_oxigraph_result(result, hidden)
        except (SyntaxError, OSError, ValueError, TypeError, RuntimeError) as exc:
            raise QueryError(f"query failed: {' '.join(str(exc).split())[:400]}") from None


_MASK = (r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\''
         r"|<[^<>\s]*>|#[^\n]*")
_FORM = r"(?i)(?<![\w:?$])(SELECT|ASK|CONSTRUCT|DESCRIBE)(?![\w:])"
_WHERE = r"(?i)(?<![\w:?$])WHERE(?![\w:])"
_IRI_UNSAFE = r'[\x00-\x20<>"{}|^`\\]'
_LANG = r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$"


def _masked(text: str) -> str:
    """The query with comments, strings and IRIs blanked out, offsets unchanged."""
    return re.sub(_MASK, lambda m: " " * len(m.group(0)), text)


_AGGREGATE = r"(?i)(?<![\w:?$])(COUNT|SUM|MIN|MAX|AVG|SAMPLE|GROUP_CONCAT)\s*\("
_MODIFIER = r"(?i)(?<![\w:?$])(HAVING|ORDER\s+BY|LIMIT|OFFSET|VALUES)(?![\w:])"


def _closing_brace(masked: str, opening: int) -> int:
    depth = 0
    for i in range(opening, len(masked)):
        if masked[i] == "{":
            depth += 1
        elif masked[i] == "}":
            depth -= 1
            if depth == 0:
                return i
    return -1


def with_projected(sparql: str, bindings: dict[str, Term]) -> tuple[str, list[str]] | None:
    """The SELECT with every bound variable in its outermost projection, and the names added; None if
    that is not possible (not a SELECT, or an aggregate query that does not group by the variable)."""
    masked = _masked(sparql)
    form = re.search(_FORM, masked)
    if not form or form.group(1).upper() != "SELECT":
        return None
    brace = masked.find("{", form.end())
    head = masked[form.end():brace]
    distinct = re.match(r"\s*(DISTINCT|REDUCED)?", head, re.I)
    if re.match(r"\s*\*", head[distinct.end():]):
        return sparql, []
    plain = head
    while (inner := re.sub(r"\([^()]*\)", " ", plain)) != plain:  # (expr AS ?x) is not a plain projection
        plain = inner
    listed = set(re.findall(r"[?$]([A-Za-z_][A-Za-z0-9_]*)", plain))
    missing = [name for name in bindings if name not in listed]
    if not missing:
        return sparql, []
    where = re.compile(_WHERE).search(masked, form.end())
    opening = masked.find("{", where.end() if where else form.end())
    closing = _closing_brace(masked, opening)
    if opening < 0 or closing < 0:
        return None
    tail = masked[closing + 1:]
    group = re.search(r"(?i)(?<![\w:?$])GROUP\s+BY(?![\w:])", tail)
    if group:
        end = re.compile(_MODIFIER).search(tail, group.end())
        keys = set(re.findall(r"(?:^|\s)[?$]([A-Za-z_][A-Za-z0-9_]*)", tail[group.end():end.start() if end else None]))
        if not set(missing) <= keys:
            return None
    elif re.search(_AGGREGATE, head):
        return None
    at = form.end() + distinct.end()
    added = "".join(f" ?{name}" for name in missing) + " "
    return f"{sparql[:at]}{added}{sparql[at:]}", missing


def with_values(sparql: str, bindings: dict[str, Term]) -> str:
    """The query with one VALUES row for ``bindings`` right after the opening brace of its WHERE."""
    masked = _masked(sparql)
    form = re.search(_FORM, masked)
    if not form:
        raise QueryError("cannot find SELECT, ASK, CONSTRUCT or DESCRIBE in the query")
    where = re.compile(_WHERE).search(masked, form.end())
    brace = masked.find("{", where.end() if where else form.end())
    if brace < 0:
        raise QueryError("cannot find the WHERE clause of the query")
    names = " ".join(f"?{name}" for name in bindings)
    row = " ".join(sparql_term(term) for term in bindings.values())
    return f"{sparql[:brace + 1]} VALUES ({names}) {{ ({row}) }} {sparql[brace + 1:]}"


def sparql_term(term: Term) -> str:
    """A term as SPARQL syntax, refusing anything that could escape its own token."""
    if term.kind == "iri":
        if re.search(_IRI_UNSAFE, term.value):
            raise UsageError(f"IRI {term.value!r} contains characters not allowed in an IRI")
        return f"<{term.value}>"
    if term.kind != "literal":
        raise UsageError("blank nodes cannot be parameters")
    if term.lang and not re.match(_LANG, term.lang):
        raise UsageError(f"{term.lang!r} is not a language tag")
    if term.datatype and re.search(_IRI_UNSAFE, term.datatype):
        raise UsageError(f"datatype {term.datatype!r} is not an IRI")
    return term.n3()


def graph_terms(graphs: list) -> list:
    """Graph names as pyoxigraph terms: an IRI string names a graph, "" is the default graph."""
    import pyoxigraph as ox

    return [ox.DefaultGraph() if g == "" else ox.NamedNode(g) if isinstance(g, str) else g for g in graphs]


def to_oxigraph(term: Term):
    import pyoxigraph as ox

    if term.kind == "iri":
        return ox.NamedNode(term.value)
    if term.kind == "bnode":
        return ox.BlankNode(term.value)
    if term.lang:
        return ox.Literal(term.value, language=term.lang)
    return ox.Literal(term.value, datatype=ox.NamedNode(term.datatype) if term.datatype else None)


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


def from_oxigraph_result(result, hidden: list[str] = ()) -> QueryResult:
    """The result as kgtool terms, without the columns named in ``hidden``."""
    import pyoxigraph as ox

    if isinstance(result, ox.QueryBoolean):
        return AskResult(bool(result))
    if isinstance(result, ox.QueryTriples):
        return GraphResult(sorted({f"{t} ." for t in result}))
    variables = [v.value for v in result.variables]
    kept = [i for i, name in enumerate(variables) if name not in hidden]
    rows = [tuple(from_oxigraph(solution[i]) for i in kept) for solution in result]
    return SelectResult([variables[i] for i in kept], rows)


ENGINES = ("oxigraph", "rdflib")
DEFAULT_ENGINE = "oxigraph"


def check_engine(name: str) -> str:
    if name not in ENGINES:
        raise UsageError(f"unknown engine {name!r}", hint=f"choose one of: {', '.join(ENGINES)}")
    return name
