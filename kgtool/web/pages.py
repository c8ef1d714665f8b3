"""The HTML of the web UI: plain server-rendered pages, no JavaScript, everything escaped.

Every piece of text that comes from the data, the catalogue or the request goes through :func:`esc`
(``html.escape`` with quotes) or, inside URLs, through ``urllib.parse.quote``/``urlencode``. Links go only
to this server's own pages, or out to ``http(s)`` URLs given as ``xsd:anyURI`` values.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterable
from html import escape

from ..namespaces import INSTANCE_BASE, shorten
from ..queries import Param, Query
from ..terms import XSD, AskResult, GraphResult, QueryResult, SelectResult, Term
from .views import EntityView, TimelineItem

RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
NAV = (("/", "Queries"), ("/timeline", "Timeline"), ("/sparql", "SPARQL"))
TABLE_DOWNLOADS, GRAPH_DOWNLOADS = ("csv", "tsv", "json", "xml"), ("ttl", "nt", "jsonld")
EXAMPLE_QUERY = ("SELECT ?institute ?label WHERE {\n"
                 "  ?institute a kzcn:ConfuciusInstitute ; rdfs:label ?label .\n}")
PLACEHOLDERS = {"iri": "e.g. place:almaty", "date": "YYYY-MM-DD, YYYY-MM or YYYY", "year": "e.g. 2017",
                "integer": "a whole number", "string": "text"}


def esc(text: object) -> str:
    return escape(str(text), quote=True)


def page(title: str, body: str) -> str:
    nav = " ".join(f'<a href="{href}">{esc(name)}</a>' for href, name in NAV)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{esc(title)} · kgtool</title>\n<link rel=\"stylesheet\" href=\"/static/style.css\">\n"
        f"</head>\n<body>\n<header><a class=\"brand\" href=\"/\">Kazakhstan–China cultural relations</a>"
        f"<nav>{nav}</nav></header>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


def entity_href(iri: str) -> str:
    """This server's page for an IRI: ``/id/…`` for the project's own entities, else ``/entity?iri=…``."""
    if iri.startswith(INSTANCE_BASE):
        return "/id/" + urllib.parse.quote(iri[len(INSTANCE_BASE):], safe="/-_.~")
    return "/entity?" + urllib.parse.urlencode({"iri": iri})


def label_of(iri: str, labels: dict[str, str]) -> str:
    return labels.get(iri) or shorten(iri)


def term_html(term: Term | None, labels: dict[str, str]) -> str:
    if term is None:
        return ""
    if term.kind == "iri":
        if term.value.startswith(INSTANCE_BASE) or term.value in labels:
            return (f'<a href="{esc(entity_href(term.value))}" title="{esc(shorten(term.value))}">'
                    f"{esc(label_of(term.value, labels))}</a>")
        # a term of another vocabulary that the graph says nothing about (rdfs:label, rdf:type): its own
        # IRI, not a page of this server that would be a 404
        return (f'<a class="external" href="{esc(term.value)}" rel="nofollow noopener" '
                f'title="{esc(term.value)}">{esc(shorten(term.value))}</a>')
    if term.kind == "bnode":
        return f'<span class="muted">_:{esc(term.value)}</span>'
    if term.datatype == XSD + "anyURI" and term.value.startswith(("http://", "https://")):
        return f'<a class="external" href="{esc(term.value)}" rel="nofollow noopener">{esc(term.value)}</a>'
    if term.lang:  # lang: screen readers and fonts need it for Chinese, Russian and Kazakh text
        return f'<span lang="{esc(term.lang)}">{esc(term.value)}</span> <span class="lang">{esc(term.lang)}</span>'
    return esc(term.value)


def results_html(result: QueryResult, labels: dict[str, str]) -> str:
    if isinstance(result, AskResult):
        return f'<p class="answer">{"yes" if result.value else "no"}</p>'
    if isinstance(result, GraphResult):
        return _graph_table(result, labels)
    head = "".join(f"<th>{esc(v)}</th>" for v in result.variables)
    rows = "\n".join("<tr>" + "".join(f"<td>{term_html(t, labels)}</td>" for t in row) + "</tr>"
                     for row in result.rows)
    count = len(result.rows)
    return (f'<p class="count">{count} row{"s" if count != 1 else ""}</p>\n'
            f'<table class="results">\n<thead><tr>{head}</tr></thead>\n<tbody>\n{rows}\n</tbody>\n</table>')


def _graph_table(result: GraphResult, labels: dict[str, str]) -> str:
    from rdflib import Graph

    from ..store import from_rdflib

    graph = Graph().parse(data="\n".join(result.ntriples), format="nt")
    rows = sorted((from_rdflib(s), from_rdflib(p), from_rdflib(o)) for s, p, o in graph)
    table = SelectResult(["subject", "property", "value"], rows)
    return f'<p class="count">{len(rows)} triples</p>\n' + results_html(table, labels).split("\n", 1)[1]


def catalogue_page(queries: Iterable[Query]) -> str:
    items = []
    for q in queries:
        params = ", ".join(f"{p.name} ({p.type})" for p in q.params)
        tags = " ".join(f'<span class="tag">{esc(t)}</span>' for t in q.tags)
        items.append(
            f'<li><a class="query" href="/query/{esc(urllib.parse.quote(q.name))}">{esc(q.name)}</a> '
            f"{tags}<br>{esc(q.summary)}"
            + (f'<br><span class="muted">parameters: {esc(params)}</span>' if params else "") + "</li>")
    body = ("<h1>Canned queries</h1>\n<p>Each query answers one question about the graph; open one to set "
            "its parameters and run it. Machines can use the <a href=\"/sparql\">SPARQL endpoint</a>.</p>\n"
            f'<ul class="catalogue">\n{chr(10).join(items)}\n</ul>')
    return page("Queries", body)


def query_page(query: Query, values: dict[str, str], result: QueryResult | None, error: str | None,
               labels: dict[str, str]) -> str:
    fields = "\n".join(_param_field(p, values.get(p.name, "")) for p in query.params)
    form = (f'<form class="params" method="get" action="/query/{esc(urllib.parse.quote(query.name))}">\n'
            f'{fields}\n<input type="hidden" name="run" value="1">\n'
            '<button type="submit" id="run">Run</button>\n</form>')
    parts = [f"<h1>{esc(query.name)}</h1>", f'<p class="summary">{esc(query.summary)}</p>']
    if query.description:
        parts.append(f'<p class="description">{esc(query.description)}</p>')
    parts.append(form)
    if error:
        parts.append(f'<p class="error" role="alert">{esc(error)}</p>')
    if result is not None:
        given = {k: v for k, v in values.items() if v}
        downloads = " · ".join(
            f'<a href="/query/{esc(urllib.parse.quote(query.name))}?'
            f'{esc(urllib.parse.urlencode({**given, "format": f}))}">{f.upper()}</a>'
            for f in (GRAPH_DOWNLOADS if isinstance(result, GraphResult) else TABLE_DOWNLOADS))
        parts.append(f'<p class="downloads">Download: {downloads}</p>')
        parts.append(results_html(result, labels))
    parts.append(f'<details><summary>SPARQL</summary><pre>{esc(query.text)}</pre></details>')
    return page(query.name, "\n".join(parts))


def _param_field(param: Param, value: str) -> str:
    ident = f"param-{param.name}"
    required = " required" if param.required else ""
    label = (f'<label for="{esc(ident)}">{esc(param.name)} <span class="muted">({esc(param.type)}'
             f'{", required" if param.required else ""})</span></label>')
    if param.enum:
        options = "".join(f'<option value="{esc(e)}"{" selected" if e == value else ""}>{esc(e)}</option>'
                          for e in ("", *param.enum))
        control = f'<select id="{esc(ident)}" name="{esc(param.name)}"{required}>{options}</select>'
    else:
        control = (f'<input id="{esc(ident)}" name="{esc(param.name)}" value="{esc(value)}" '
                   f'placeholder="{esc(PLACEHOLDERS.get(param.type, ""))}"{required}>')
    hint = f'<span class="hint">{esc(param.description)}</span>' if param.description else ""
    return f'<div class="field">{label}{control}{hint}</div>'


def sparql_page(text: str, result: QueryResult | None, error: str | None, labels: dict[str, str]) -> str:
    example = text or EXAMPLE_QUERY
    parts = ["<h1>SPARQL</h1>",
             "<p>Read-only SPARQL 1.1 endpoint over the bundled data with OWL RL inferences. The project's "
             "prefixes (kzcn:, place:, organization: …) are predeclared here; SERVICE, FROM and updates are "
             "refused.</p>",
             '<form method="get" action="/sparql"><label for="query">Query</label><br>'
             f'<textarea id="query" name="query" rows="10" cols="90">{esc(example)}'
             '</textarea><input type="hidden" name="format" value="html"><br>'
             '<button type="submit" id="run">Run</button></form>']
    if error:
        parts.append(f'<p class="error" role="alert">{esc(error)}</p>')
    if result is not None:
        parts.append(results_html(result, labels))
    return page("SPARQL", "\n".join(parts))


def entity_page(view: EntityView, labels: dict[str, str]) -> str:
    title = label_of(view.iri, labels)
    types = [o for p, o in view.facts if p.value == RDF_TYPE and o.kind == "iri"]
    parts = [f"<h1>{esc(title)}</h1>", f'<p class="iri"><code>{esc(view.iri)}</code> · '
             f'<a href="{esc(_turtle_href(view.iri))}">Turtle</a></p>']
    if types:
        parts.append('<p class="types">' + ", ".join(term_html(t, labels) for t in _specific(types)) + "</p>")
    own = [(p, o) for p, o in view.facts if p.value != RDF_TYPE and _own_property(p.value)]
    aligned = [(p, o) for p, o in view.facts if p.value != RDF_TYPE and not _own_property(p.value)]
    parts.append(f'<h2 id="facts">Facts</h2>\n{_facts_table(own, labels)}')
    if aligned:
        parts.append("<details><summary>The same facts in standard vocabularies (schema.org, PROV-O, "
                     f"Dublin Core …)</summary>\n{_facts_table(aligned, labels)}</details>")
    parts.append('<h2 id="sources">Sources</h2>')
    if view.sources:
        parts.append('<ul class="sources">' + "".join(_source_li(s, labels) for s in view.sources) + "</ul>")
    else:
        parts.append('<p class="muted">No source is given for this entity itself.</p>')
    if view.mentioned_in and not view.sources:
        parts.append('<p class="mentioned">Facts that mention it are stated in: '
                     + ", ".join(term_html(a, labels) for a in view.mentioned_in) + "</p>")
    inbound = "\n".join(f"<tr><td>{term_html(s, labels)}</td><td>{term_html(p, labels)}</td></tr>"
                        for s, p in view.inbound)
    more = (f'<p class="muted">showing {len(view.inbound)} of {view.inbound_total}</p>'
            if view.inbound_total > len(view.inbound) else "")
    parts.append(f'<h2 id="inbound">What links here</h2>\n{more}<table class="inbound">\n{inbound}\n</table>')
    return page(title, "\n".join(parts))


def _own_property(iri: str) -> bool:
    """The project's vocabulary and the properties data/ itself uses (labels, definitions, concept schemes,
    an article's full title); the rest are inferred alignments."""
    return shorten(iri).startswith(("kzcn:", "rdfs:", "skos:altLabel", "skos:prefLabel", "skos:definition",
                                    "skos:inScheme", "dcterms:title"))


def _facts_table(facts: list[tuple[Term, Term]], labels: dict[str, str]) -> str:
    rows = "\n".join(f"<tr><th>{term_html(p, labels)}</th><td>{term_html(o, labels)}</td></tr>"
                     for p, o in facts)
    return f'<table class="facts">\n{rows}\n</table>'


def _specific(types: list[Term]) -> list[Term]:
    """The project's own classes when there are any (owl:Thing and friends say little)."""
    own = [t for t in types if shorten(t.value).startswith("kzcn:")]
    return own or types


def _turtle_href(iri: str) -> str:
    href = entity_href(iri)
    return href + ("&" if "?" in href else "?") + "format=ttl"


def _source_li(source, labels: dict[str, str]) -> str:
    bits = [term_html(source.article, labels)] if source.article else []
    if source.reference is not None:
        bits.append("reference: " + term_html(source.reference, labels))
    if source.citation:
        bits.append(f'<span class="citation">{esc(source.citation)}</span>')
    if source.url:
        bits.append(term_html(Term.literal(source.url, XSD + "anyURI"), labels))
    return "<li>" + " — ".join(bits) + "</li>"


def timeline_page(items: list[TimelineItem], labels: dict[str, str]) -> str:
    parts = ["<h1>Timeline</h1>", f"<p>{len(items)} dated agreements and events, oldest first. Those the "
             "sources give no date for are not shown (the undated-facts query lists them).</p>"]
    year = None
    for item in items:
        if item.year != year:
            if year is not None:
                parts.append("</ul>")
            year = item.year
            parts.append(f'<h2 class="year">{esc(year)}</h2>\n<ul class="timeline">')
        when = item.date + (f" – {item.end}" if item.end else "")
        sources = ", ".join(label_of(a, labels).split(":")[0] for a in item.articles)
        parts.append(f'<li><span class="date">{esc(when)}</span> <span class="kind {esc(item.kind)}">'
                     f"{esc(item.kind)}</span> <span>{term_html(Term.iri(item.iri), labels)}"
                     + (f' <span class="muted">({esc(sources)})</span>' if sources else "") + "</span></li>")
    if year is not None:
        parts.append("</ul>")
    return page("Timeline", "\n".join(parts))


def error_page(status: int, message: str) -> str:
    body = f'<h1>Error {status}</h1>\n<p class="error" role="alert">{esc(message)}</p>'
    return page(f"Error {status}", body)
