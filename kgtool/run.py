"""Running canned and ad-hoc queries against the project's graph."""

from __future__ import annotations

from .errors import UsageError
from .namespaces import sparql_prologue
from .project import Project
from .queries import Catalogue, Query, query_form
from .safety import check_query_safety
from .store import Store, check_engine
from .terms import QueryResult

MAX_QUERY_BYTES = 1_000_000


def open_store(project: Project, inference: bool = True, engine: str = "rdflib") -> Store:
    check_engine(engine)
    from .graphs import load_graphs
    from .store import RdflibStore

    return RdflibStore(load_graphs(project, inference=inference).union())


def load_catalogue(project: Project) -> Catalogue:
    return Catalogue(project.queries_dir)


def run_canned(project: Project, name: str, values: dict[str, str], inference: bool = True,
               engine: str = "rdflib") -> tuple[Query, QueryResult]:
    query = load_catalogue(project).get(name)
    bindings = query.bind(values)
    check_query_safety(query.text, f"query {name!r}")
    return query, open_store(project, inference, engine).query(query.text, bindings)


def run_sparql(project: Project, text: str, origin: str, inference: bool = True,
               engine: str = "rdflib") -> QueryResult:
    if len(text.encode("utf-8")) > MAX_QUERY_BYTES:
        raise UsageError(f"{origin}: query larger than {MAX_QUERY_BYTES} bytes")
    if not text.strip():
        raise UsageError(f"{origin}: empty query")
    check_query_safety(text, origin)
    query_form(text)
    return open_store(project, inference, engine).query(with_prologue(text))


def with_prologue(text: str) -> str:
    """Add the project's PREFIX lines, so ad-hoc queries need not declare kzcn:, place: …"""
    return sparql_prologue() + text
