"""The application behind ``kgtool serve``: requests in, responses out (:mod:`kgtool.server`: sockets).

Routes::

    /                 the canned-query catalogue          /query/NAME    parameter form and results
    /sparql           SPARQL 1.1 Protocol (GET, POST)     /timeline      dated events and agreements
    /id/KIND/SLUG     an entity of the project            /entity?iri=   any other IRI
    /static/style.css

Safety: a Host check against DNS rebinding when bound to loopback; updates answered 405; at most
``max_concurrent`` queries at once, more answered 503; every query under the time limit and result cap of
:func:`kgtool.limits.run_limited`, and evaluated in a worker, so the shared graph is never used by two
threads; HTML escaped throughout, with a Content-Security-Policy that allows no script.

The graph is a snapshot of the project: an answer, once computed, stays right as long as that snapshot is
served, so identical requests are answered from :mod:`kgtool.resultcache` without a worker or a slot.
:meth:`App.refresh` (every two seconds, from :func:`kgtool.server.serve`) notices when the ontology, the
data or the queries changed, opens the new snapshot beside the old one (made from it unless the ontology's
axioms changed, :mod:`kgtool.incremental`: seconds at a million triples) and then serves it, with an empty
result cache; until then, and if the new data does not load, the old one is served.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from .errors import KgtoolError, UsageError
from .limits import QueryTimeout, ResultTooLarge, WorkerDied, run_limited, run_limited_sized
from .project import Project
from .protocol import (
    GRAPH_TYPES,
    RESULT_TYPES,
    NotAcceptable,
    UnsupportedMediaType,
    UpdateRefused,
    negotiate,
    parse_form,
    parse_request,
    serialize_result,
)
from .resultcache import ResultCache, request_key
from .terms import QueryResult

log = logging.getLogger("kgtool.server")
STATIC = Path(__file__).parent / "web"
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@dataclass
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8765
    allow_remote: bool = False  # bind a non-loopback address (only when the user named one)
    timeout: float = 10.0  # seconds per query
    max_rows: int = 10_000
    max_body: int = 1 << 20  # bytes
    max_concurrent: int = 4  # queries at once
    queue_wait: float = 5.0  # seconds a query waits for a free slot before the answer is 503
    max_result_bytes: int = 64 << 20  # a worker's answer, before it is written out
    max_connections: int = 64  # open at once; more are answered 503 and closed
    result_cache_bytes: int = 128 << 20  # memory for answers kept for identical requests; 0: none
    request_deadline: float = 60.0  # seconds to send a request's line, headers and body
    inference: bool = True
    engine: str | None = None  # None: the project's default engine ($KGTOOL_ENGINE, else oxigraph)
    warm: bool = False  # compute the canned queries' default answers at start, in the background
    reload_every: float = 2.0  # seconds between checks that the project changed (0: serve the start's data)


@dataclass
class Request:
    method: str
    path: str
    query_string: str
    headers: dict[str, str]  # lower-case names
    body: bytes = b""

    def param(self, name: str) -> str | None:
        values = urllib.parse.parse_qs(self.query_string, keep_blank_values=True).get(name)
        return values[0] if values else None

    def wants(self, offers: dict[str, str]) -> str:
        return self.param("format") or negotiate(self.headers.get("accept"), offers)


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = "text/plain; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


def html(text: str, status: int = 200) -> Response:
    return Response(status, text.encode("utf-8"), "text/html; charset=utf-8", {"Vary": "Accept"})


#: Seconds, beyond a query's time limit, that a snapshot no longer served stays held for requests under way.
RETIRE_GRACE = 60.0


@dataclass(frozen=True)
class _Refused:
    """A kept refusal: the answer was over the row or byte cap, and would be again."""

    message: str
    hint: str | None


class NotFound(KgtoolError):
    """No page at this path (HTTP 404; an HTML page for a browser, like every other error)."""


class Warmed(NamedTuple):
    """What :meth:`App.warm` did: answers computed, of them still kept, of how many; whether it stopped
    because the result cache was full."""

    computed: int
    kept: int
    jobs: int
    cache_full: bool


class Busy(KgtoolError):
    """Every query slot is taken (HTTP 503)."""


class App:
    """Everything but the sockets: loads the graph once, answers :class:`Request` with :class:`Response`."""

    def __init__(self, project: Project, config: ServerConfig) -> None:
        self.project, self.config = project, config
        self.signature = project_signature(project)
        self.catalogue, self.store, self.labels, self.served = self._load()
        self.retired: list[tuple[float, Path]] = []  # snapshots served before, and since when they are not
        self.slots = threading.BoundedSemaphore(config.max_concurrent)
        self.results = ResultCache(config.result_cache_bytes)

    def _load(self) -> tuple:
        """The catalogue, the store, the labels the pages show, and the snapshot folder the store was opened
        from (None on the rdflib engine, which holds its graph in memory)."""
        from .run import check_engine, default_engine, load_catalogue, open_store, snapshot_store
        from .snapshot import get_snapshot
        from .web.views import label_index

        catalogue = load_catalogue(self.project)
        folder = None
        if check_engine(self.config.engine or default_engine()) == "oxigraph":
            _build_apart(self.project)
            snapshot = get_snapshot(self.project)  # found (or, where the other process could not, built)
            store, folder = snapshot_store(snapshot, self.config.inference), snapshot.path
        else:
            store = open_store(self.project, inference=self.config.inference, engine=self.config.engine)
        # Warm up in this process (lazy imports, the parser), so each forked worker starts ready.
        store.query("ASK { ?s ?p ?o }")
        labels: dict[str, str] = run_limited(label_index, store, timeout=120, max_rows=None)
        return catalogue, store, labels, folder

    def refresh(self) -> Refreshed | None:
        """Serve the project as it is now, if it changed since it was loaded: what happened, or None when
        nothing changed. The old graph is served while the new one loads, and stays if it
        cannot load (a syntax error mid-edit: tried again at the next change). A request under way when
        the graph changes finishes on the old one; its answer is kept under the old store, which no later
        request asks for."""
        import time

        self._let_go_of_retired()
        signature = project_signature(self.project)
        if signature == self.signature:
            return None
        started = time.perf_counter()
        try:
            catalogue, store, labels, folder = self._load()
        except KgtoolError as exc:
            self.signature = signature
            return Refreshed(False, f"the project changed but does not load, so the previous data is still "
                                    f"served: {exc}")
        if self.served is not None and self.served != folder:
            self.retired.append((time.monotonic(), self.served))
        self.catalogue, self.store, self.labels, self.served = catalogue, store, labels, folder
        self.results = ResultCache(self.config.result_cache_bytes)
        self.signature = signature
        return Refreshed(True, f"the project changed: now serving the new data (loaded in "
                               f"{time.perf_counter() - started:.1f} s)")

    def warm(self, stopping: threading.Event | None = None) -> Warmed:
        """Compute and keep what the pages show without parameters: every canned SELECT whose parameters
        are all optional or defaulted (what ``/query/NAME`` runs, in any format), and the timeline, under
        the same keys as those requests, so these are then answered from the kept answers. One query at a
        time, so visitors keep the other slots; a query that fails or times out is passed over (a visitor
        is told as usual). Stops when ``stopping`` is set, and once the kept answers fill the result
        cache (going on would only push out the answers warmed first)."""
        import time

        from .queries import runs_without_parameters
        from .safety import check_query_safety
        from .web import views

        jobs: list[tuple] = [(views.timeline, self.store)]
        for query in self.catalogue:
            if runs_without_parameters(query):
                try:
                    check_query_safety(query.text, f"query {query.name!r}")
                    jobs.append((self.store.query, query.text, query.bind({})))
                except KgtoolError:
                    continue
        computed, keys, full = 0, [], False
        for job in jobs:
            while not (full or (stopping and stopping.is_set())):
                evictions = self.results.evictions
                try:
                    self.run(*job)
                    computed += 1
                    keys.append(request_key(job[0], job[1:], self.config.max_rows))
                except Busy:  # visitors first: try again once a slot is free
                    time.sleep(0.2)
                    continue
                except KgtoolError:  # too large, too slow, refused: visitors will be told as usual
                    pass
                full = self.results.evictions > evictions
                break
        return Warmed(computed, sum(key in self.results for key in keys), len(jobs), full)

    # ------------------------------------------------------------------------------------ dispatch
    def handle(self, request: Request) -> Response:
        from .web import pages

        try:
            return self._route(request)
        except KgtoolError as exc:
            status, headers = _status_of(exc)
            if _prefers_html(request):
                response = html(pages.error_page(status, str(exc)), status)
            else:
                response = Response(status, (str(exc) + "\n").encode("utf-8"), headers={"Vary": "Accept"})
            response.headers.update(headers)
            return response
        except Exception:
            log.exception("internal error on %s %s", request.method, request.path)
            return Response(500, b"internal error (see the server log)\n")

    def _route(self, request: Request) -> Response:
        path = request.path
        if request.method not in ("GET", "HEAD", "POST"):
            raise UpdateRefused(f"{request.method} is not allowed: this endpoint is read-only")
        if path == "/sparql":
            return self.sparql(request)
        if request.method == "POST":
            raise UpdateRefused(f"POST is not allowed on {path}")
        if path == "/":
            from .web.pages import catalogue_page

            return html(catalogue_page(self.catalogue))
        if path.startswith("/query/"):
            return self.canned(request, urllib.parse.unquote(path[len("/query/"):]))
        if path == "/entity":
            return self.entity(request, request.param("iri") or "")
        if path.startswith("/id/"):
            from .namespaces import INSTANCE_BASE

            return self.entity(request, INSTANCE_BASE + urllib.parse.unquote(path[len("/id/"):]))
        if path == "/timeline":
            from .web import pages, views

            return html(pages.timeline_page(self.run(views.timeline, self.store), self.labels))
        if path == "/static/style.css":
            return Response(200, (STATIC / "style.css").read_bytes(), "text/css; charset=utf-8",
                            {"Cache-Control": "max-age=3600"})
        raise NotFound(f"not found: {path}")

    def run(self, fn: Callable, *args, max_rows: int | None = None):
        """Run ``fn`` in a query worker, if a slot is free (else :class:`Busy`), unless the same was asked
        before and its answer is still kept: in memory (:mod:`kgtool.resultcache`), or for a query, on disk
        where ``kgtool query`` and ``kgtool sparql`` keep theirs too (:mod:`kgtool.answers`), so that the
        server and the command line share them and a restarted server has them."""
        from . import answers

        max_rows = max_rows or self.config.max_rows
        key = request_key(fn, args, max_rows)
        found, answer = self.results.get(key)
        if isinstance(answer, _Refused):
            raise ResultTooLarge(answer.message, hint=answer.hint)
        if found:
            return answer
        kept = self._answer_key(fn, args)
        answer = None if kept is None else answers.load(kept)
        try:
            if answer is not None:
                size = self._admitted(answer, max_rows)
            else:
                answer, size = self._computed(fn, args, max_rows)
                if kept is not None:
                    answers.keep(kept, answer)
        except ResultTooLarge as exc:  # as certain as an answer (the same graph, the same caps): kept too
            refused = _Refused(exc.message, exc.hint)
            self.results.put(key, refused, len(exc.message) + len(exc.hint or ""))
            raise
        self.results.put(key, answer, size)
        return answer

    _CAP_HINT = "add LIMIT to the query, or kgtool serve --max-rows raises the cap"

    def _computed(self, fn: Callable, args: tuple, max_rows: int) -> tuple:
        if not self.slots.acquire(timeout=self.config.queue_wait):
            raise Busy(f"all {self.config.max_concurrent} query slots stayed busy for {self.config.queue_wait:g} s;"
                       " try again in a moment")
        try:
            return run_limited_sized(
                fn, *args, timeout=self.config.timeout, max_rows=max_rows, max_bytes=self.config.max_result_bytes,
                timeout_hint="the server's limit; kgtool serve --timeout raises it", cap_hint=self._CAP_HINT)
        finally:
            self.slots.release()

    def _answer_key(self, fn: Callable, args: tuple) -> str | None:
        """The name a query's answer is kept under on disk, as the command line names it (the snapshot of
        the store it asks, inference, the text and its parameters); None for what is not a query of a
        snapshot's store (the rdflib engine's, a page's view) or when no caching was asked for. The
        snapshot is the store's own, not the one served now: a request under way when the project changed
        finishes on the old store."""
        from . import answers
        from .run import query_adhoc
        from .store import OxigraphStore

        if not self.config.result_cache_bytes:
            return None
        store = getattr(fn, "__self__", None)
        if isinstance(store, OxigraphStore) and getattr(fn, "__func__", None) is OxigraphStore.query:
            text, bindings = args[0], (args[1] if len(args) > 1 else None) or {}
        elif fn is query_adhoc and isinstance(args[0], OxigraphStore):
            store, text, bindings = args[0], args[1], {}
        else:
            return None
        if store.snapshot is None:
            return None
        return answers.answer_key(store.snapshot, self.config.inference, text, bindings)

    def _admitted(self, answer: QueryResult, max_rows: int) -> int:
        """The caps a worker applies (rows, and bytes as pickled), applied to an answer read from disk; its
        pickled size, what the memory cache counts."""
        from .limits import check_cap, pickled_answer

        checked = check_cap(answer, max_rows, self._CAP_HINT)
        return len(pickled_answer(checked, self.config.max_result_bytes, self._CAP_HINT))

    # -------------------------------------------------------------------------------------- routes
    def sparql(self, request: Request) -> Response:
        from .queries import query_form
        from .run import MAX_QUERY_BYTES, query_adhoc
        from .safety import check_query_safety
        from .web.pages import sparql_page

        proto = parse_request(request.method, request.query_string, request.headers.get("content-type", ""),
                              request.body)
        if proto.query is None:
            if _prefers_html(request):
                return html(sparql_page("", None, None, self.labels))
            raise UsageError("no query: send query= (GET or form POST) or an application/sparql-query body")
        if len(proto.query.encode("utf-8")) > MAX_QUERY_BYTES or not proto.query.strip():
            raise UsageError("the query is empty or too long")
        check_query_safety(proto.query, "query")
        form = query_form(proto.query)
        offers = GRAPH_TYPES if form in ("CONSTRUCT", "DESCRIBE") else RESULT_TYPES
        fmt = proto.format or negotiate(request.headers.get("accept"), offers)
        if fmt == "html":
            try:
                result = self.run(query_adhoc, self.store, proto.query)
            except (Busy, QueryTimeout):
                raise
            except KgtoolError as exc:
                return html(sparql_page(proto.query, None, str(exc), self.labels), _status_of(exc)[0])
            return html(sparql_page(proto.query, result, None, self.labels))
        return self._served(fmt, query_adhoc, self.store, proto.query)

    def canned(self, request: Request, name: str) -> Response:
        from .safety import check_query_safety
        from .web.pages import query_page

        query = self.catalogue.get(name)
        reserved = {"format", "run"} - {p.name for p in query.params}
        raw = parse_form(request.query_string)  # strict: a value that is not UTF-8 is refused, not mangled
        twice = [k for k, v in raw.items() if len(v) > 1]
        if twice:
            raise UsageError(f"parameter {twice[0]!r} given twice")
        values = {k: v[0] for k, v in raw.items() if k not in reserved and v[0] != ""}
        offers = GRAPH_TYPES if query.form in ("CONSTRUCT", "DESCRIBE") else RESULT_TYPES
        fmt = request.param("format") if "format" in reserved and request.param("format") else None
        fmt = fmt or negotiate(request.headers.get("accept"), {"text/html": "html", **offers})
        ready = "run" in raw or all(p.default is not None or not p.required for p in query.params)
        if fmt != "html":
            check_query_safety(query.text, f"query {name!r}")
            return self._served(fmt, self.store.query, query.text, query.bind(values))
        result, error = None, None
        if ready:
            try:
                check_query_safety(query.text, f"query {name!r}")
                result = self.run(self.store.query, query.text, query.bind(values))
            except (Busy, QueryTimeout):
                raise
            except KgtoolError as exc:
                error = str(exc)
        return html(query_page(query, values, result, error, self.labels), 400 if error else 200)

    def entity(self, request: Request, iri: str) -> Response:
        from .queries import Param
        from .web import pages, views

        try:  # an absolute IRI, or a prefixed name like place:almaty
            iri = Param("iri", "iri").to_term(iri).value
        except UsageError:
            raise UsageError(f"{iri[:200]!r} is not an absolute http(s) IRI or a prefixed name") from None
        fmt = request.param("format") or negotiate(request.headers.get("accept"),
                                                   {"text/html": "html", **GRAPH_TYPES})
        if fmt != "html":
            graph = self.run(views.entity_graph, self.store, iri)
            if not graph.ntriples:  # as the HTML page does: an empty 200 would say "exists, no facts"
                return Response(404, f"nothing is known about {iri}\n".encode(), headers={"Vary": "Accept"})
            response = self._result(graph, fmt)
            response.headers["Vary"] = "Accept"
            return response
        view = self.run(views.entity_view, self.store, iri)
        if not view.exists:
            return html(pages.error_page(404, f"nothing is known about {iri}"), 404)
        return html(pages.entity_page(view, self.labels))

    def _served(self, fmt: str, fn: Callable, *args) -> Response:
        """The answer of :meth:`run` written as ``fmt``; the written bytes are kept in the result cache too,
        so a request asked again is not written again (writing 20,000 rows as JSON takes ~0.3 s at 1M)."""
        key = request_key(fn, args, self.config.max_rows)
        written_key = None if key is None else ("written", key, fmt)
        found, written = self.results.get(written_key)
        if not found:
            written = serialize_result(self.run(fn, *args), fmt)
            self.results.put(written_key, written, 0, memory=len(written[0]))
        return _written_response(written)

    def _result(self, result: QueryResult, fmt: str) -> Response:
        return _written_response(serialize_result(result, fmt))

    def host_allowed(self, host_header: str | None) -> bool:
        """When bound to loopback, only loopback Host names (a DNS-rebinding page cannot reach us), even
        when the loopback address was named with --host."""
        if self.config.allow_remote and not is_loopback(self.config.host):
            return True
        host = urllib.parse.urlsplit("//" + (host_header or "")).hostname or ""
        return host in LOOPBACK_NAMES or host == self.config.host


    def _let_go_of_retired(self) -> None:
        """Let the cache prune a snapshot no longer served, once the requests that may still read it are
        over (a query's time limit, and a minute to write its answer): else a server running for days of
        merges would keep every snapshot it ever served on disk."""
        import time

        from .closure import let_go

        grace = self.config.timeout + RETIRE_GRACE
        while self.retired and time.monotonic() - self.retired[0][0] > grace:
            let_go(self.retired.pop(0)[1])


def _build_apart(project: Project) -> None:
    """Build (or extend) the snapshot in a process of its own, never in the server's: the server forks a
    worker per query, and a process that has opened a RocksDB store for writing (a build, even one that
    then fails on a syntax error) keeps that library's background threads, whose locks a forked child may
    inherit held; the worker then hangs until its time limit (seen in CI, after a reload of data that did
    not load). A build that fails raises its message."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "kgtool", "--project", str(project.root), "cache", "build"],
                          stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                          check=False)
    if done.returncode:
        lines = [line for line in done.stderr.splitlines() if line.strip()] or [f"exit {done.returncode}"]
        raise KgtoolError(lines[0].removeprefix("kgtool: error: "))


class Refreshed(NamedTuple):
    served: bool  # False: the new data did not load, the old is still served
    message: str


def project_signature(project: Project) -> tuple:
    """The inputs and the queries by name, size, times and inode: any save changes it (a ctime no tool can
    set back), and taking it costs a few stat calls."""
    paths = [*project.source_files, *sorted(project.queries_dir.glob("*.rq"))]
    out = []
    for path in paths:
        try:
            st = path.stat()
        except OSError:
            continue
        out.append((str(path), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino))
    return tuple(out)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _written_response(written: tuple[bytes, str]) -> Response:
    body, content_type = written
    return Response(200, body, content_type, {"Vary": "Accept"})


def _status_of(exc: KgtoolError) -> tuple[int, dict[str, str]]:
    if isinstance(exc, UpdateRefused):
        return 405, {"Allow": "GET, HEAD, POST"}
    if isinstance(exc, NotAcceptable):
        return 406, {}
    if isinstance(exc, UnsupportedMediaType):
        return 415, {"Accept-Post": "application/sparql-query, application/x-www-form-urlencoded"}
    if isinstance(exc, Busy):
        return 503, {"Retry-After": "1"}
    if isinstance(exc, QueryTimeout):
        return 503, {}
    if isinstance(exc, ResultTooLarge):
        return 422, {}
    if isinstance(exc, WorkerDied):
        return 500, {}
    if isinstance(exc, NotFound) or (isinstance(exc, UsageError) and str(exc).startswith("no canned query")):
        return 404, {}
    return 400, {}


def _prefers_html(request: Request) -> bool:
    """A browser's request: ``format=html``, or an Accept header that names text/html with a q above 0
    (``text/html;q=0`` refuses it)."""
    from .protocol import accepted_quality

    fmt = request.param("format")
    if fmt is not None:
        return fmt == "html"
    accept = request.headers.get("accept", "")
    return "text/html" in accept.lower() and accepted_quality(accept, "text/html") > 0

