"""The contribution in the context of the data already there: the project's state (:class:`Existing`),
the contribution's new OWL RL inferences, SHACL and disjointness. (References and duplicates:
:mod:`kgtool.references`.)

**What the contribution causes.** SHACL runs twice over the same graph, ontology + data + OWL RL closure:
once as it is, once with the contribution and its new inferences added, both times on the same focus
nodes, and only the results of the second run that the first did not have are kept. So a problem the data
already had is never blamed on the contribution, and one the contribution creates on an existing entity
(a second Confucius Institute partnership, an organization now also typed a person) is.

The focus nodes are every entity the contribution mentions or the new inferences mention, plus, for each
of those whose classes change, the entities that link to it (their ``sh:class`` checks read those
classes). The shapes only look at a focus node's own values, its values' classes and the links into it
(``sh:inversePath``), so results for any other node cannot change. (pySHACL parses a SPARQL constraint
again for every focus node, about 25 ms each: hence the cap on a contribution's size.)

**New inferences** are the closure of ontology + data + contribution by the project's fast OWL RL
reasoner (:mod:`kgtool.rules`, equal to owlrl), minus the data's own closure: exact, in milliseconds.
Should the ontology ever use an axiom that reasoner lacks, they come from owlrl over a neighbourhood
instead: every asserted or inferred triple about an entity the contribution mentions, the triples of
transitive properties that lead into one, the contribution itself, and the axioms of the (closed, cached)
ontology about the terms these use. The cached closure of the data is complete, so this neighbourhood
holds every premise the ontology's rules (domain, range, subclass, subproperty, inverse, symmetric,
transitive, functional) need. A test checks both ways against owlrl over the whole graph.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

from rdflib import OWL, RDF, RDFS, BNode, Graph, Literal, URIRef
from rdflib.term import Node

from .closure import inputs_key, read_cached, write_cached
from .graphs import inferred_triples, load_asserted, serialize_ntriples_sorted
from .loading import new_graph, parse_files
from .namespaces import INSTANCE_BASE, shorten
from .project import Project
from .reason import infer
from .report import Finding
from .strict_turtle import Contribution
from .validate import shacl_findings
from .vocabulary import Vocabulary


class Existing:
    """The project as it is now, each part loaded when first needed (a contribution refused for its policy
    never waits for the closure): ontology + data (asserted), their cached closure, shapes, vocabulary.

    The digest is taken first, so data read later can only be newer than it: a merge that compares
    digests under its lock then checks again rather than trusting a stale check.
    """

    def __init__(self, project: Project) -> None:
        self.project = project
        self.digest = project_digest(project)
        self.digest_of_ontology = inputs_key([project.ontology_file], salt="ontology-closure")

    @cached_property
    def asserted(self) -> Graph:
        return load_asserted(self.project)

    @cached_property
    def inferred(self) -> Graph:
        return inferred_triples(self.project, self.asserted)

    @cached_property
    def ontology(self) -> Graph:
        return parse_files([self.project.ontology_file])

    @cached_property
    def shapes(self) -> Graph:
        return parse_files([self.project.shapes_file])

    @cached_property
    def asserted_n3(self) -> list[tuple[str, str, str]]:
        return [(s.n3(), p.n3(), o.n3()) for s, p, o in self.asserted]

    @cached_property
    def inferred_n3(self) -> set[tuple[str, str, str]]:
        return {(s.n3(), p.n3(), o.n3()) for s, p, o in self.inferred}

    @cached_property
    def terms_by_n3(self) -> dict[str, Node]:
        return {
            term.n3(): term for graph in (self.asserted, self.inferred) for triple in graph for term in triple
        }

    @cached_property
    def vocabulary(self) -> Vocabulary:
        return Vocabulary.from_ontology(self.ontology)

    @cached_property
    def entities(self) -> set[URIRef]:
        """Every IRI of the instance namespace that something is said about."""
        return {
            s for s in self.asserted.subjects() if isinstance(s, URIRef) and str(s).startswith(INSTANCE_BASE)
        }

    @cached_property
    def closed_ontology(self) -> Graph:
        """The ontology with its own OWL RL closure (schema included), cached like the data's closure."""
        key = self.digest_of_ontology
        cached = read_cached(key)
        if cached is not None:
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
        write_cached(key, serialize_ntriples_sorted(closed).encode("utf-8"))
        return closed

    @cached_property
    def transitive_properties(self) -> set[Node]:
        """Transitive properties and their sub-properties (whose triples feed the transitive chain)."""
        found = set(self.ontology.subjects(RDF.type, OWL.TransitiveProperty))
        for prop in list(found):
            found |= set(self.ontology.transitive_subjects(RDFS.subPropertyOf, prop))
        return found

    @cached_property
    def kinds(self) -> set[str]:
        return {str(s)[len(INSTANCE_BASE) :].split("/", 1)[0] for s in self.entities}


def project_digest(project: Project) -> str:
    """Changes with the ontology, the shapes or any data file: how a merge knows that data/ moved."""
    return inputs_key([*project.source_files, project.shapes_file], salt="contribution")


def load_existing(project: Project) -> Existing:
    return Existing(project)


def is_entity(node: Node) -> bool:
    return isinstance(node, URIRef) and str(node).startswith(INSTANCE_BASE)


def mentioned_entities(graph: Graph) -> set[URIRef]:
    return {n for s, p, o in graph for n in (s, o) if is_entity(n) and not (p == RDF.type and n == o)}


def new_inferences(existing: Existing, contribution: Graph) -> Graph:
    """The OWL RL inferences the contribution adds to those of the data.

    Exact: the closure of ontology + data + contribution by the project's fast reasoner (:mod:`kgtool.rules`,
    equal to owlrl), minus the data's own closure. When the ontology uses an axiom that reasoner lacks,
    owlrl over a neighbourhood instead (:func:`neighbourhood_inferences`)."""
    from . import rules

    added = [(s.n3(), p.n3(), o.n3()) for s, p, o in contribution]
    triples = existing.asserted_n3 + added
    if rules.unsupported(triples):
        return neighbourhood_inferences(existing, contribution)
    terms = existing.terms_by_n3 | {term.n3(): term for triple in contribution for term in triple}
    new = new_graph()
    for triple in rules.infer(triples) - existing.inferred_n3 - set(added):
        new.add(tuple(terms[t] for t in triple))  # the reasoner only recombines terms it was given
    return new


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


@dataclass
class Context:
    """The graph SHACL sees, before and after the contribution, and the focus nodes."""

    graph: Graph
    focus: list[URIRef]
    changed_types: set[URIRef]


def _focus(existing: Existing, contribution: Graph, inferred: Graph, graph: Graph) -> Context:
    nodes = mentioned_entities(contribution) | mentioned_entities(inferred)
    changed = {
        s
        for source in (contribution, inferred)
        for s in source.subjects(RDF.type)
        if is_entity(s)
        and any(
            t not in existing.asserted and t not in existing.inferred
            for t in source.triples((s, RDF.type, None))
        )
    }
    for node in changed:
        nodes |= {s for s in graph.subjects(None, node) if is_entity(s)}
    return Context(graph, sorted(nodes), changed)


def shacl_caused(existing: Existing, contribution: Contribution, inferred: Graph) -> list[Finding]:
    """SHACL results the contribution causes, located in the contribution and labelled."""
    graph = new_graph()
    for source in (existing.asserted, existing.inferred):
        for triple in source:
            graph.add(triple)
    context = _focus(existing, contribution.graph, inferred, graph)
    if not context.focus:
        return []
    present = [n for n in context.focus if (n, None, None) in graph or (None, None, n) in graph]
    before: list[Finding] = []
    if present:  # entities new with the contribution had no results before it
        before, _ = shacl_findings(graph, existing.shapes, focus_nodes=present, inplace=True)
    before_types = {n: set(graph.objects(n, RDF.type)) for n in context.changed_types}
    for source in (contribution.graph, inferred):
        for triple in source:
            graph.add(triple)
    after, _ = shacl_findings(graph, existing.shapes, focus_nodes=context.focus, inplace=True)
    seen = {_key(f) for f in before}
    caused = [_locate(contribution, f) for f in after if _key(f) not in seen]
    return caused + _disjointness(existing, contribution, graph, before_types)


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
    existing: Existing, contribution: Contribution, graph: Graph, before: dict[URIRef, set[Node]]
) -> list[Finding]:
    """An entity the contribution puts in two classes the ontology declares disjoint."""
    findings = []
    pairs = {(a, b) for a, b in existing.ontology.subject_objects(OWL.disjointWith)}
    for node, old_types in sorted(before.items()):
        types = set(graph.objects(node, RDF.type))
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
