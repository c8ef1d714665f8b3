"""The SPARQL 1.1 Protocol, server side: reading a request, choosing a format, writing the answer.

Pure functions over strings and bytes (no sockets), so :mod:`kgtool.server` stays plumbing and this part
is easy to test. Result formats: SPARQL JSON, SPARQL XML, CSV (as SPARQL 1.1 CSV, except that a cell a
spreadsheet would run as a formula gets a leading apostrophe, as in the CLI: this endpoint also serves
people's downloads; plain numbers are left as they are), TSV; graphs as Turtle, N-Triples or JSON-LD.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass

from .errors import UsageError
from .render import ask_table, render, render_graph, results_xml
from .terms import AskResult, GraphResult, QueryResult

#: Media types the endpoint writes, in order of preference, with the format name used inside kgtool.
RESULT_TYPES = {
    "application/sparql-results+json": "json",
    "application/sparql-results+xml": "xml",
    "text/csv": "csv",
    "text/tab-separated-values": "tsv",
    "application/json": "json",
    "application/xml": "xml",
    "text/html": "html",
}
GRAPH_TYPES = {
    "text/turtle": "ttl",
    "application/n-triples": "nt",
    "application/ld+json": "jsonld",
    "application/rdf+xml": "rdfxml",
    "text/plain": "nt",
    "text/html": "html",
}
#: ``format=`` values a link or a form may use instead of an Accept header (``xml`` is SPARQL's results
#: format; a graph in RDF/XML is ``rdfxml``).
FORMAT_NAMES = {"json", "xml", "csv", "tsv", "html", "ttl", "nt", "jsonld", "rdfxml"}
CONTENT_TYPES = {
    "json": "application/sparql-results+json", "xml": "application/sparql-results+xml",
    "csv": "text/csv; charset=utf-8", "tsv": "text/tab-separated-values; charset=utf-8",
    "ttl": "text/turtle; charset=utf-8", "nt": "application/n-triples", "jsonld": "application/ld+json",
    "rdfxml": "application/rdf+xml",
    "html": "text/html; charset=utf-8",
}
FORM_TYPE = "application/x-www-form-urlencoded"
QUERY_TYPE = "application/sparql-query"
UPDATE_TYPE = "application/sparql-update"


class NotAcceptable(UsageError):
    """The client accepts none of the formats this answer can take (HTTP 406)."""


class UnsupportedMediaType(UsageError):
    """A POST body of a type the protocol does not define for queries (HTTP 415)."""


class UpdateRefused(UsageError):
    """A SPARQL update arrived at the read-only endpoint (HTTP 405)."""


@dataclass
class ProtocolRequest:
    query: str | None
    format: str | None  # an explicit format= parameter, else None (negotiate)


def parse_request(method: str, query_string: str, content_type: str, body: bytes) -> ProtocolRequest:
    """The query of a GET (``query=``) or POST (form or ``application/sparql-query``) request.

    Updates are refused (:class:`UpdateRefused`); ``default-graph-uri``/``named-graph-uri`` are refused
    like ``FROM``: this endpoint serves one graph.
    """
    params = parse_form(query_string)
    media = content_type.split(";")[0].strip().lower()
    if method == "POST":
        if media == UPDATE_TYPE:
            raise UpdateRefused("SPARQL updates are not accepted: this endpoint is read-only")
        # added to the URL's parameters, never in their place: a query in both is ambiguous, refused below
        if media == FORM_TYPE:
            for name, values in parse_form(_text(body)).items():
                params.setdefault(name, []).extend(values)
        elif media == QUERY_TYPE:
            params.setdefault("query", []).append(_text(body))
        elif body:
            raise UnsupportedMediaType(f"unsupported Content-Type {content_type or '(none)'!r}",
                             hint=f"send {QUERY_TYPE} or {FORM_TYPE}")
    if "update" in params:
        raise UpdateRefused("SPARQL updates are not accepted: this endpoint is read-only")
    for name in ("default-graph-uri", "named-graph-uri", "using-graph-uri", "using-named-graph-uri"):
        if name in params:
            raise UsageError(f"{name} refused: this endpoint serves one graph (the bundled data)")
    queries = params.get("query", [])
    if len(queries) > 1:
        raise UsageError("more than one query: query= given twice, or in both the URL and the body")
    if len(params.get("format", [])) > 1:
        raise UsageError("more than one format= parameter")
    fmt = (params.get("format") or [None])[0]
    if fmt is not None and fmt not in FORMAT_NAMES:
        raise UsageError(f"unknown format {fmt!r}", hint=f"use one of {', '.join(sorted(FORMAT_NAMES))}")
    return ProtocolRequest(queries[0] if queries else None, fmt)


def parse_form(text: str) -> dict[str, list[str]]:
    """URL-encoded parameters, refused (UsageError) when malformed or not UTF-8 once decoded."""
    try:
        # errors="strict": a percent-encoded byte that is not UTF-8 is refused, not turned into U+FFFD
        return urllib.parse.parse_qs(text, keep_blank_values=True, strict_parsing=False, max_num_fields=200,
                                     errors="strict")
    except UnicodeDecodeError:
        raise UsageError("a parameter is not UTF-8 once its %-escapes are decoded") from None
    except ValueError as exc:
        raise UsageError(f"malformed form data: {exc}") from None


def _text(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"the request body is not UTF-8 (byte {exc.start})") from None


def negotiate(accept: str | None, offers: dict[str, str]) -> str:
    """The format (value of ``offers``) for the best media type the Accept header allows.

    Highest q wins; on a tie, the server's order. No header, or ``*/*``, gives the first offer.
    """
    if not accept or not accept.strip():
        return next(iter(offers.values()))
    ranges = _ranges(accept)
    best, best_key = None, None
    for order, (media, fmt) in enumerate(offers.items()):
        q = _quality(media, ranges)
        if q > 0 and (best_key is None or (q, -order) > best_key):
            best, best_key = fmt, (q, -order)
    if best is None:
        raise NotAcceptable(f"none of the accepted types ({accept[:200]}) can be produced",
                            hint=f"ask for one of: {', '.join(offers)}")
    return best


def accepted_quality(accept: str, media: str) -> float:
    """How much the Accept header wants ``media`` (0: not at all)."""
    return _quality(media, _ranges(accept))


def _ranges(accept: str) -> list[tuple[str, float, int]]:
    """(media range, q, position) of an Accept header; a malformed q counts as 1, the default, as if it
    were absent (it was 0, which refused a type the client asked for)."""
    ranges = []
    for index, item in enumerate(accept.split(",")[:50]):
        parts = [p.strip() for p in item.split(";")]
        media = parts[0].lower()
        q = 1.0
        for param in parts[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    number = float(value)
                except ValueError:
                    continue
                q = max(0.0, min(1.0, number)) if number == number else 1.0  # NaN: as if absent
        ranges.append((media, q, index))
    return ranges


def _quality(media: str, ranges: list[tuple[str, float, int]]) -> float:
    """The q of the most specific range matching ``media`` (exact, then type/*, then */*)."""
    kind = media.split("/")[0]
    for pattern in (media, f"{kind}/*", "*/*"):
        matches = [q for m, q, _ in ranges if m == pattern]
        if matches:
            return max(matches)
    return 0.0


def serialize_result(result: QueryResult, fmt: str) -> tuple[bytes, str]:
    """Bytes and Content-Type for a result in a protocol format (not ``html``)."""
    if isinstance(result, GraphResult):
        if fmt not in ("ttl", "nt", "jsonld", "rdfxml"):
            raise NotAcceptable(f"a graph result cannot be written as {fmt}", hint="ask for text/turtle")
        return render_graph(result, "xml" if fmt == "rdfxml" else fmt).encode("utf-8"), CONTENT_TYPES[fmt]
    if fmt not in ("json", "xml", "csv", "tsv"):
        raise NotAcceptable(f"a {'boolean' if isinstance(result, AskResult) else 'table'} result cannot be "
                            f"written as {fmt}", hint="ask for application/sparql-results+json")
    if fmt == "xml":
        text = results_xml(result)
    elif isinstance(result, AskResult) and fmt in ("csv", "tsv"):
        text = ask_table(result)
    elif isinstance(result, AskResult):
        text = '{"head": {}, "boolean": ' + ("true" if result.value else "false") + "}\n"
    else:
        text = render(result, fmt)
    return text.encode("utf-8"), CONTENT_TYPES[fmt]
