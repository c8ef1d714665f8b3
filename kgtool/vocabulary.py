"""The vocabulary stage: every class, property and datatype a contribution uses must be known, and every
typed value must be valid for its datatype.

Known terms are the classes and properties the ontology declares in its own namespace (it declares the terms
of other vocabularies it aligns to as well, as OWL 2 DL wants, but data says ``kzcn:Person``, not
``schema:Person``), plus the few standard terms the data uses beside them (:data:`STANDARD_PROPERTIES`,
:data:`STANDARD_CLASSES`). An unknown term gets a "did you mean" from the known ones (case slips, typos,
the right name in the wrong namespace), and a property used as a class (or the other way round) is said to
be one.

Typed values are checked by their lexical form (rdflib leaves gYear and gYearMonth unchecked, and accepts
``"1e3"^^xsd:decimal``): an ill-typed date says which precision the value does fit.
"""

from __future__ import annotations

import datetime
import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from rdflib import OWL, RDF, RDFS, XSD, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, SKOS

from .namespaces import ONTOLOGY, shorten
from .report import Finding
from .strict_turtle import Contribution, Triple

STANDARD_PROPERTIES = frozenset(
    {RDF.type, RDFS.label, SKOS.prefLabel, SKOS.altLabel, SKOS.definition, SKOS.inScheme, DCTERMS.title}
)
STANDARD_CLASSES = frozenset({SKOS.Concept, SKOS.ConceptScheme})
_CLASS_TYPES = (OWL.Class, RDFS.Class)
_PROPERTY_TYPES = (OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty, RDF.Property)

_TZ = r"(?:Z|[+-](?:0\d|1[0-4]):[0-5]\d)?"
_LEXICAL = {
    XSD.date: re.compile(rf"-?\d{{4,}}-(\d\d)-(\d\d){_TZ}"),
    XSD.gYearMonth: re.compile(rf"-?\d{{4,}}-(?:0[1-9]|1[0-2]){_TZ}"),
    XSD.gYear: re.compile(rf"-?\d{{4,}}{_TZ}"),
    XSD.dateTime: re.compile(rf"-?\d{{4,}}-\d\d-\d\dT[0-2]\d:[0-5]\d:[0-5]\d(?:\.\d+)?{_TZ}"),
    XSD.integer: re.compile(r"[+-]?\d+"),
    XSD.positiveInteger: re.compile(r"\+?0*[1-9]\d*"),
    XSD.nonNegativeInteger: re.compile(r"\+?\d+"),
    XSD.decimal: re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)"),
    XSD.boolean: re.compile(r"true|false|1|0"),
    XSD.anyURI: re.compile(r"[^\s<>\"{}|\\^`]*"),
    XSD.language: re.compile(r"[a-zA-Z]{1,8}(?:-[a-zA-Z0-9]{1,8})*"),
    XSD.string: re.compile(r".*", re.S),
}
_DATES = (XSD.date, XSD.gYearMonth, XSD.gYear)
KNOWN_DATATYPES = frozenset({*_LEXICAL, XSD.double, XSD.float, XSD.time, RDF.langString})


@dataclass(frozen=True)
class Vocabulary:
    classes: frozenset[URIRef]
    properties: frozenset[URIRef]

    @classmethod
    def from_ontology(cls, ontology: Graph) -> Vocabulary:
        def own(types: tuple[URIRef, ...]) -> set[URIRef]:
            return {s for t in types for s in ontology.subjects(RDF.type, t)
                    if isinstance(s, URIRef) and str(s).startswith(ONTOLOGY)}

        classes, properties = own(_CLASS_TYPES), own(_PROPERTY_TYPES)
        return cls(frozenset(classes | STANDARD_CLASSES), frozenset(properties | STANDARD_PROPERTIES))


def vocabulary_findings(
    contribution: Contribution, vocabulary: Vocabulary, skip: set[Triple] | frozenset[Triple] = frozenset()
) -> tuple[list[Finding], set[Triple]]:
    """Findings, and the triples that use an unknown term (later stages leave those out)."""
    findings: list[Finding] = []
    unusable: set[Triple] = set()
    reported: set[URIRef] = set()
    ordered = sorted(contribution.origin.items(), key=lambda item: (item[1], [t.n3() for t in item[0]]))
    for triple, _where in ordered:
        if triple in skip:
            continue
        problem = _term_problem(triple, vocabulary)
        if problem is not None:
            unusable.add(triple)
            term, message = problem
            if term not in reported:
                reported.add(term)
                uses = sum(1 for t in contribution.graph if term in (t[1], t[2]) and t not in skip)
                more = f" (used {uses} times)" if uses > 1 else ""
                findings.append(_finding(contribution, triple, message + more))
        elif isinstance(triple[2], Literal) and (message := datatype_problem(triple[2])):
            findings.append(_finding(contribution, triple, message, stage="datatype"))
    return findings, unusable


def _finding(contribution: Contribution, triple: Triple, message: str, stage: str = "vocabulary") -> Finding:
    s, p, o = triple
    file, line = contribution.origin[triple]
    return Finding(
        "Violation", message, focus=str(s), path=str(p), value=o.n3(), stage=stage, file=file, line=line
    )


def _term_problem(triple: Triple, vocabulary: Vocabulary) -> tuple[URIRef, str] | None:
    _s, p, o = triple
    if isinstance(p, URIRef) and p not in vocabulary.properties:
        if p in vocabulary.classes:
            return p, f"{shorten(str(p))} is a class, not a property{_did_you_mean(p, vocabulary.properties)}"
        return (
            p,
            f"{shorten(str(p))} is not a property of the ontology{_did_you_mean(p, vocabulary.properties)}",
        )
    if p == RDF.type and isinstance(o, URIRef) and o not in vocabulary.classes:
        if o in vocabulary.properties:
            return o, f"{shorten(str(o))} is a property, not a class{_did_you_mean(o, vocabulary.classes)}"
        return o, f"{shorten(str(o))} is not a class of the ontology{_did_you_mean(o, vocabulary.classes)}"
    if isinstance(o, Literal) and o.datatype is not None and o.datatype not in KNOWN_DATATYPES:
        return o.datatype, (
            f"{shorten(str(o.datatype))} is not a datatype used here"
            f"{_did_you_mean(o.datatype, KNOWN_DATATYPES)}"
        )
    return None


def suggestions(term: URIRef, candidates: Iterable[URIRef], n: int = 3) -> list[str]:
    """The closest known terms, by the whole prefixed name (typos, case) or by the local name alone (the
    right name in the wrong namespace: ``rdfs:altLabel`` for ``skos:altLabel``); only those about as close
    as the best, so one clear answer is not drowned in near misses."""
    wanted = shorten(str(term)).lower()
    wanted_local = _local(wanted)
    scored = []
    for name in {shorten(str(c)) for c in candidates}:
        full = _ratio(wanted, name.lower())
        local = _ratio(wanted_local, _local(name).lower())
        # the same letters in another order (kzcn:lable) is the likeliest slip of all: rdfs:label before
        # kzcn:place, which difflib scores the same
        swapped = 0.1 if local and sorted(wanted_local) == sorted(_local(name).lower()) else 0.0
        scored.append((max(full, local) + swapped, name))
    scored = sorted((s for s in scored if s[0] >= _CUTOFF), key=lambda s: (-s[0], s[1]))
    return [name for score, name in scored if score >= scored[0][0] - 0.08][:n] if scored else []


_CUTOFF = 0.75


def _ratio(a: str, b: str) -> float:
    """``SequenceMatcher(None, a, b).ratio()`` where it can reach the cutoff, else 0 (its cheap upper
    bounds first: thousands of candidate entities are compared in milliseconds)."""
    total = len(a) + len(b)
    if not total:
        return 1.0
    if 2.0 * min(len(a), len(b)) / total < _CUTOFF:
        return 0.0
    matcher = difflib.SequenceMatcher(None, a, b)
    return matcher.ratio() if matcher.quick_ratio() >= _CUTOFF else 0.0


def _did_you_mean(term: URIRef, candidates: Iterable[URIRef]) -> str:
    close = suggestions(term, candidates)
    return f"; did you mean {' or '.join(close)}?" if close else ""


def _local(name: str) -> str:
    return re.split(r"[:#/]", name.strip("<>"))[-1]


def datatype_problem(literal: Literal) -> str | None:
    """Why a typed literal is not valid for its datatype, in words, or None."""
    datatype = literal.datatype
    if datatype is None or datatype == XSD.string:
        return None
    text = str(literal)
    pattern = _LEXICAL.get(datatype)
    valid = bool(pattern.fullmatch(text)) if pattern else literal.ill_typed is not True
    if valid and datatype == XSD.date:
        valid = _real_day(text)
    if valid:
        return None
    message = f"“{text}” is not a valid {shorten(str(datatype))}"
    if datatype in _DATES:
        fits = [
            d
            for d in _DATES
            if d != datatype and _LEXICAL[d].fullmatch(text) and (d != XSD.date or _real_day(text))
        ]
        hint = (
            f': at this precision write "{text}"^^{shorten(str(fits[0]))}'
            if fits
            else ": write 1992-08-10 (xsd:date), 1992-08 (xsd:gYearMonth) or 1992 (xsd:gYear), as precise as "
            "the source"
        )
        return message + hint
    return message


def _real_day(text: str) -> bool:
    match = re.match(r"-?(\d{4,})-(\d\d)-(\d\d)", text)
    if not match:
        return False
    year, month, day = (int(g) for g in match.groups())
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    try:
        datetime.date(2000 if leap else 2001, month, day)  # a stand-in year with the same February
    except ValueError:
        return False
    return True


_TYPED_LINE = re.compile(r'^<([^>]*)> <([^>]*)> "((?:[^"\\]|\\.)*)"\^\^<([^>]*)> \.$')
_NT_ESCAPE = re.compile(r'\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))')
_NT_CHARS = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'", "\\": "\\"}


def ill_typed_findings(ntriples: Path) -> list[Finding]:
    """The typed literals of an N-Triples file that are not valid for their datatype, worded as the gate
    words them: hand-edited data/ gets the check a contribution gets (a shape's sh:datatype catches an
    ill-typed value only on the properties it constrains)."""
    from .strict_turtle import quiet_rdflib

    findings = []
    with quiet_rdflib(), open(ntriples, encoding="utf-8") as lines:
        for line in lines:
            if '"^^<' not in line or (match := _TYPED_LINE.match(line.rstrip("\n"))) is None:
                continue
            s, p, lexical, datatype = match.groups()
            literal = Literal(_NT_ESCAPE.sub(_unescape, lexical), datatype=URIRef(datatype))
            if (message := datatype_problem(literal)) is not None:
                findings.append(Finding("Violation", message, focus=s, path=p, value=literal.n3(), stage="datatype"))
    return findings


def _unescape(match: re.Match) -> str:
    code = match.group(1) or match.group(2)
    return chr(int(code, 16)) if code else _NT_CHARS.get(match.group(3), match.group(3))


def without_datatype_echoes(findings: list[Finding], ill_typed: list[Finding]) -> list[Finding]:
    """Shape results about a value already reported as ill-typed say the same thing less clearly."""
    seen = {(f.focus, f.path, f.value) for f in ill_typed}
    return [f for f in findings if (f.focus, f.path, f.value) not in seen] + ill_typed
