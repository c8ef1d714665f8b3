"""Literals a store keeps in another form than the one written, and values it keeps as one.

An Oxigraph store keeps a literal by its value (oxigraph#526): ``"01"^^xsd:integer`` and
``"1"^^xsd:positiveInteger`` both come back as ``"1"^^xsd:integer``, ``"…T18:00:00+00:00"`` as ``"…Z"``,
``"1.50"`` as ``"1.5"``, ``"1"^^xsd:boolean`` as ``"true"`` (and a language tag in lower case, as the parser
already gives it: ``@zh-Hans`` is read as ``@zh-hans``). kgtool's files keep
what was written, and ``exact-literals.nt`` lists the derived integer types, which the validator and the
incremental reasoner put back (:func:`kgtool.fastvalidate.exact_objects`). A snapshot made from an older
one (:mod:`kgtool.incremental`) reads that older store, so it must know when a store's form and the
written form differ beyond what that list restores, and when two written triples are one in the store
(taking one out of the store would take the other along): :func:`audit` tells a build, and the checks here
tell an extension.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping

_STRING = "^^<http://www.w3.org/2001/XMLSchema#string>"
#: Datatypes whose literals a store rewrites as xsd:integer, and which exact-literals.nt restores.
NORMALISED_DATATYPES = tuple(f"^^<http://www.w3.org/2001/XMLSchema#{name}>" for name in (
    "int", "long", "short", "byte", "nonNegativeInteger", "positiveInteger", "nonPositiveInteger",
    "negativeInteger", "unsignedInt", "unsignedLong", "unsignedShort", "unsignedByte"))


def may_change(term: str) -> bool:
    """Whether a store may keep this N-Triples term in another form: a typed literal (but a plain string),
    or a language tag with capitals (which a term from the parser never has)."""
    if term[0] != '"':
        return False
    if term[-1] == ">":
        return not term.endswith(_STRING)
    tag = term[term.rindex('"') + 1:]
    return tag != tag.lower()


def stored_forms(literals: Iterable[str]) -> dict[str, str]:
    """Each literal (N-Triples) and the form a store gives it back in."""
    import pyoxigraph as ox

    terms = list(dict.fromkeys(literals))
    if not terms:
        return {}
    store = ox.Store()
    store.bulk_load("".join(f"<urn:kgtool:{number}> <urn:kgtool:is> {term} .\n"
                            for number, term in enumerate(terms)).encode("utf-8"), format=ox.RdfFormat.N_TRIPLES)
    back = {quad.subject.value: str(quad.object) for quad in store}
    return {term: back[f"urn:kgtool:{number}"] for number, term in enumerate(terms)}


def restored(term: str) -> bool:
    """Whether exact-literals.nt keeps this literal as written (a derived integer type)."""
    return term.endswith(NORMALISED_DATATYPES)


def inexact(forms: Mapping[str, str]) -> list[str]:
    """The literals of ``forms`` a store changes and exact-literals.nt does not restore."""
    return [term for term, form in forms.items() if form != term and not restored(term)]


def watched(forms: Mapping[str, str]) -> set[str]:
    """The literals whose triples a build looks at (:func:`audit`): those a store changes, and those of the
    derived integer types (exact-literals.nt lists their triples, changed or not)."""
    return {term for term, form in forms.items() if form != term or restored(term)}


def audit(forms: Mapping[str, str], touched: list[tuple[str, str, str]],
          tables: list[Mapping[str, Collection[tuple[str, str]]]]) -> tuple[bool, bool]:
    """For a build: (whether a literal is kept in a form exact-literals.nt does not restore, whether two
    triples of one subject and predicate are one in the store). ``forms``: :func:`stored_forms` of every
    literal that may change; ``touched``: the triples whose object is :func:`watched`; ``tables``: every
    triple, {p: {(s, o)}}, read only for the predicates of changed literals (two objects kept as one: at
    least one of them is changed)."""
    changed = {term for term, form in forms.items() if form != term}
    unrestored = bool(inexact(forms))
    subjects: dict[str, set[str]] = defaultdict(set)
    for s, p, o in touched:
        if o in changed:
            subjects[p].add(s)
    for p, among in subjects.items():
        objects: dict[str, set[str]] = defaultdict(set)
        for table in tables:
            for s, o in table.get(p, ()):
                if s in among and o in forms:
                    objects[s].add(o)
        if any(len({forms[o] for o in found}) < len(found) for found in objects.values()):
            return unrestored, True
    return unrestored, False
