"""The reference checks of a contribution in context: links to entities that exist nowhere (with "did
you mean" among the entities that do), entities with no class, and likely duplicates: a new name that
matches another entity's label or alternative label, compared without case, accents or punctuation.

Each asks the project's snapshot (:class:`kgtool.context.Existing`) about the entities the contribution
names only. Names are looked up in the gate's index of the snapshot (:mod:`kgtool.gate_index`), which holds
every entity's labels by their normal form (:func:`normalize_label`): a contribution's hundred names are a
hundred index lookups, not a pass over every label of the graph.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict

from rdflib import RDF, RDFS, Graph, Literal, URIRef
from rdflib.namespace import SKOS
from rdflib.term import Node

from .context import Existing, is_entity
from .namespaces import INSTANCE_BASE, ONTOLOGY, PREFIXES, shorten
from .report import Finding
from .strict_turtle import Contribution
from .validate import label_of
from .vocabulary import suggestions

LABEL_PREDICATES = (RDFS.label, SKOS.altLabel, SKOS.prefLabel)


def reference_findings(
    existing: Existing, contribution: Contribution, inferred: Graph, typed_elsewhere: set[str]
) -> list[Finding]:
    """Links to entities that exist nowhere, and entities with no class."""
    return _dangling_links(existing, contribution) + _classless(
        existing, contribution, inferred, typed_elsewhere
    )


def _dangling_links(existing: Existing, contribution: Contribution) -> list[Finding]:
    graph = contribution.graph
    described = {s for s in graph.subjects() if is_entity(s)}
    elsewhere: dict[Node, bool] = {}
    dangling: list[tuple[Node, Node, Node]] = []
    reported: set[Node] = set()
    for s, p, o in sorted(graph, key=lambda t: (contribution.origin.get(t, ("", 0)), [x.n3() for x in t])):
        if p == RDF.type or not is_entity(o) or o in described or o in reported:
            continue
        if o not in elsewhere:
            elsewhere[o] = existing.described(o)
        if not elsewhere[o]:
            reported.add(o)
            dangling.append((s, p, o))
    close = {o: _close_entities(existing, o) for _s, _p, o in dangling}
    existing.prefetch({_expand(c) for names in close.values() for c in names})
    findings: list[Finding] = []
    for s, p, o in dangling:
        file, line = contribution.where(s, p, o)
        message = (
            f"links to {shorten(str(o))}, which exists nowhere: not in data/ and not in this "
            f"contribution{_did_you_mean(existing, close[o])}"
        )
        findings.append(
            Finding(
                "Violation",
                message,
                focus=str(s),
                path=str(p),
                value=o.n3(),
                stage="reference",
                file=file,
                line=line,
            )
        )
    return findings


def _classless(
    existing: Existing, contribution: Contribution, inferred: Graph, typed_elsewhere: set[str]
) -> list[Finding]:
    """Entities the contribution describes that have no asserted class, here or in data/ (a class only
    inferred from the properties is not enough: say what it is)."""
    graph = contribution.graph
    findings = []
    for s in sorted({s for s in graph.subjects() if is_entity(s)}):
        if (
            (s, RDF.type, None) in graph
            or (s, RDF.type, None) in existing.asserted
            or str(s) in typed_elsewhere
        ):
            continue
        file, line = contribution.where(s)
        message = "has no class: say what it is, e.g. `a kzcn:Concert`" + _inferred_classes(
            existing, inferred, s
        )
        findings.append(
            Finding(
                "Violation",
                message,
                focus=str(s),
                path=str(RDF.type),
                stage="reference",
                file=file,
                line=line,
            )
        )
    return findings


def _close_entities(existing: Existing, iri: URIRef) -> list[str]:
    kind = str(iri)[len(INSTANCE_BASE) :].split("/", 1)[0]
    return suggestions(iri, existing.entities_from(f"{INSTANCE_BASE}{kind}/") or existing.entities)


def _did_you_mean(existing: Existing, close: list[str]) -> str:
    named = [f"{c} ({label})" if (label := label_of(existing.asserted, _expand(c))) else c for c in close]
    return f"; did you mean {' or '.join(named)}?" if named else ""


def _expand(short: str) -> URIRef:
    prefix, _, local = short.partition(":")
    return URIRef(PREFIXES[prefix] + local) if prefix in PREFIXES else URIRef(short.strip("<>"))


def _inferred_classes(existing: Existing, inferred: Graph, node: Node) -> str:
    classes = sorted(
        shorten(str(c))
        for source in (inferred, existing.inferred)
        for c in source.objects(node, RDF.type)
        if str(c).startswith(ONTOLOGY)
    )
    return f" (from its properties it is at least a {', '.join(classes)})" if classes else ""


_NOT_ALNUM = re.compile(r"[\W_]+")  # \w is str.isalnum() or "_"


def normalize_label(text: str) -> str:
    """Case-, accent- and punctuation-insensitive form of a name, for duplicate detection: NFKD without
    combining marks, case-folded, every run of characters that are not letters or digits one space."""
    if text.isascii():  # the same result, ten times faster: NFKD and casefold change no ASCII but case
        plain = text.lower()
    else:
        decomposed = unicodedata.normalize("NFKD", text)
        plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return " ".join(_NOT_ALNUM.sub(" ", plain).split())


def duplicate_findings(existing: Existing, contribution: Contribution) -> list[Finding]:
    """Entities whose new label or alternative label matches another entity's name: likely the same thing."""
    graph = contribution.graph
    index: dict[str, set[Node]] = defaultdict(set)
    for predicate in LABEL_PREDICATES:
        for s, label in graph.subject_objects(predicate):
            if is_entity(s) and isinstance(label, Literal):
                index[normalize_label(str(label))].add(s)
    names = [
        (s, p, label)
        for s, p, label in sorted(graph, key=lambda t: contribution.origin.get(t, ("", 0)))
        if p in LABEL_PREDICATES and isinstance(label, Literal) and (s, p, label) not in existing.asserted
    ]
    if names:
        for name, entities in existing.same_names({normalize_label(str(n[2])) for n in names}).items():
            index[name] |= entities
        existing.prefetch({e for entities in index.values() for e in entities})
    findings, reported = [], set()
    for s, p, label in names:
        for other in sorted(index.get(normalize_label(str(label)), set()) - {s}):
            if frozenset((s, other)) in reported:
                continue
            reported.add(frozenset((s, other)))
            name = label_of(existing.asserted, other) or label_of(contribution.graph, other)
            file, line = contribution.where(s, p, label)
            findings.append(
                Finding(
                    "Warning",
                    f"may be the same as {name} ({shorten(str(other))}), also called “{label}”: if it is, "
                    f"use {shorten(str(other))} instead of a new IRI; if not, make the names tell them apart",
                    focus=str(s),
                    path=str(p),
                    value=label.n3(),
                    stage="duplicate",
                    file=file,
                    line=line,
                )
            )
    return findings


_K = {name: URIRef(ONTOLOGY + name) for name in ("Figure", "measure", "date", "about", "value", "statedIn")}


def figure_conflicts(existing: Existing, contribution: Contribution) -> list[Finding]:
    """New figures whose measure, date and subject match figures in data/ with another value: a second
    number for the same thing is either a disagreement between sources (which the figure-disagreements
    query lists) or a mistake, so the contributor is asked which. One warning per new figure, naming a
    few of the others and counting the rest. One query for all of them (terms written as N-Triples,
    which is SPARQL syntax too): at a million triples a measure has a thousand figures."""
    graph, terms = contribution.graph, existing.asserted.terms
    rows = []
    for figure in sorted(graph.subjects(RDF.type, _K["Figure"])):
        row = [figure, *(graph.value(figure, _K[name]) for name in ("measure", "date", "about", "value"))]
        if all(term is not None for term in row) and isinstance(row[-1], Literal):
            rows.append(row)
    if not rows:
        return []
    values = " ".join("(" + " ".join(terms.nt(term) for term in row) + ")" for row in rows)
    k = {name: terms.nt(iri) for name, iri in _K.items()}
    found: dict[str, list[str]] = defaultdict(list)
    for new, other, theirs, sources in existing.store.query(f"""
            SELECT ?new ?other ?theirs (GROUP_CONCAT(DISTINCT STR(?article); separator=" ") AS ?sources) WHERE {{
                VALUES (?new ?measure ?date ?about ?ours) {{ {values} }}
                ?other {k["measure"]} ?measure ; {k["date"]} ?date ; {k["about"]} ?about ; {k["value"]} ?theirs .
                FILTER(?other != ?new && ?theirs != ?ours)
                OPTIONAL {{ ?other {k["statedIn"]} ?article }}
            }} GROUP BY ?new ?other ?theirs ORDER BY ?new ?other"""):
        said = [shorten(a) for a in sorted(sources.value.split())]
        found[new.value].append(f"{shorten(other.value)} ({', '.join([theirs.value, *said])})")
    findings = []
    for figure, *_key, value in rows:
        others = found.get(str(figure))
        if not others:
            continue
        shown = "; ".join(others[:3]) + (f"; and {len(others) - 3:,} more" if len(others) > 3 else "")
        file, line = contribution.where(figure, _K["value"], value)
        findings.append(Finding(
            "Warning",
            f"data/ already gives another value for this measure, date and subject: {shown}. If the sources "
            "say so, keep both (the figure-disagreements query shows them side by side); if not, correct one",
            focus=str(figure), path=str(_K["value"]), value=value.n3(), stage="duplicate", file=file, line=line))
    return findings



CITATION_MESSAGE = ("cites {reference}, a reference of {article}, which it is not stated in: add kzcn:statedIn "
                    "{article}, or cite a reference of its own article")


def citation_mismatches(existing: Existing, contribution: Contribution) -> list[Finding]:
    """New citations of a reference whose article the fact is not stated in (a fact of article 002 citing a
    reference of article 000 is a slip of the pen, or a missing kzcn:statedIn)."""
    graph, findings = contribution.graph, []
    cites, stated, in_article = (URIRef(ONTOLOGY + n) for n in ("citesReference", "statedIn", "inArticle"))
    for fact, reference in sorted(graph.subject_objects(cites)):
        articles = set(graph.objects(reference, in_article)) | set(existing.asserted.objects(reference, in_article))
        said_in = set(graph.objects(fact, stated)) | set(existing.asserted.objects(fact, stated))
        if articles and not articles & said_in:
            file, line = contribution.where(fact, cites, reference)
            article = " or ".join(sorted(shorten(str(a)) for a in articles))
            findings.append(Finding(
                "Violation", CITATION_MESSAGE.format(reference=shorten(str(reference)), article=article),
                focus=str(fact), path=str(cites), value=reference.n3(), stage="reference", file=file, line=line))
    return findings


LABEL_LANGUAGE_MESSAGE = ("one rdfs:label per language, regional variants included ({tags} are two labels "
                          "in the same language): give the other as skos:altLabel")


def primary_language(tag: str) -> str:
    return tag.split("-", 1)[0].lower()


def label_language_conflicts(existing: Existing, contribution: Contribution) -> list[Finding]:
    """A new rdfs:label in a language the entity already has a label in under another tag ("Alma-Ata"@en-GB
    beside "Almaty"@en): sh:uniqueLang compares tags exactly, and every list would show the entity twice.
    (Checked here and by `kgtool validate`, not as a SPARQL shape: pySHACL runs those once per entity.)"""
    graph, findings = contribution.graph, []
    for subject, label in sorted(graph.subject_objects(RDFS.label)):
        if not isinstance(label, Literal) or not label.language or (subject, RDFS.label, label) in existing.asserted:
            continue
        others = {other.language for other in {*graph.objects(subject, RDFS.label),
                                                 *existing.asserted.objects(subject, RDFS.label)}
                  if isinstance(other, Literal) and other.language and other.language != label.language
                  and primary_language(other.language) == primary_language(label.language)}
        if others:
            file, line = contribution.where(subject, RDFS.label, label)
            tags = " and ".join(f"@{tag}" for tag in sorted({label.language, *others}))
            findings.append(Finding("Violation", LABEL_LANGUAGE_MESSAGE.format(tags=tags), focus=str(subject),
                                    path=str(RDFS.label), value=label.n3(), stage="reference", file=file, line=line))
    return findings
