"""Fast OWL RL forward chaining: the rules this ontology uses, giving exactly what :mod:`kgtool.reason` gives.

:mod:`kgtool.reason` (owlrl, brute force over every triple in every cycle) stays the reference; this module
reaches the same fixpoint with indexed Python sets and semi-naive evaluation (each new triple is joined
once), and then keeps what ``reason.infer`` keeps. Terms are N-Triples strings (``<iri>``, ``_:b``,
``"lit"@en``), so any parser feeds it and the result loads into any store.

Rules (names from the OWL 2 RL profile): cax-sco, cax-eqc1/2, scm-sco, scm-eqc1 (class hierarchy);
prp-spo1, prp-eqp1/2, scm-spo, scm-eqp1 (property hierarchy); prp-dom, prp-rng, scm-dom1/2, scm-rng1/2;
prp-inv1/2, prp-symp, prp-trp, prp-spo2 (property chains), prp-fp, prp-ifp and eq-sym, eq-trans,
eq-rep-s/p/o (owl:sameAs). Rules that only report inconsistencies (disjointness, irreflexivity …) add
nothing owlrl would keep. Axioms this module does not implement (restrictions, intersections, unions,
enumerations, keys, cardinalities) are detected by :func:`unsupported`, and the caller then uses owlrl.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator
from operator import itemgetter

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
XSD = "http://www.w3.org/2001/XMLSchema#"


def _iri(ns: str, name: str) -> str:
    return f"<{ns}{name}>"


TYPE, FIRST, REST, NIL = (_iri(RDF, n) for n in ("type", "first", "rest", "nil"))
SUBCLASS, SUBPROP, DOMAIN, RANGE = (_iri(RDFS, n) for n in ("subClassOf", "subPropertyOf", "domain", "range"))
EQ_CLASS, EQ_PROP, INVERSE, CHAIN, SAME = (
    _iri(OWL, n)
    for n in ("equivalentClass", "equivalentProperty", "inverseOf", "propertyChainAxiom", "sameAs"))
OWL_CLASS, THING = _iri(OWL, "Class"), _iri(OWL, "Thing")
SYMMETRIC, TRANSITIVE, FUNCTIONAL, INV_FUNCTIONAL = (
    _iri(OWL, n) for n in ("SymmetricProperty", "TransitiveProperty", "FunctionalProperty",
                           "InverseFunctionalProperty"))

#: Predicates and classes whose triples shape the rules themselves (the TBox).
SCHEMA_PREDICATES = frozenset({SUBCLASS, SUBPROP, DOMAIN, RANGE, EQ_CLASS, EQ_PROP, INVERSE, CHAIN, SAME,
                               FIRST, REST})
CHARACTERISTICS = frozenset({SYMMETRIC, TRANSITIVE, FUNCTIONAL, INV_FUNCTIONAL})
UNSUPPORTED = frozenset(_iri(OWL, n) for n in (
    "someValuesFrom", "allValuesFrom", "hasValue", "intersectionOf", "unionOf", "oneOf", "hasKey",
    "maxCardinality", "maxQualifiedCardinality"))

# What reason.infer strips (kept identical, as N-Triples strings).
_NOISE_NAMESPACES = tuple(f"<{ns}" for ns in (RDF, RDFS, OWL, XSD))
_TRIVIAL_TYPES = frozenset({_iri(RDFS, "Resource"), _iri(OWL, "Thing"), _iri(RDFS, "Class"),
                            _iri(OWL, "Class"),
                            _iri(RDF, "Property"), _iri(RDFS, "Datatype"), _iri(OWL, "ObjectProperty"),
                            _iri(OWL, "DatatypeProperty"), _iri(OWL, "AnnotationProperty"),
                            _iri(OWL, "NamedIndividual")})
_SCHEMA_TYPES = frozenset({_iri(OWL, "Class"), _iri(RDFS, "Class"), _iri(RDF, "Property"),
                           _iri(OWL, "ObjectProperty"), _iri(OWL, "DatatypeProperty"),
                           _iri(OWL, "AnnotationProperty"), TRANSITIVE, SYMMETRIC, FUNCTIONAL, INV_FUNCTIONAL,
                           _iri(OWL, "Ontology"), _iri(RDFS, "Datatype")})
_TRIVIAL_PREDICATES = frozenset({SAME, EQ_CLASS, EQ_PROP, SUBCLASS, SUBPROP, _iri(OWL, "differentFrom")})
_WATCHED_TYPES = CHARACTERISTICS | _SCHEMA_TYPES | {OWL_CLASS}

Triple = tuple[str, str, str]
_first, _second = itemgetter(0), itemgetter(1)


def unsupported(triples: Iterable[Triple]) -> list[str]:
    """The OWL constructs present that this reasoner does not implement (empty: it gives owlrl's result)."""
    return unsupported_predicates(p for _s, p, _o in triples)


def unsupported_predicates(predicates: Iterable[str]) -> list[str]:
    return sorted(set(predicates) & UNSUPPORTED)


def changes_rules(triples: Iterable[Triple]) -> bool:
    """Whether these triples, added to a closed graph, would change its rules (an axiom, a property's
    characteristic, a class or property declared): then every older triple may entail more."""
    return any(p in SCHEMA_PREDICATES or p in UNSUPPORTED or (p == TYPE and o in _WATCHED_TYPES)
               for _s, p, o in triples)


def _reach(edges: dict[str, set[str]]) -> dict[str, frozenset[str]]:
    """For each node, every node reachable over one or more edges, itself excluded."""
    out: dict[str, frozenset[str]] = {}
    for start in edges:
        seen: set[str] = set()
        stack = list(edges[start])
        while stack:
            node = stack.pop()
            if node not in seen:
                seen.add(node)
                stack.extend(edges.get(node, ()))
        seen.discard(start)
        out[start] = frozenset(seen)
    return out


class TBox:
    """The axioms the rules read, taken from the current facts (so inferred axioms count too)."""

    def __init__(self, facts: dict[str, set[tuple[str, str]]], typed: dict[str, set[str]]) -> None:
        sub_c: dict[str, set[str]] = defaultdict(set)
        sub_p: dict[str, set[str]] = defaultdict(set)
        for s, o in facts.get(SUBCLASS, ()):
            sub_c[s].add(o)
        for s, o in facts.get(EQ_CLASS, ()):
            sub_c[s].add(o)
            sub_c[o].add(s)
        for s, o in facts.get(SUBPROP, ()):
            sub_p[s].add(o)
        for s, o in facts.get(EQ_PROP, ()):
            sub_p[s].add(o)
            sub_p[o].add(s)
        self.superclasses = {c: sup for c, sup in _reach(sub_c).items() if sup}
        self.superproperties = {p: sup for p, sup in _reach(sub_p).items() if sup}
        self.domains = _grouped(facts.get(DOMAIN, ()))
        self.ranges = _grouped(facts.get(RANGE, ()))
        self.inverses = _grouped(facts.get(INVERSE, ()))
        for p, q in facts.get(INVERSE, ()):
            self.inverses.setdefault(q, set()).add(p)
        self.symmetric = frozenset(typed.get(SYMMETRIC, ()))
        self.transitive = frozenset(typed.get(TRANSITIVE, ()))
        self.functional = frozenset(typed.get(FUNCTIONAL, ()))
        self.inverse_functional = frozenset(typed.get(INV_FUNCTIONAL, ()))
        self.chains = [(p, chain) for p, head in facts.get(CHAIN, ()) if (chain := _list(facts, head))]
        self.chain_steps: dict[str, list[tuple[str, tuple[str, ...], int]]] = defaultdict(list)
        for p, chain in self.chains:
            for i, step in enumerate(chain):
                self.chain_steps[step].append((p, chain, i))
        self.key = (sorted(self.superclasses.items()), sorted(self.superproperties.items()),
                    sorted((k, sorted(v)) for k, v in self.domains.items()),
                    sorted((k, sorted(v)) for k, v in self.ranges.items()),
                    sorted((k, sorted(v)) for k, v in self.inverses.items()),
                    sorted(self.symmetric), sorted(self.transitive), sorted(self.functional),
                    sorted(self.inverse_functional), sorted(self.chains))

    def joined(self) -> set[str]:
        """Predicates whose rules join a new triple with older ones (they need subject/object indexes)."""
        return {*self.transitive, *self.functional, *self.inverse_functional, *self.chain_steps}


def _grouped(pairs: Iterable[tuple[str, str]]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for a, b in pairs:
        out[a].add(b)
    return dict(out)


def _list(facts: dict[str, set[tuple[str, str]]], head: str) -> tuple[str, ...]:
    firsts, rests = _grouped(facts.get(FIRST, ())), _grouped(facts.get(REST, ()))
    items, seen = [], set()
    while head != NIL and head not in seen and head in firsts:
        seen.add(head)
        items.extend(sorted(firsts[head]))
        head = min(rests.get(head, {NIL}))
    return tuple(items)


class Closure:
    """Semi-naive forward chaining to the OWL RL fixpoint of the rules above.

    Without ``base`` the closure of ``triples`` is computed. With ``base`` (an already closed graph, e.g. the
    cached store, offering ``has``, ``objects``, ``subjects`` and ``about``), ``triples`` are an addition to
    it and only what the addition entails beyond the base is derived: the incremental check of a
    contribution. With ``within_base`` too, the opposite: only what they entail that the base holds
    (:func:`overdeleted`).
    """

    def __init__(self, triples: Iterable[Triple] = (), base=None, tbox_facts: Iterable[Triple] = (),
                 facts: dict[str, set[tuple[str, str]]] | None = None, within_base: bool = False) -> None:
        """``facts`` (predicate → {(subject, object)}) may be given instead of ``triples``; it is then
        taken over, not copied."""
        self.base = base
        self.within_base = within_base
        self.facts: dict[str, set[tuple[str, str]]] = defaultdict(set)
        if facts is not None:
            self.facts.update(facts)
        for s, p, o in triples:
            self.facts[p].add((s, o))
        # rdf:type facts of the classes the rules and the filter ask about, kept up to date by _add: one
        # pass over the types instead of one per TBox
        self.typed: dict[str, set[str]] = defaultdict(set)
        for s, o in self.facts.get(TYPE, ()):
            if o in _WATCHED_TYPES:
                self.typed[o].add(s)
        self.schema = defaultdict(set)
        for s, p, o in tbox_facts:
            self.schema[p].add((s, o))
        self.derived: dict[str, set[tuple[str, str]]] = defaultdict(set)
        self.agenda: dict[str, set[tuple[str, str]]] = {}
        self.index_s: dict[str, dict[str, set[str]]] = {}
        self.index_o: dict[str, dict[str, set[str]]] = {}
        self.same: dict[str, set[str]] = defaultdict(set)
        self.same_rev: dict[str, set[str]] = defaultdict(set)
        self.by_subject: dict[str, set[tuple[str, str]]] | None = None
        self.by_object: dict[str, set[tuple[str, str]]] | None = None
        self.tbox: TBox | None = None

    # ------------------------------------------------------------------ driving
    def run(self) -> Closure:
        while True:
            if self.base is None:
                tbox = TBox(self.facts, self.typed)
            else:
                typed = _grouped((o, s) for s, o in self.schema.get(TYPE, ()) if o in _WATCHED_TYPES)
                for o, subjects in self.typed.items():
                    typed.setdefault(o, set()).update(subjects)
                tbox = TBox(_union(self.schema, self.facts), typed)
            if self.tbox is not None and tbox.key == self.tbox.key:
                return self
            self.tbox = tbox
            for p in tbox.joined() | {SAME}:
                self._index(p)
            self.agenda = {p: set(pairs) for p, pairs in self.facts.items() if pairs}
            while self.agenda:
                p = next(iter(self.agenda))
                self._fire(p, self.agenda.pop(p))
            if self.base is not None:
                return self

    def _index(self, p: str) -> None:
        if p in self.index_s:
            return
        by_s: dict[str, set[str]] = defaultdict(set)
        by_o: dict[str, set[str]] = defaultdict(set)
        for s, o in self.facts.get(p, ()):
            by_s[s].add(o)
            by_o[o].add(s)
        self.index_s[p], self.index_o[p] = by_s, by_o

    def _add(self, p: str, pairs: Iterable[tuple[str, str]]) -> None:
        if p[0] != "<":  # owlrl keeps no triple with a literal or blank predicate
            return
        known = self.facts[p]
        new = set(pairs)
        new -= known
        if self.base is not None and new:
            has, keep = self.base.has, self.within_base
            new = {(s, o) for s, o in new if has(s, p, o) == keep}
        if not new:
            return
        known |= new
        self.derived[p] |= new
        if p == TYPE:
            for s, o in new:
                if o in _WATCHED_TYPES:
                    self.typed[o].add(s)
        self.agenda.setdefault(p, set()).update(new)
        if p in self.index_s:
            by_s, by_o = self.index_s[p], self.index_o[p]
            for s, o in new:
                by_s[s].add(o)
                by_o[o].add(s)
        if self.by_subject is not None:
            for s, o in new:
                self.by_subject[s].add((p, o))
                self.by_object[o].add((s, p))

    # ------------------------------------------------------------------ lookups over local + base facts
    def objects(self, s: str, p: str) -> set[str]:
        local = self.index_s[p].get(s, set())
        return local | set(self.base.objects(s, p)) if self.base is not None else local

    def subjects(self, p: str, o: str) -> set[str]:
        local = self.index_o[p].get(o, set())
        return local | set(self.base.subjects(p, o)) if self.base is not None else local

    # ------------------------------------------------------------------ rules
    def _fire(self, p: str, pairs: set[tuple[str, str]]) -> None:
        tb = self.tbox
        if p == TYPE:
            sup = tb.superclasses
            self._add(TYPE, [(x, d) for x, c in pairs if c in sup for d in sup[c]])
        for q in tb.superproperties.get(p, ()):
            self._add(q, pairs)
        if p in tb.domains:
            subjects = {s for s, _o in pairs}
            for c in tb.domains[p]:
                self._add(TYPE, [(s, c) for s in subjects])
        if p in tb.ranges:
            objects = {o for _s, o in pairs}
            for c in tb.ranges[p]:
                self._add(TYPE, [(o, c) for o in objects])
        inverses = tb.inverses.get(p, ())
        if inverses or p in tb.symmetric:
            swapped = [(o, s) for s, o in pairs]
            for q in inverses:
                self._add(q, swapped)
            if p in tb.symmetric:
                self._add(p, swapped)
        if p in tb.transitive:
            self._add(p, [(s, z) for s, o in pairs for z in self.objects(o, p)])
            self._add(p, [(w, o) for s, o in pairs for w in self.subjects(p, s)])
        for chain_p, chain, i in tb.chain_steps.get(p, ()):
            for s, o in pairs:
                starts, ends = self._walk_back(chain[:i], s), self._walk(chain[i + 1:], o)
                self._add(chain_p, [(a, b) for a in starts for b in ends])
        if p in tb.functional:
            self._add(SAME, [(o, y) for s, o in pairs for y in self.objects(s, p) if y != o])
        if p in tb.inverse_functional:
            self._add(SAME, [(s, x) for s, o in pairs for x in self.subjects(p, o) if x != s])
        if p == SAME:
            self._same_as(pairs)
        if self.same:
            self._replace(p, pairs)

    def _walk(self, steps: tuple[str, ...], start: str) -> set[str]:
        frontier = {start}
        for step in steps:
            self._index(step)
            frontier = {z for x in frontier for z in self.objects(x, step)}
        return frontier

    def _walk_back(self, steps: tuple[str, ...], start: str) -> set[str]:
        frontier = {start}
        for step in reversed(steps):
            self._index(step)
            frontier = {z for x in frontier for z in self.subjects(step, x)}
        return frontier

    def _same_as(self, pairs: set[tuple[str, str]]) -> None:
        """eq-sym, eq-trans, and eq-rep-s/p/o for the triples already there (owlrl's directions)."""
        if self.by_subject is None:
            self._build_term_indexes()
        for a, b in pairs:
            if a == b:
                continue
            self.same[a].add(b)
            self.same_rev[b].add(a)
            self._add(SAME, [(b, a)])
            self._add(SAME, [(a, z) for z in self.objects(b, SAME)])
            self._add(SAME, [(w, b) for w in self.subjects(SAME, a)])
            for s, p, o in self._about(a):
                if s == a:
                    self._add(p, [(b, o)])
                if p == a:
                    self._add(b, [(s, o)])
            for s, p, o in self._about(b):
                if o == b:
                    self._add(p, [(s, a)])

    def _replace(self, p: str, pairs: set[tuple[str, str]]) -> None:
        """eq-rep-s/p/o for new triples whose terms already have equals."""
        same, same_rev = self.same, self.same_rev
        for s, o in pairs:
            for x in same.get(s, ()):
                self._add(p, [(x, o)])
            for x in same_rev.get(o, ()):
                self._add(p, [(s, x)])
        for x in same.get(p, ()):
            self._add(x, pairs)

    def _build_term_indexes(self) -> None:
        self.by_subject, self.by_object = defaultdict(set), defaultdict(set)
        for p, pairs in self.facts.items():
            for s, o in pairs:
                self.by_subject[s].add((p, o))
                self.by_object[o].add((s, p))

    def _about(self, term: str) -> list[Triple]:
        found = [(term, p, o) for p, o in self.by_subject.get(term, ())]
        found += [(s, p, term) for s, p in self.by_object.get(term, ())]
        found += [(s, term, o) for s, o in self.facts.get(term, ())]
        if self.base is not None:
            found += list(self.base.about(term))
        return found

    # ------------------------------------------------------------------ results
    def inferred(self) -> set[Triple]:
        """New triples as reason.infer keeps them: no schema-level, axiomatic or trivial ones."""
        return {(s, p, o) for p, pairs in self.inferred_by_predicate().items() for s, o in pairs}

    def inferred_by_predicate(self) -> dict[str, Collection[tuple[str, str]]]:
        """:meth:`inferred`, grouped by predicate (no million 3-tuples for a caller that writes lines)."""
        self._widen_schema()
        schema_terms = set().union(*(self.typed.get(c, ()) for c in _SCHEMA_TYPES))
        if self.base is not None:
            schema_terms |= {s for s, o in self.schema.get(TYPE, ()) if o in _SCHEMA_TYPES}
        kept = {p: pairs for p, pairs in self.derived.items() if pairs and p not in _TRIVIAL_PREDICATES}
        subjects_of = {p: set(map(_first, pairs)) for p, pairs in kept.items()}
        good = {s for s in set().union(*subjects_of.values()) if s[0] == "<" and not s.startswith(_NOISE_NAMESPACES)
                and s not in schema_terms and (self.base is None or not self._is_schema_term(s))}
        out: dict[str, Collection[tuple[str, str]]] = {}
        for p, pairs in kept.items():
            if p == TYPE:
                classes = set(map(_second, pairs))
                allowed = {o for o in classes if o not in _TRIVIAL_TYPES and not o.startswith(_NOISE_NAMESPACES)}
                chosen = pairs if classes <= allowed and subjects_of[p] <= good else \
                    [pair for pair in pairs if pair[1] in allowed and pair[0] in good]
            else:
                chosen = pairs if subjects_of[p] <= good else [pair for pair in pairs if pair[0] in good]
            if chosen:
                out[p] = chosen
        return out

    def _is_schema_term(self, s: str) -> bool:
        return any(o in _SCHEMA_TYPES for o in self.base.objects(s, TYPE))

    def _widen_schema(self) -> None:
        """scm-dom1/2 and scm-rng1/2: a property's domain and range also hold for its sub-properties and
        widen to superclasses. Only properties nobody declared as such survive the filter, but owlrl
        keeps those, so this does too."""
        tb = self.tbox
        sub_of: dict[str, set[str]] = defaultdict(set)
        for p, sups in tb.superproperties.items():
            for q in sups:
                sub_of[q].add(p)
        owl_classes = self.typed.get(OWL_CLASS, set())
        for axiom, table in ((DOMAIN, tb.domains), (RANGE, tb.ranges)):
            pairs = set()
            for p, classes in table.items():
                widened = set(classes) | {d for c in classes for d in tb.superclasses.get(c, ())}
                if widened & owl_classes:  # scm-cls: every owl:Class is a subclass of owl:Thing
                    widened.add(THING)
                pairs |= {(q, c) for q in {p} | sub_of.get(p, set()) for c in widened}
            self._add(axiom, pairs)


class SetBase:
    """A closed graph held as a set of triples: the ``base`` of an incremental :class:`Closure`."""

    def __init__(self, triples: Iterable[Triple]) -> None:
        self.triples = set(triples)
        self.by_sp: dict[tuple[str, str], set[str]] = defaultdict(set)
        self.by_po: dict[tuple[str, str], set[str]] = defaultdict(set)
        self.by_term: dict[str, set[Triple]] = defaultdict(set)
        for t in self.triples:
            s, p, o = t
            self.by_sp[s, p].add(o)
            self.by_po[p, o].add(s)
            for term in t:
                self.by_term[term].add(t)

    def has(self, s: str, p: str, o: str) -> bool:
        return (s, p, o) in self.triples

    def objects(self, s: str, p: str) -> set[str]:
        return self.by_sp.get((s, p), set())

    def subjects(self, p: str, o: str) -> set[str]:
        return self.by_po.get((p, o), set())

    def about(self, term: str) -> set[Triple]:
        return self.by_term.get(term, set())

    def outgoing(self, term: str) -> set[Triple]:
        return {t for t in self.by_term.get(term, ()) if t[0] == term}

    def subjects_of(self, p: str, o: str) -> Iterator[str]:
        return iter(self.by_po.get((p, o), ()))


class Without:
    """A base with some of its triples taken out: the closure as DRed's second step reads it."""

    def __init__(self, base, gone: set[Triple]) -> None:
        self.base, self.gone = base, gone

    def has(self, s: str, p: str, o: str) -> bool:
        return (s, p, o) not in self.gone and self.base.has(s, p, o)

    def objects(self, s: str, p: str) -> set[str]:
        return {o for o in self.base.objects(s, p) if (s, p, o) not in self.gone}

    def subjects(self, p: str, o: str) -> set[str]:
        return {s for s in self.base.subjects(p, o) if (s, p, o) not in self.gone}

    def subjects_of(self, p: str, o: str) -> Iterator[str]:
        return (s for s in self.base.subjects_of(p, o) if (s, p, o) not in self.gone)

    def about(self, term: str) -> set[Triple]:
        return self.base.about(term) - self.gone

    def outgoing(self, term: str) -> set[Triple]:
        return self.base.outgoing(term) - self.gone


def overdeleted(removed: set[Triple], base, tbox_facts: Iterable[Triple]) -> tuple[set[Triple], TBox]:
    """DRed's first step (delete and rederive; Gupta, Mumick and Subrahmanian, 1993): every triple of the
    closed ``base`` that has a derivation using a removed triple, the removed ones included, and the TBox.
    Some of them hold still, by another derivation: :func:`rederived` finds those."""
    closure = Closure(removed, base=base, tbox_facts=tbox_facts, within_base=True).run()
    return set(removed) | {(s, p, o) for p, pairs in closure.derived.items() for s, o in pairs}, closure.tbox


def rederived(gone: set[Triple], kept: set[Triple], base, tbox: TBox, tbox_facts: Iterable[Triple]) -> Closure:
    """DRed's second step, with additions: the closure over ``base`` (the closed graph without the
    overdeleted triples ``gone``) of ``kept`` (triples asserted still or newly) and of every triple of
    ``base`` one rule could derive a triple of ``gone`` from. Its :meth:`Closure.inferred` is what the
    new closure holds beyond ``base`` and the asserted triples: the triples of ``gone`` that still follow,
    and what the additions entail. (No ``owl:sameAs``: the caller builds instead when there is one.)"""
    # A rule's premise from the subject's triples: cax-sco, prp-dom, prp-spo, prp-trp and chains (their
    # first step). prp-inv and prp-symp need none: the inverse of a triple in ``gone`` is in it too (the
    # first step derived it), and comes back if it holds. prp-rng: one triple per property whose range
    # gives a class the subject lost (a place thousands of things are located in needs one of them).
    premises: set[Triple] = set()
    for term in {s for s, _p, _o in gone}:
        premises |= base.outgoing(term)
    lost: dict[str, set[str]] = defaultdict(set)
    for s, p, o in gone:
        if p == TYPE:
            lost[s].add(o)
    giving = {q: set(classes).union(*(tbox.superclasses.get(c, ()) for c in classes))
              for q, classes in tbox.ranges.items()}
    for term, classes in lost.items():
        for q, given in giving.items():
            if given & classes and (witness := next(base.subjects_of(q, term), None)) is not None:
                premises.add((witness, q, term))
    return Closure([*premises, *kept], base=base, tbox_facts=tbox_facts).run()


def _union(a: dict[str, set], b: dict[str, set]) -> dict[str, set]:
    out = {p: set(v) for p, v in a.items()}
    for p, v in b.items():
        out.setdefault(p, set()).update(v)
    return out


def infer(triples: Iterable[Triple]) -> set[Triple]:
    """The OWL RL inferences of ``triples`` (ontology + data) that reason.infer would keep."""
    return Closure(triples).run().inferred()
