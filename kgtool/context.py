"""The contribution in the context of the data already there: the project's state (:class:`Existing`),
the contribution's new OWL RL inferences, SHACL and disjointness. (References and duplicates:
:mod:`kgtool.references`.)

**Nothing is loaded whole.** :class:`Existing` reads the project's snapshot (:mod:`kgtool.snapshot`: the
asserted triples and their OWL RL closure in an Oxigraph store, and the asserted ones as N-Triples, built
once per change of the inputs) and asks it only about what the contribution touches, so a check costs
about the same against a thousand triples or a million. ``Existing.asserted`` (the asserted triples of the
subjects asked about, read from the N-Triples file by the gate's index, :mod:`kgtool.gate_index`) and
``Existing.inferred`` (the store's other triples) answer the rdflib ``Graph`` calls the gate makes (``in``,
``triples``, ``objects`` …) one subject at a time.

**What the contribution causes.** SHACL runs twice over the same graph, ontology + data + OWL RL closure:
once as it is, once with the contribution and its new inferences added, and only the results of the second
run that the first did not have are kept: what a full run on the merged graph finds beyond what a full run
on the data finds. So a problem the data already had is never blamed on the contribution, and one the
contribution creates on an existing entity (a second Confucius Institute partnership, an organization now
also typed a person) is.

The focus nodes are every node the contribution or its new inferences mention, plus, for each node whose
classes change, the nodes that link to it and those it links to (their ``sh:class`` checks read those
classes). The shapes only look one step from a focus node: its values, its values' classes, the links into
it along inverse paths, and SPARQL constraints over its own triples (:func:`kgtool.shapes_fast.
locality_problem` checks that they do), so results for any other node cannot change, and a small store
holding the focus nodes' neighbourhood answers for them exactly as the whole graph would
(:func:`kgtool.fastvalidate.neighbourhood_stores`). The shapes are evaluated there by
:mod:`kgtool.shapes_fast`, which gives pySHACL's results; shapes that use a feature it lacks, or that look
further, go to pySHACL over the whole graph instead (exact, but minutes at a million triples). Not to
pySHACL restricted to the focus nodes: that mode skips the members of ``sh:or`` on value nodes, so it
passed a ``kzcn:date`` typed ``xsd:dateTime`` that a full run refuses.

**New inferences** are what the project's fast OWL RL reasoner (:mod:`kgtool.rules`, equal to owlrl)
derives from the contribution on top of the snapshot's closure, reading the store wherever a rule joins a
new triple with older ones: exact, in milliseconds. Should the ontology ever use an axiom that reasoner
lacks, they come from owlrl over a neighbourhood instead: every asserted or inferred triple about an entity
the contribution mentions, the triples of transitive properties that lead into one, the contribution
itself, and the axioms of the (closed, cached) ontology about the terms these use. The cached closure of the
data is complete, so this neighbourhood holds every premise the ontology's rules (domain, range, subclass,
subproperty, inverse, symmetric, transitive, functional) need. A test checks both ways against owlrl over
the whole graph.

**Literals.** An Oxigraph store keeps some literals in a normal form (``"1"^^xsd:positiveInteger`` as
``"1"^^xsd:integer``, ``"1.50"^^xsd:decimal`` as ``"1.5"``); the derived integer types are put back from the
snapshot's ``exact-literals.nt``, and values from the contribution are shown as the contribution has them.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cached_property

from rdflib import OWL, RDF, RDFS, BNode, Graph, Literal, URIRef
from rdflib.term import Node

from .closure import inputs_key, read_cached, write_cached
from .graphs import serialize_ntriples_sorted
from .loading import new_graph, parse_files
from .namespaces import INSTANCE_BASE, shorten
from .project import Project
from .reason import infer
from .report import Finding
from .strict_turtle import Contribution, quiet_rdflib, to_rdflib
from .vocabulary import Vocabulary


class Existing:
    """The project as it is now, each part read when first needed (a contribution refused for its policy
    never waits for the snapshot): the snapshot store (asserted + inferred triples), the ontology, the
    shapes and the vocabulary.

    The digest is taken first, so data read later can only be newer than it: a merge that compares
    digests under its lock then checks again rather than trusting a stale check.
    """

    def __init__(self, project: Project, snapshot=None) -> None:
        """``snapshot``: read this one (:mod:`kgtool.incremental` reasons over an older one) instead of the
        project's as it is now."""
        self.project = project
        self.digest = project_digest(project)
        self.digest_of_ontology = inputs_key([project.ontology_file], salt="ontology-closure")
        if snapshot is not None:
            self.__dict__["snapshot"] = snapshot

    @property
    def snapshot_read(self) -> bool:
        """Whether the snapshot was read (asking for it now may build the snapshot of newer data)."""
        return "snapshot" in self.__dict__

    # ------------------------------------------------------------------ the snapshot
    @cached_property
    def snapshot(self):
        from .snapshot import get_snapshot

        return get_snapshot(self.project)

    @cached_property
    def store(self):
        """The asserted and the inferred triples."""
        return self.snapshot.open(True)

    @cached_property
    def exact(self) -> dict:
        """(subject, predicate) -> the literals as written, where the store normalised them."""
        from .shapes_fast import load_exact

        return load_exact(self.snapshot.exact_literals_file)

    @cached_property
    def asserted(self) -> AssertedGraph:
        """Ontology + data, as the files have them."""
        return AssertedGraph(self)

    @cached_property
    def inferred(self) -> InferredGraph:
        """The OWL RL inferences of ontology + data (without the asserted triples)."""
        return InferredGraph(self)

    def prefetch(self, nodes) -> None:
        """Read the asserted triples of these nodes at once, before asking about them one by one."""
        self.asserted.load({self.asserted.terms.nt(n) for n in nodes if isinstance(n, URIRef | BNode)})

    def known(self, triple) -> bool:
        """Whether a triple without literals is asserted or inferred already."""
        from .fastvalidate import to_term

        terms = self.asserted.terms
        if isinstance(triple[0], Literal) or not isinstance(triple[1], URIRef):
            return False
        return any(True for _ in self.store.quads_for_pattern(*(to_term(terms.nt(t)) for t in triple), None))

    def types(self, node: Node) -> set[Node]:
        """The classes of a node, asserted and inferred."""
        from .fastvalidate import to_term

        terms = self.asserted.terms
        if not isinstance(node, URIRef | BNode):
            return set()
        quads = self.store.quads_for_pattern(to_term(terms.nt(node)), to_term(terms.nt(RDF.type)), None, None)
        return {terms.term(str(q.object)) for q in quads}

    @cached_property
    def base(self):
        """The store as the incremental reasoner and the neighbourhood builder read it."""
        from .fastvalidate import OxBase

        return OxBase(self.store, self.snapshot.graphs(True), self.exact)

    @cached_property
    def tbox(self) -> list[tuple[str, str, str]]:
        """The axioms the incremental reasoner reads."""
        return self.base.schema()

    @cached_property
    def reasoner_suffices(self) -> bool:
        """Whether the snapshot's closure came from kgtool.rules (else the ontology needs owlrl)."""
        return self.snapshot.meta.get("reasoner") == "kgtool.rules"

    # ------------------------------------------------------------------ small files, parsed whole
    @cached_property
    def ontology(self) -> Graph:
        return parse_files([self.project.ontology_file])

    @cached_property
    def shapes(self) -> Graph:
        return parse_files([self.project.shapes_file])

    @cached_property
    def fast_shapes(self):
        """The shapes compiled for :mod:`kgtool.shapes_fast`, or None when pySHACL must evaluate them."""
        from .shapes_fast import compile_shapes, locality_problem
        from .snapshot import parse_file

        shapes = compile_shapes(list(parse_file(self.project.shapes_file)))
        return shapes if shapes is not None and locality_problem(shapes) is None else None

    @cached_property
    def vocabulary(self) -> Vocabulary:
        return Vocabulary.from_ontology(self.ontology)

    @cached_property
    def signatures(self):
        """Domains, ranges and superclasses, for the domain and range stage (:mod:`kgtool.domains`)."""
        from .domains import Signatures

        return Signatures(self.closed_ontology)

    @cached_property
    def closed_ontology(self) -> Graph:
        """The ontology with its own OWL RL closure (schema included), cached like the data's closure, unless
        it holds ``file:`` IRIs: relative references resolved in this checkout, which the key (the
        ontology's bytes) does not tell from another's (:mod:`kgtool.snapshot`)."""
        key = self.digest_of_ontology
        cached = read_cached(key)
        if cached is not None and b"<file:" not in cached:
            try:
                return new_graph().parse(data=cached.decode("utf-8"), format="nt")
            except Exception:  # a damaged cache entry is recomputed, never trusted
                pass
        import owlrl

        work = new_graph()
        for triple in self.ontology:
            work.add(triple)
        owlrl.DeductiveClosure(owlrl.OWLRL_Semantics, axiomatic_triples=False, datatype_axioms=False).expand(
            work
        )
        closed = new_graph()
        for triple in work:
            if not isinstance(triple[0], Literal):  # owlrl's "literal sameAs itself" noise
                closed.add(triple)
        payload = serialize_ntriples_sorted(closed).encode("utf-8")
        if b"<file:" not in payload:
            write_cached(key, payload)
        return closed

    @cached_property
    def transitive_properties(self) -> set[Node]:
        """Transitive properties and their sub-properties (whose triples feed the transitive chain)."""
        found = set(self.ontology.subjects(RDF.type, OWL.TransitiveProperty))
        for prop in list(found):
            found |= set(self.ontology.transitive_subjects(RDFS.subPropertyOf, prop))
        return found

    # ------------------------------------------------------------------ questions about the data
    def described(self, node: Node) -> bool:
        """Whether ontology or data say anything about ``node`` (it is the subject of an asserted triple)."""
        return (node, None, None) in self.asserted

    @cached_property
    def index(self):
        """The gate's index of the snapshot (:mod:`kgtool.gate_index`)."""
        from .gate_index import GateIndex

        return GateIndex.open(self.snapshot)

    def entities_from(self, prefix: str) -> list[URIRef]:
        """The IRIs starting with ``prefix`` that something is said about, in order."""
        return [URIRef(s[1:-1]) for s in self.index.subjects_from(f"<{prefix}")]

    @cached_property
    def entities(self) -> set[URIRef]:
        """Every IRI of the instance namespace that something is said about."""
        return set(self.entities_from(INSTANCE_BASE))

    @cached_property
    def kinds(self) -> set[str]:
        return {str(s)[len(INSTANCE_BASE) :].split("/", 1)[0] for s in self.entities}

    def same_names(self, names: set[str]) -> dict[str, set[URIRef]]:
        """The entities with a label or alternative label whose normal form (references.normalize_label)
        is one of ``names``."""
        return {name: {URIRef(s) for s in found} for name, found in self.index.names(names).items()}


def project_digest(project: Project) -> str:
    """Changes with the ontology, the shapes or any data file: how a merge knows that data/ moved."""
    return inputs_key([*project.source_files, project.shapes_file], salt="contribution")


def load_existing(project: Project) -> Existing:
    return Existing(project)


# ---------------------------------------------------------------------------- terms
def nt(term: Node) -> str:
    """An rdflib term as an N-Triples term, as Oxigraph writes it (and parses it from Turtle)."""
    import pyoxigraph as ox

    if isinstance(term, URIRef):
        return f"<{term}>"
    if isinstance(term, BNode):
        return f"_:{term}"
    if isinstance(term, Literal):
        if term.language:
            return str(ox.Literal(str(term), language=term.language))
        if term.datatype is not None:
            return str(ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype))))
        return str(ox.Literal(str(term)))
    raise TypeError(f"not an RDF term: {term!r}")


class Terms:
    """rdflib terms <-> N-Triples strings (the terms of :mod:`kgtool.rules` and :mod:`kgtool.shapes_fast`),
    remembering the rdflib term each string came from, so the contribution's terms come back as they were."""

    def __init__(self) -> None:
        self.back: dict[str, Node] = {}

    def nt(self, term: Node) -> str:
        text = nt(term)
        self.back.setdefault(text, term)
        return text

    def triple(self, triple) -> tuple[str, str, str]:
        s, p, o = triple
        return self.nt(s), self.nt(p), self.nt(o)

    def rdflib_triple(self, triple: tuple[str, str, str]) -> tuple[Node, Node, Node]:
        return self.term(triple[0]), self.term(triple[1]), self.term(triple[2])

    def term(self, text: str) -> Node:
        found = self.back.get(text)
        if found is None:
            from .fastvalidate import to_term

            with quiet_rdflib():
                found = self.back[text] = to_rdflib(to_term(text))
        return found


class _GraphMethods:
    """The rdflib ``Graph`` calls the gate makes, over ``triples``."""

    def triples(self, pattern):  # pragma: no cover - overridden
        raise NotImplementedError

    def __contains__(self, triple) -> bool:
        return any(True for _ in self.triples(triple))

    def __iter__(self):
        return self.triples((None, None, None))

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __bool__(self) -> bool:  # never count the triples just to be truthy
        return True

    def objects(self, subject: Node | None = None, predicate: Node | None = None):
        for _s, _p, o in self.triples((subject, predicate, None)):
            yield o

    def subjects(self, predicate: Node | None = None, object: Node | None = None):  # rdflib's names
        for s, _p, _o in self.triples((None, predicate, object)):
            yield s

    def subject_objects(self, predicate: Node | None = None):
        for s, _p, o in self.triples((None, predicate, None)):
            yield s, o


def _matches(triple, p: Node | None, o: Node | None) -> bool:
    return (p is None or triple[1] == p) and (o is None or triple[2] == o)


class AssertedGraph(_GraphMethods):
    """Ontology + data, read from the snapshot's ``asserted.nt`` (terms exactly as the files have them),
    the triples of a subject loaded when first asked for, found by the gate's index
    (:mod:`kgtool.gate_index`): :meth:`load` reads those of many subjects at once, so callers name the
    subjects they will ask about first. Patterns without a subject find their subjects in the store."""

    def __init__(self, existing: Existing) -> None:
        self.existing = existing
        self.terms = Terms()
        self.by_subject: dict[str, list[tuple[Node, Node, Node]]] = {}
        self.complete = False

    def load(self, subjects) -> None:
        """Read the asserted triples of these subjects (N-Triples strings) not read yet."""
        wanted = {s for s in subjects if s[0] in "<_" and s not in self.by_subject}
        if self.complete or not wanted:
            return
        lines = self.existing.index.lines(wanted)
        for subject in wanted:
            self.by_subject[subject] = []
        self._add(lines)

    def load_all(self) -> None:
        if not self.complete:
            self.by_subject = {}
            self._add(self.existing.snapshot.asserted_file.read_bytes())
            self.complete = True

    def _add(self, data: bytes) -> None:
        import pyoxigraph as ox

        back = self.terms.back
        with quiet_rdflib():
            for t in ox.parse(data, format=ox.RdfFormat.N_TRIPLES):
                key = str(t.subject)
                triple = []
                for term in (t.subject, t.predicate, t.object):
                    text = str(term)
                    if text not in back:
                        back[text] = to_rdflib(term)
                    triple.append(back[text])
                self.by_subject.setdefault(key, []).append(tuple(triple))

    def triples(self, pattern):
        s, p, o = pattern
        if isinstance(s, Literal) or (p is not None and not isinstance(p, URIRef)):
            return
        if s is not None:
            keys = [self.terms.nt(s)]
            self.load(keys)
        else:
            keys = self._subjects_for(p, o)
        for key in keys:
            for triple in self.by_subject.get(key, ()):
                if _matches(triple, p, o):
                    yield triple

    def _subjects_for(self, p: Node | None, o: Node | None) -> list[str]:
        if self.complete or (p is None and o is None) or isinstance(o, BNode):
            self.load_all()
            return sorted(self.by_subject)
        from .fastvalidate import to_term

        store = self.existing.store
        found = {str(q.subject) for q in store.quads_for_pattern(
            None, to_term(self.terms.nt(p)) if p is not None else None,
            to_term(self.terms.nt(o)) if o is not None else None, None)}
        if any(key.startswith("_:") for key in found):  # the store's blank-node labels are not the file's
            self.load_all()
            return sorted(self.by_subject)
        self.load(found)
        return sorted(found)

    def is_asserted(self, subject: str, predicate: str, obj: str) -> bool:
        """Whether a triple of the store (N-Triples strings, literals as the store keeps them) is one of
        these (else it is an inference)."""
        self.load([subject])
        triples = self.by_subject.get(subject, ())
        written = {(self.terms.nt(t[1]), self.terms.nt(t[2])) for t in triples}
        if (predicate, obj) in written:
            return True
        if obj[0] != '"':
            return False
        return any(q == predicate and o[0] == '"' and _stored_form(o) == obj for q, o in written)


_STORED: dict[str, str] = {}


def _stored_form(literal: str) -> str:
    """A literal (N-Triples) as an Oxigraph store keeps it ("1.50"^^xsd:decimal as "1.5")."""
    if literal not in _STORED:
        import pyoxigraph as ox

        from .fastvalidate import to_term

        store = ox.Store()
        store.add(ox.Quad(ox.NamedNode("urn:kgtool:s"), ox.NamedNode("urn:kgtool:p"), to_term(literal)))
        _STORED[literal] = next(str(q.object) for q in store)
    return _STORED[literal]


class InferredGraph(_GraphMethods):
    """The OWL RL inferences of ontology + data: the triples of the snapshot store that are not asserted
    (the reasoner keeps no inference about a blank node, so those are all asserted)."""

    def __init__(self, existing: Existing) -> None:
        self.existing = existing
        self.terms = Terms()

    def triples(self, pattern):
        s, p, o = pattern
        if isinstance(s, Literal) or (p is not None and not isinstance(p, URIRef)):
            return
        from .fastvalidate import exact_objects, to_term

        existing = self.existing
        terms, exact, asserted = self.terms, existing.exact, existing.asserted
        quads = [q for q in existing.store.quads_for_pattern(
            *(to_term(terms.nt(x)) if x is not None else None for x in (s, p, o)), None)
            if not str(q.subject).startswith("_:")]
        asserted.load({str(q.subject) for q in quads})
        for quad in quads:
            subject, predicate, obj = str(quad.subject), str(quad.predicate), str(quad.object)
            if asserted.is_asserted(subject, predicate, obj):
                continue
            objects = {obj}
            if obj[0] == '"' and (subject, predicate) in exact:
                objects = exact_objects(objects, exact[subject, predicate])
            for text in sorted(objects):
                triple = (terms.term(subject), terms.term(predicate), terms.term(text))
                if o is None or not isinstance(o, Literal) or triple[2] == o:
                    yield triple


# ---------------------------------------------------------------------------- inferences
def is_entity(node: Node) -> bool:
    return isinstance(node, URIRef) and str(node).startswith(INSTANCE_BASE)


def mentioned_entities(graph) -> set[URIRef]:
    return {n for s, p, o in graph for n in (s, o) if is_entity(n) and not (p == RDF.type and n == o)}


def new_inferences(existing: Existing, contribution: Graph) -> Graph:
    """The OWL RL inferences the contribution adds to those of the data.

    Exact: what the project's fast reasoner (:mod:`kgtool.rules`, equal to owlrl) derives from the
    contribution on top of the snapshot's closure. When the ontology uses an axiom that reasoner lacks,
    owlrl over a neighbourhood instead (:func:`neighbourhood_inferences`)."""
    from . import rules

    terms = Terms()
    added = [terms.triple(t) for t in contribution]
    if not existing.reasoner_suffices or rules.unsupported(added):
        return neighbourhood_inferences(existing, contribution)
    new = new_graph()
    for triple in closure_of(existing, added):
        new.add(tuple(terms.term(t) for t in triple))
    return new


def closure_of(existing: Existing, added: list[tuple[str, str, str]]) -> set[tuple[str, str, str]]:
    """The new inferences of ``added`` (N-Triples strings) over the snapshot's closure, incrementally."""
    found = incremental_closure(existing, added)
    return found.inferred() - set(added) if found is not None else set()


def incremental_closure(existing: Existing, added: list[tuple[str, str, str]]):
    """The fast reasoner run on ``added`` over the snapshot's closure (a :class:`kgtool.rules.Closure`), or
    None when the snapshot holds all of them already."""
    from . import rules

    base = existing.base
    fresh = [t for t in added if not base.has(*t)]
    if not fresh:
        return None
    return rules.Closure(fresh, base=base, tbox_facts=existing.tbox).run()


def neighbourhood_inferences(existing: Existing, contribution: Graph) -> Graph:
    """The contribution's new inferences by owlrl over a neighbourhood (see the module docstring for why
    one hop suffices)."""
    instances = new_graph()
    for triple in contribution:
        instances.add(triple)
    transitive = existing.transitive_properties
    for node in mentioned_entities(contribution):
        for source in (existing.asserted, existing.inferred):
            for triple in source.triples((node, None, None)):
                instances.add(triple)
            for predicate in transitive:  # x p node, node p y => x p y: the only rule reaching back
                for triple in source.triples((None, predicate, node)):
                    instances.add(triple)
    local = _schema_for(existing.closed_ontology, instances)
    for triple in instances:
        local.add(triple)
    new = new_graph()
    for triple in infer(local):
        if triple not in existing.asserted and triple not in existing.inferred and triple not in contribution:
            new.add(triple)
    return new


def _schema_for(closed: Graph, instances: Graph, hops: int = 3) -> Graph:
    """The axioms of the closed ontology about the terms the instance triples use, and about the terms
    those axioms name (superclasses, inverses, domains, ranges, union lists): all the rules need. The
    ontology is closed first, so hierarchies are already flat and a few hops reach every axiom."""
    selected = new_graph()
    frontier = set(instances.predicates()) | set(instances.objects(None, RDF.type))
    seen: set[Node] = set()
    for _ in range(hops):
        following: set[Node] = set()
        for term in frontier - seen:
            seen.add(term)
            for triple in closed.triples((term, None, None)):
                selected.add(triple)
                if not isinstance(triple[2], Literal):
                    following.add(triple[2])
            for triple in closed.triples((None, None, term)):
                if isinstance(triple[0], BNode):  # list cells and restrictions that name the term
                    selected.add(triple)
                    following.add(triple[0])
        frontier = following
    return selected


# ---------------------------------------------------------------------------- SHACL
def changed_types(existing: Existing, contribution: Graph, inferred: Graph) -> set[URIRef]:
    """Entities the contribution or its inferences give a class they did not have."""
    return {
        s
        for source in (contribution, inferred)
        for s in set(source.subjects(RDF.type))
        if is_entity(s)
        and any(not existing.known(t) for t in source.triples((s, RDF.type, None)))
    }


def shacl_caused(existing: Existing, contribution: Contribution, inferred: Graph) -> list[Finding]:
    """SHACL results the contribution causes, located in the contribution and labelled; and the
    disjointness it causes."""
    from .fastvalidate import touches_schema

    terms = Terms()
    added = [terms.triple(t) for t in contribution.graph]
    new = [terms.triple(t) for t in inferred]
    shapes = existing.fast_shapes
    if shapes is None or touches_schema(added):
        return _shacl_caused_by_pyshacl(existing, contribution, inferred)
    changed = changed_types(existing, contribution.graph, inferred)
    caused = [_locate(contribution, f) for f in _caused_fast(existing, shapes, terms, contribution, added, new)]
    return caused + _disjointness(existing, contribution, inferred, changed)


def _caused_fast(existing: Existing, shapes, terms: Terms, contribution: Contribution, added, new) -> list[Finding]:
    from .fastvalidate import focus_nodes, neighbourhood_stores, reverse_predicates, values_already_there
    from .shapes_fast import evaluate

    base = existing.base
    fresh = [t for t in added if not base.has(*t)]
    focus = focus_nodes(base, fresh, new)
    focus |= {t for s, p, o in added for t in ((s, o) if p != _TYPE else (s,)) if t[0] in "<_"}
    if not focus:
        return []
    before, after = neighbourhood_stores(base, focus, added, new, existing.exact, reverse_predicates(shapes), shapes)
    values = _ValueTerms(terms, added)
    seen = {_key(f) for f in _findings(evaluate(shapes, before), values)}
    results = evaluate(shapes, after)
    caused = [f for f in _findings(results, values) if _key(f) not in seen]
    return _named(values_already_there(caused, results, base), before, after, contribution)


def _named(findings: list[Finding], before, after, contribution: Contribution) -> list[Finding]:
    """Each finding with its entity's label as pySHACL's run on the merged graph reads it: the English label
    first, else any; the data's labels before the contribution's, the contribution's in the file's order."""
    if not findings:
        return findings
    old, new = before.values(_LABEL, False), after.values(_LABEL, False)
    contributed: dict[str, list] = {}
    for (s, p, o), _where in sorted(contribution.origin.items(), key=lambda item: item[1]):
        if p == RDFS.label:
            contributed.setdefault(f"<{s}>" if isinstance(s, URIRef) else f"_:{s}", []).append(o)
    out = []
    for finding in findings:
        focus = f"<{finding.focus}>" if not finding.focus.startswith("_:") else finding.focus
        labels = [*old.get(focus, []), *contributed.get(focus, []), *new.get(focus, [])]
        out.append(replace(finding, focus_label=_first_label(labels)))
    return out


def _first_label(labels: list) -> str:
    fallback = ""
    for label in labels:
        if isinstance(label, Node):  # the contribution's, in rdflib
            language, text = (label.language if isinstance(label, Literal) else None), str(label)
        else:  # a store's
            language, text = getattr(label, "language", None), label.value
        if (language or "").startswith("en"):
            return text
        fallback = fallback or text
    return fallback


_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
_LABEL = "<http://www.w3.org/2000/01/rdf-schema#label>"


class _ValueTerms:
    """A result's value as the rdflib term the contribution or the data has (the store may have
    normalised a literal): its ``n3()`` is what pySHACL's results show."""

    def __init__(self, terms: Terms, added) -> None:
        self.terms = terms
        self.literals = sorted({o for _s, _p, o in added if o[0] == '"'})
        self._stored: dict[str, str] | None = None

    def n3(self, value) -> str:
        text = str(value)
        if text[0] == '"' and text not in self.terms.back:
            text = self.stored().get(text, text)
        return self.terms.term(text).n3()

    def stored(self) -> dict[str, str]:
        """The contribution's literals by the form a store keeps them in."""
        if self._stored is None:
            import pyoxigraph as ox

            from .fastvalidate import to_term

            store = ox.Store()
            subject, predicate = ox.NamedNode("urn:kgtool:value"), ox.NamedNode("urn:kgtool:is")
            self._stored = {}
            for literal in self.literals:
                store.clear()
                store.add(ox.Quad(subject, predicate, to_term(literal)))
                for quad in store:
                    self._stored.setdefault(str(quad.object), literal)
        return self._stored


def _findings(results, values: _ValueTerms) -> list[Finding]:
    from .fastvalidate import _plain

    out = set()
    for result in results:
        shape = result.shape
        focus = str(result.focus)
        value = result.value
        out.add(Finding(
            severity=shape.severity,
            message=result.message if result.message is not None else shape.message,
            focus=_plain(focus),
            path=result.path,
            value="" if value is None or str(value) == focus else values.n3(value),
            source_shape=_plain(shape.node),
        ))
    return sorted(out, key=lambda f: (f.focus, f.path, f.message, f.value))


def _shacl_caused_by_pyshacl(existing: Existing, contribution: Contribution, inferred: Graph) -> list[Finding]:
    """The same with pySHACL over the whole graph, before and after, for shapes :mod:`kgtool.shapes_fast`
    cannot evaluate on a neighbourhood: exact, but the whole graph is loaded into rdflib (minutes at a
    million triples). Not restricted to some focus nodes: pySHACL's focus-node mode skips the members of
    sh:or (and the like) on value nodes, so it misses results a full run has."""
    graph = new_graph()
    for source in (existing.asserted, existing.inferred, contribution.graph, inferred):
        for triple in source:
            graph.add(triple)
    after = _pyshacl(graph, existing.shapes)
    seen = {_key(f) for f in _pyshacl_before(existing)}
    caused = [_locate(contribution, f) for f in after if _key(f) not in seen]
    changed = changed_types(existing, contribution.graph, inferred)
    return caused + _disjointness(existing, contribution, inferred, changed)


def _pyshacl_before(existing: Existing) -> list[Finding]:
    found = existing.__dict__.get("_pyshacl_before")
    if found is None:
        graph = new_graph()
        for source in (existing.asserted, existing.inferred):
            for triple in source:
                graph.add(triple)
        found = existing.__dict__["_pyshacl_before"] = _pyshacl(graph, existing.shapes)
    return found


def _pyshacl(graph: Graph, shapes: Graph) -> list[Finding]:
    from .validate import shacl_findings

    return shacl_findings(graph, shapes, inplace=True)[0]


def _key(finding: Finding) -> tuple[str, ...]:
    return (
        finding.severity,
        finding.message,
        finding.focus,
        finding.path,
        finding.value,
        finding.source_shape,
    )


def _locate(contribution: Contribution, finding: Finding) -> Finding:
    focus = URIRef(finding.focus) if finding.focus and not finding.focus.startswith("_:") else None
    path = URIRef(finding.path) if finding.path else None
    value = (
        next(
            (o for _s, _p, o in contribution.graph.triples((focus, path, None)) if o.n3() == finding.value),
            None,
        )
        if focus is not None
        else None
    )
    file, line = contribution.where(focus, path, value) if focus is not None else ("", None)
    return replace(finding, stage="shacl", file=file, line=line)


def _disjointness(
    existing: Existing, contribution: Contribution, inferred: Graph, changed: set[URIRef]
) -> list[Finding]:
    """An entity the contribution puts in two classes the ontology declares disjoint."""
    findings = []
    pairs = {(a, b) for a, b in existing.ontology.subject_objects(OWL.disjointWith)}
    if not pairs:
        return findings
    for node in sorted(changed):
        old_types = existing.types(node)
        types = old_types | set(contribution.graph.objects(node, RDF.type)) | set(inferred.objects(node, RDF.type))
        for a, b in sorted(pairs):
            if a in types and b in types and not (a in old_types and b in old_types):
                file, line = contribution.where(node, RDF.type)
                findings.append(
                    Finding(
                        "Violation",
                        f"cannot be both a {shorten(str(a))} and a {shorten(str(b))}: the ontology says "
                        "nothing is both",
                        focus=str(node),
                        path=str(RDF.type),
                        stage="ontology",
                        file=file,
                        line=line,
                    )
                )
    return findings
