"""What the web pages show, gathered by SPARQL through the store interface (any engine).

Each function takes a store and returns plain data; the server runs them in a query worker
(:func:`kgtool.limits.run_limited`), so they are under the same time limit as any query. The entity's
IRI is always a bound parameter (``?this``), never pasted into the query text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..namespaces import sparql_prologue
from ..store import Store
from ..terms import GraphResult, SelectResult, Term

INBOUND_LIMIT = 500

_FACTS = "SELECT ?p ?o WHERE { ?this ?p ?o }"
_INBOUND = f"SELECT ?s ?p WHERE {{ ?s ?p ?this }} ORDER BY ?p ?s LIMIT {INBOUND_LIMIT}"
_INBOUND_COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?this }"
_SOURCES = """
SELECT DISTINCT ?article ?reference ?citation ?url WHERE {
  { ?this kzcn:statedIn ?article }
  UNION
  { ?this kzcn:citesReference ?reference .
    OPTIONAL { ?reference kzcn:inArticle ?article }
    OPTIONAL { ?reference kzcn:citation ?citation }
    OPTIONAL { ?reference kzcn:url ?url } }
}"""
_MENTIONED = """
SELECT DISTINCT ?article WHERE { ?fact ?p ?this . ?fact kzcn:statedIn ?article }"""
_DESCRIPTION = "CONSTRUCT { ?this ?p ?o . ?s ?q ?this } WHERE { { ?this ?p ?o } UNION { ?s ?q ?this } }"
_LABELS = "SELECT ?s ?label WHERE { ?s rdfs:label ?label }"
#: A position has no label (MODELLING.md): its holder and title name it.
_POSITIONS = """
SELECT ?s ?title ?holder WHERE {
  ?s kzcn:roleTitle ?title FILTER(langMatches(lang(?title), "en"))
  OPTIONAL { ?person kzcn:holdsPosition ?s ; rdfs:label ?holder FILTER(langMatches(lang(?holder), "en")) }
}"""
_TIMELINE = """
SELECT ?item ?kind ?date ?end ?article WHERE {
  { ?item a/rdfs:subClassOf* kzcn:Agreement BIND("agreement" AS ?kind) }
  UNION
  { ?item a/rdfs:subClassOf* kzcn:CulturalEvent BIND("event" AS ?kind) }
  OPTIONAL { ?item kzcn:date ?on }
  OPTIONAL { ?item kzcn:startDate ?start }
  OPTIONAL { ?item kzcn:endDate ?end }
  BIND(COALESCE(?on, ?start) AS ?date)
  FILTER(BOUND(?date))
  OPTIONAL { ?item kzcn:statedIn ?article }
}"""


@dataclass
class SourceLine:
    article: Term | None
    reference: Term | None = None
    citation: str | None = None
    url: str | None = None


@dataclass
class EntityView:
    iri: str
    facts: list[tuple[Term, Term]]  # (property, value)
    inbound: list[tuple[Term, Term]]  # (subject, property)
    inbound_total: int
    sources: list[SourceLine]
    mentioned_in: list[Term]

    @property
    def exists(self) -> bool:
        return bool(self.facts or self.inbound)


@dataclass
class TimelineItem:
    iri: str
    kind: str  # "agreement" | "event"
    date: str
    end: str | None
    articles: list[str] = field(default_factory=list)

    @property
    def year(self) -> str:
        return self.date[:4]


def _select(store: Store, text: str, iri: str | None = None) -> SelectResult:
    bindings = {"this": Term.iri(iri)} if iri is not None else None
    result = store.query(sparql_prologue() + text, bindings)
    assert isinstance(result, SelectResult)
    return result


def entity_view(store: Store, iri: str) -> EntityView:
    facts = [(p, o) for p, o in _select(store, _FACTS, iri).rows if p is not None and o is not None]
    facts.sort(key=lambda f: (f[0].value, f[1].kind, f[1].value))
    inbound = [(s, p) for s, p in _select(store, _INBOUND, iri).rows if s is not None and p is not None]
    count = _select(store, _INBOUND_COUNT, iri).rows
    total = int(count[0][0].value) if count and count[0][0] is not None else len(inbound)
    sources = [SourceLine(article, reference, _text(citation), _text(url))
               for article, reference, citation, url in _select(store, _SOURCES, iri).rows]
    cited = {_text(s.article) for s in sources if s.reference is not None}
    sources = [s for s in sources if s.reference is not None or _text(s.article) not in cited]
    sources.sort(key=lambda s: (_text(s.article) or "", _text(s.reference) or ""))
    mentioned = sorted({a for (a,) in _select(store, _MENTIONED, iri).rows if a is not None})
    return EntityView(iri, facts, inbound, total, sources, mentioned)


def entity_graph(store: Store, iri: str) -> GraphResult:
    """The triples about ``iri`` and those pointing at it (what a linked-data client gets)."""
    result = store.query(_DESCRIPTION, {"this": Term.iri(iri)})
    assert isinstance(result, GraphResult)
    return result


def label_index(store: Store) -> dict[str, str]:
    """One display label per IRI: English first, then no language tag, then any; a position, which has
    none, by its holder and title."""
    rank: dict[str, tuple[int, str]] = {}
    for subject, label in _select(store, _LABELS).rows:
        if subject is None or label is None or subject.kind != "iri":
            continue
        score = 0 if (label.lang or "").startswith("en") else 1 if not label.lang else 2
        best = rank.get(subject.value)
        if best is None or (score, label.value) < best:
            rank[subject.value] = (score, label.value)
    labels = {iri: label for iri, (_score, label) in rank.items()}
    for subject, title, holder in _select(store, _POSITIONS).rows:
        if subject is not None and subject.kind == "iri" and subject.value not in labels:
            labels[subject.value] = f"{holder.value}, {title.value}" if holder is not None else title.value
    return labels


def timeline(store: Store) -> list[TimelineItem]:
    """Dated agreements and events, oldest first (dates of any precision: year, month or day)."""
    items: dict[str, TimelineItem] = {}
    for item, kind, date, end, article in _select(store, _TIMELINE).rows:
        if item is None or kind is None or date is None:
            continue
        entry = items.setdefault(item.value, TimelineItem(item.value, kind.value, date.value,
                                                          end.value if end else None))
        if article is not None and article.value not in entry.articles:
            entry.articles.append(article.value)
    return sorted(items.values(), key=lambda i: (i.date, i.iri))


def _text(term: Term | None) -> str | None:
    return term.value if term is not None else None
