"""Running canned and ad-hoc queries against the project's graph.

The cold path of ``kgtool query NAME`` is kept light: it reads only ``queries/NAME.rq`` (its parsed header
cached by content, so PyYAML is not imported), opens the project's cached snapshot with pyoxigraph and
never imports rdflib, pyshacl or owlrl (a test checks it) unless the cache must be rebuilt.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from pathlib import Path
from typing import NamedTuple

from .errors import QueryError, UsageError
from .namespaces import sparql_prologue
from .project import Project
from .queries import Catalogue, Param, Query, parse_query_file, query_form
from .store import DEFAULT_ENGINE, Store, check_engine
from .terms import QueryResult

MAX_QUERY_BYTES = 1_000_000


def default_engine() -> str:
    """The engine used when none is named: ``$KGTOOL_ENGINE``, else oxigraph."""
    return os.environ.get("KGTOOL_ENGINE") or DEFAULT_ENGINE


def prepare_store(project: Project, inference: bool = True, engine: str | None = None) -> None:
    """Build the project's snapshot now if the inputs changed (milliseconds when it is current).

    Call it before handing the query to a time- and memory-limited worker (kgtool.limits): building the
    snapshot of a large graph takes seconds and gigabytes that the query's limits are not meant for.
    """
    if check_engine(engine or default_engine()) == "oxigraph" or inference:
        from .snapshot import get_snapshot

        get_snapshot(project)


def open_store(project: Project, inference: bool = True, engine: str | None = None) -> Store:
    engine = check_engine(engine or default_engine())
    if engine == "oxigraph":
        from .snapshot import get_snapshot

        return snapshot_store(get_snapshot(project), inference)
    from .graphs import load_graphs
    from .store import RdflibStore, quiet_rdflib_logs

    quiet_rdflib_logs()  # before parsing: an ill-typed literal in data/ would log a traceback
    return RdflibStore(load_graphs(project, inference=inference).union())


def snapshot_store(snapshot, inference: bool = True) -> Store:
    """The Oxigraph store of a snapshot (:mod:`kgtool.snapshot`), as :func:`open_store` gives it."""
    from .store import OxigraphStore

    return OxigraphStore(snapshot.open(inference), snapshot.graphs(inference), snapshot.exact_literals_file,
                         snapshot.path.name)


class _CachedCatalogue(Catalogue):
    """The catalogue, each file's parsed header taken from the cache when the file is unchanged."""

    def __init__(self, directory: Path) -> None:
        from .errors import ProjectError

        self.directory = directory
        files = sorted(directory.glob("*.rq"))
        if not files:
            raise ProjectError(f"{directory}: no .rq query files")
        self.queries = {q.name: q for q in (cached_query(f) for f in files)}


def load_catalogue(project: Project) -> Catalogue:
    return _CachedCatalogue(project.queries_dir)


def load_query(project: Project, name: str) -> Query:
    """One canned query; only an unknown name reads the whole catalogue (to suggest close names)."""
    path = project.queries_dir / f"{name}.rq"
    if name and "/" not in name and "\\" not in name and not name.startswith(".") and path.is_file():
        return cached_query(path)
    return load_catalogue(project).get(name)


#: Texts of canned queries whose cached header records that they passed the safety check (kgtool.safety):
#: not checked again on every run (its regular expressions cost ~3 ms of a cold start to compile).
_CHECKED_SAFE: set[str] = set()


def cached_query(path: Path) -> Query:
    """parse_query_file, with the result cached under the hash of the file and the stamp of the parser's
    and the safety check's code (:func:`kgtool.closure.code_stamp`), with the check's verdict."""
    from .closure import cache_dir, code_stamp, sha256, write_cached_file

    try:
        data = path.read_bytes()
    except OSError:  # a folder named x.rq, an unreadable file: the parser says so, naming it
        return parse_query_file(path)
    key = sha256(code_stamp("queries", "safety", "binding").encode() + b"\0" + data).hexdigest()
    entry = cache_dir() / "queries" / f"{key[:40]}.json"
    try:
        fields = json.loads(entry.read_text(encoding="utf-8"))
        safe = fields.pop("safe") is True
        fields["params"] = tuple(Param(**{**p, "enum": tuple(p["enum"])}) for p in fields["params"])
        fields["tags"], fields["example"] = tuple(fields["tags"]), tuple(fields["example"])
        query = Query(path=path, **fields)
        if safe:
            _CHECKED_SAFE.add(query.text)
        return query
    except (OSError, ValueError, TypeError, KeyError):
        pass
    query = parse_query_file(path)
    if query.text == data.decode("utf-8", "replace"):  # unchanged while parsed: safe to remember
        fields = {k: v for k, v in query._asdict().items() if k != "path"}
        fields["params"] = [p._asdict() for p in query.params]
        fields["safe"] = _passes_safety(query)
        if fields["safe"]:
            _CHECKED_SAFE.add(query.text)
        with contextlib.suppress(OSError):
            write_cached_file(entry, json.dumps(fields).encode("utf-8"))
    return query


def _passes_safety(query: Query) -> bool:
    from .errors import KgtoolError
    from .safety import check_query_safety

    try:
        check_query_safety(query.text, f"query {query.name!r}")
    except KgtoolError:
        return False
    return True


def run_canned(project: Project, name: str, values: dict[str, str], inference: bool = True,
               engine: str | None = None, cached: bool = True) -> tuple[Query, QueryResult]:
    """The canned query's answer; with ``cached``, the one kept from the last identical run if any
    (:mod:`kgtool.answers`), else computed and kept."""
    query = load_query(project, name)
    bindings = query.bind(values)
    if query.text not in _CHECKED_SAFE:
        from .safety import check_query_safety

        check_query_safety(query.text, f"query {name!r}")
    return query, answered(project, query.text, bindings, inference, engine, cached,
                           lambda store: store.query(query.text, bindings))


def run_sparql(project: Project, text: str, origin: str, inference: bool = True,
               engine: str | None = None, cached: bool = True) -> QueryResult:
    if len(text.encode("utf-8")) > MAX_QUERY_BYTES:
        raise UsageError(f"{origin}: query larger than {MAX_QUERY_BYTES} bytes")
    if not text.strip():
        raise UsageError(f"{origin}: empty query")
    from .safety import check_query_safety

    check_query_safety(text, origin)
    query_form(text)
    return answered(project, text, {}, inference, engine, cached, lambda store: query_adhoc(store, text))


def answered(project: Project, text: str, bindings: dict, inference: bool, engine: str | None, cached: bool,
             evaluate) -> QueryResult:
    """``evaluate(store)``, or the answer kept for the same snapshot, inference, text and parameters. Only
    the Oxigraph engine's answers are kept: the rdflib engine is the slow reference, always evaluated."""
    engine = check_engine(engine or default_engine())
    key = None
    if cached and engine == "oxigraph":
        from . import answers
        from .snapshot import get_snapshot

        key = answers.answer_key(get_snapshot(project).path.name, inference, text, bindings)
        kept = None if key is None else answers.load(key)
        if kept is not None:
            return kept
    result = evaluate(open_store(project, inference, engine))
    if key is not None:
        answers.keep(key, result)
    return result


class Warmed(NamedTuple):
    """What :func:`keep_default_answers` did: answers computed now, found kept, and the queries whose answer
    could not be had (too slow, too large, failed), with why."""

    computed: int
    found: int
    failed: list[tuple[str, str]]


def keep_default_answers(project: Project, timeout: float | None) -> Warmed:
    """Compute and keep (:mod:`kgtool.answers`) the answer of every canned query that runs without
    parameters, with inference, each in a worker stopped after ``timeout`` seconds: so that the first
    ``kgtool query NAME`` after a deploy is answered from the kept answer."""
    from . import answers
    from .errors import KgtoolError
    from .limits import run_limited
    from .queries import runs_without_parameters
    from .snapshot import get_snapshot

    snapshot = get_snapshot(project).path.name
    computed, found, failed = 0, 0, []
    for query in load_catalogue(project):
        if not runs_without_parameters(query):
            continue
        key = answers.answer_key(snapshot, True, query.text, query.bind({}))
        if key is not None and answers.is_kept(key):
            found += 1
            continue
        try:
            run_limited(run_canned, project, query.name, {}, timeout=timeout, max_rows=None)
            computed += 1
        except KgtoolError as exc:
            failed.append((query.name, str(exc)))
    return Warmed(computed, found, failed)


def with_prologue(text: str) -> str:
    """Add the project's PREFIX lines, so ad-hoc queries need not declare kzcn:, place: …"""
    return sparql_prologue() + text


def query_adhoc(store: Store, text: str) -> QueryResult:
    """Run a user's query with the project's prefixes; a syntax error's position is given in the user's
    text, not in the text with the prefix lines above it."""
    try:
        return in_query_order(store.query(with_prologue(text)), text)
    except QueryError as exc:
        raise QueryError(relocate(str(exc), sparql_prologue()), hint=exc.hint) from None


_FIRST_SELECT = re.compile(r"(?i)(?<![\w:?$])SELECT(?![\w:])(\s+(?:DISTINCT|REDUCED))?\s*(\*)?")
_VARIABLE = re.compile(r"[?$]([\w\u00B7\u0300-\u036F\u203F\u2040]+)")


def in_query_order(result: QueryResult, text: str) -> QueryResult:
    """``SELECT *`` leaves the order of the columns to the engine (Oxigraph sorts the names, rdflib keeps
    a set's order): both give them in the order the query first names them, as Jena does."""
    from .queries import strip_comments
    from .terms import SelectResult

    if not isinstance(result, SelectResult):
        return result
    body = strip_comments(text)
    select = _FIRST_SELECT.search(body)
    if select is None or select.group(2) is None:
        return result
    first: dict[str, int] = {}
    for match in _VARIABLE.finditer(body, select.end()):
        first.setdefault(match.group(1), match.start())
    order = sorted(range(len(result.variables)), key=lambda i: (first.get(result.variables[i], len(body)),
                                                                result.variables[i]))
    if order == list(range(len(order))):
        return result
    return SelectResult([result.variables[i] for i in order], [tuple(row[i] for i in order) for row in result.rows])


def relocate(message: str, prologue: str) -> str:
    """Error positions of both engines (Oxigraph "error at LINE:COL", rdflib "(at char N), (line:L,
    col:C)") moved back by the prologue's lines and characters."""
    lines, chars = prologue.count("\n"), len(prologue)
    message = re.sub(r"error at (\d+):(\d+)",
                     lambda m: f"error at {max(int(m[1]) - lines, 1)}:{m[2]}", message)
    return re.sub(r"\(at char (\d+)\), \(line:(\d+), col:(\d+)\)",
                  lambda m: f"(at char {max(int(m[1]) - chars, 0)}), (line:{max(int(m[2]) - lines, 1)}, col:{m[3]})",
                  message)
