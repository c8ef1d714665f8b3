"""A SPARQL 1.1 Protocol and Graph Store Protocol client: canned queries on any endpoint, and ``push``.

The network is used only here, and only for the URL the user gives with ``--endpoint``; only ``http``
and ``https`` URLs are accepted (urllib would also open ``file:`` and ``ftp:``).

**How parameters are bound.** A remote endpoint takes query *text*, so the typed RDF terms of the
parameters (checked by :mod:`kgtool.queries`) are written as one-row ``VALUES`` blocks by
:func:`kgtool.binding.bind_parameters`, exactly as for the local Oxigraph engine: at the start of the
``WHERE`` clause and of every group in the parameter's scope that names it::

    SELECT ?e WHERE { VALUES (?year) { (2017) } ?e kzcn:date ?d ... }

Each term is serialised by :func:`~kgtool.binding.sparql_term` (IRIs checked for characters that could
close the ``<…>``, literals escaped), so a value can never become query syntax, and the bound query is
parsed again before it is sent. The same canned query gives the same rows here, on the local engines and
on a remote endpoint (tests/test_remote.py runs the catalogue on an Oxigraph server).
"""

from __future__ import annotations

import base64
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from .binding import IRI_UNSAFE, bind_parameters
from .errors import InputError, QueryError, UsageError
from .project import Project
from .queries import Query
from .terms import AskResult, GraphResult, QueryResult, SelectResult, Term

USER_AGENT = "kgtool (SPARQL 1.1 Protocol client)"
RESULTS_JSON = "application/sparql-results+json"


def check_endpoint(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.username is not None or parts.password is not None:  # never echoed: the URL holds a password
        raise UsageError("the endpoint URL holds credentials (user:password@), which would show in process "
                         "lists and logs", hint="give them as KGTOOL_ENDPOINT_AUTH=user:password instead")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"endpoint {url!r} is not an http(s) URL", hint="e.g. http://localhost:7878/query")
    return url


# ------------------------------------------------------------------------------------------- queries
def run_remote(project: Project, name: str, values: dict[str, str],
               endpoint: str) -> tuple[Query, QueryResult]:
    """Run the canned query NAME on a SPARQL 1.1 endpoint, parameters bound as in the module docstring."""
    from .run import load_catalogue
    from .safety import check_query_safety

    check_endpoint(endpoint)
    query = load_catalogue(project).get(name)
    bindings = query.bind(values)
    check_query_safety(query.text, f"query {name!r}")
    text = bind_values(query.text, bindings)
    return query, query_endpoint(endpoint, text, query.form)


def bind_values(text: str, bindings: dict[str, Term]) -> str:
    """The query with its parameters bound as ``VALUES`` rows (module docstring), checked to parse."""
    if not bindings:
        return text
    bound = bind_parameters(text, bindings)
    from rdflib.plugins.sparql.parser import parseQuery

    try:
        parseQuery(bound)
    except Exception as exc:  # pyparsing raises its own types
        raise QueryError(f"binding parameters made an invalid query: {' '.join(str(exc).split())[:200]}",
                         hint="this is a bug in kgtool; please report it") from None
    return bound


def query_endpoint(endpoint: str, text: str, form: str = "SELECT",
                   timeout: float | None = None) -> QueryResult:
    """POST the query (form-encoded, as every SPARQL 1.1 server accepts) and parse the answer."""
    graph = form in ("CONSTRUCT", "DESCRIBE")
    accept = "application/n-triples, text/turtle;q=0.9" if graph else RESULTS_JSON
    body = urllib.parse.urlencode({"query": text}).encode("utf-8")
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": accept}
    payload, content_type, _status = _send("POST", endpoint, body, headers, timeout)
    if graph:
        return _graph_result(payload, content_type)
    return parse_results_json(payload)


def parse_results_json(payload: bytes) -> SelectResult | AskResult:
    try:
        doc = json.loads(payload)
        if "boolean" in doc:
            return AskResult(bool(doc["boolean"]))
        variables = list(doc["head"]["vars"])
        rows = [tuple(_term(b.get(v)) for v in variables) for b in doc["results"]["bindings"]]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise QueryError(f"the endpoint's answer is not SPARQL JSON results ({exc})") from None
    return SelectResult(variables, rows)


def _term(binding: dict | None) -> Term | None:
    if binding is None:
        return None
    kind, value = binding["type"], binding["value"]
    if kind == "uri":
        return Term.iri(value)
    if kind == "bnode":
        return Term("bnode", value)
    if kind in ("literal", "typed-literal"):  # typed-literal: SPARQL 1.0 style, still sent by Virtuoso
        return Term.literal(value, binding.get("datatype"), binding.get("xml:lang"))
    raise ValueError(f"unknown term type {kind!r}")


def _graph_result(payload: bytes, content_type: str) -> GraphResult:
    """The endpoint's graph as N-Triples lines, read by pyoxigraph, which keeps every literal as sent
    (rdflib's parser normalises ``"01"^^xsd:integer`` and turns ``"INF"^^xsd:double`` into ``"inf"``)."""
    import pyoxigraph as ox

    is_ntriples = "n-triples" in content_type or "text/plain" in content_type
    fmt, name = (ox.RdfFormat.N_TRIPLES, "nt") if is_ntriples else (ox.RdfFormat.TURTLE, "turtle")
    try:
        return GraphResult(sorted({f"{t} ." for t in ox.parse(payload, format=fmt)}))
    except (SyntaxError, ValueError) as exc:
        raise QueryError(f"the endpoint's graph answer cannot be parsed as {name}: {str(exc)[:200]}") from None


# ---------------------------------------------------------------------------------------------- push
@dataclass
class PushReport:
    endpoint: str
    graph: str | None
    triples: int
    status: int
    method: str

    def summary(self) -> str:
        target = f"graph <{self.graph}>" if self.graph else "the default graph"
        verb = "replaced" if self.method == "PUT" else "added to"
        return f"pushed {self.triples} triples: {verb} {target} at {self.endpoint} (HTTP {self.status})\n"


def push_project(project: Project, endpoint: str, graph: str | None = None, inference: bool = True,
                 fmt: str = "ttl", append: bool = False, timeout: float | None = 60.0) -> PushReport:
    """Upload ontology + data (+ inferences) with the Graph Store Protocol: PUT replaces, POST appends."""
    from .export import serialize
    from .graphs import load_graphs, serialize_ntriples_sorted

    check_endpoint(endpoint)
    if graph is not None and (not _ABSOLUTE_IRI.match(graph) or IRI_UNSAFE.search(graph)):
        raise UsageError(f"graph name {graph!r} is not an absolute IRI",
                         hint="a scheme and the rest, e.g. https://example.org/graph/kzcn or urn:x-kzcn:data")
    union = load_graphs(project, inference=inference).union()
    if fmt == "nt":
        body, content_type = serialize_ntriples_sorted(union), "application/n-triples"
    else:
        body, content_type = serialize(union, "ttl"), "text/turtle"
    target = endpoint + ("&" if "?" in endpoint else "?")
    target += urllib.parse.urlencode({"graph": graph}) if graph else "default"
    method = "POST" if append else "PUT"
    headers = {"Content-Type": f"{content_type}; charset=utf-8"}
    _payload, _type, status = _send(method, target, body.encode("utf-8"), headers, timeout, writes=True)
    return PushReport(endpoint, graph, len(union), status, method)


# ------------------------------------------------------------------------------------------ transport
_ABSOLUTE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$")  # RFC 3987: a scheme, a colon, the rest
def _send(method: str, url: str, body: bytes | None, headers: dict[str, str],
          timeout: float | None, writes: bool = False) -> tuple[bytes, str, int]:
    request = urllib.request.Request(url, data=body, method=method,
                                     headers={"User-Agent": USER_AGENT, **headers, **_auth_header()})
    opener = urllib.request.build_opener(*_handlers(url))
    try:
        with opener.open(request, timeout=timeout or None) as response:
            return response.read(), response.headers.get("Content-Type", ""), response.status
    except urllib.error.HTTPError as exc:
        detail = " ".join(exc.read(2000).decode("utf-8", "replace").split())[:300]
        raise QueryError(f"{url}: HTTP {exc.code} {exc.reason}" + (f": {detail}" if detail else "")) from None
    except TimeoutError:  # not wrapped in URLError: the request went out, the answer did not come
        raise QueryError(f"{url}: no answer within {timeout:g} s after the request was sent"
                         + ("; the store may or may not hold the upload now" if writes else ""),
                         hint="raise --timeout" + (", and check the store before pushing again" if writes else ""),
                         ) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise InputError(f"{url}: cannot reach the endpoint ({reason})",
                         hint="is the server running, and is the URL right?") from None


def _handlers(url: str) -> list[urllib.request.BaseHandler]:
    """Loopback endpoints bypass any configured HTTP proxy; other hosts follow the environment."""
    host = urllib.parse.urlsplit(url).hostname or ""
    if host in ("localhost", "::1") or host.startswith("127."):
        return [urllib.request.ProxyHandler({})]
    return []


def _auth_header() -> dict[str, str]:
    """HTTP Basic credentials from $KGTOOL_ENDPOINT_AUTH ("user:password"), never from the command line."""
    import os

    credentials = os.environ.get("KGTOOL_ENDPOINT_AUTH")
    if not credentials:
        return {}
    if ":" not in credentials:
        raise UsageError("KGTOOL_ENDPOINT_AUTH must be user:password (HTTP Basic)")
    return {"Authorization": "Basic " + base64.b64encode(credentials.encode("utf-8")).decode("ascii")}
