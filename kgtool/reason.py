"""OWL RL reasoning: the inferred triples, apart from the asserted ones.

The closure is computed on a copy (owlrl's ``expand`` mutates the graph it is given); the caller's graph
is never changed and nothing is written to ``data/``. Noise that owlrl adds but nobody asked for is
stripped: inferences about the schema itself (domains and ranges widened to superclasses),
axiomatic triples about the RDF/OWL/XSD vocabularies, ``x owl:sameAs x``, ``x rdf:type
rdfs:Resource``/``owl:Thing``, and triples with literal or blank subjects.
"""

from __future__ import annotations

from rdflib import OWL, RDF, RDFS, BNode, Graph, Literal, URIRef

from .loading import new_graph

_NOISE_NAMESPACES = (
    str(RDF), str(RDFS), str(OWL), "http://www.w3.org/2001/XMLSchema#",
)
_TRIVIAL_TYPES = {RDFS.Resource, OWL.Thing, RDFS.Class, OWL.Class, RDF.Property, RDFS.Datatype,
                  OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty, OWL.NamedIndividual}
_SCHEMA_TYPES = {OWL.Class, RDFS.Class, RDF.Property, OWL.ObjectProperty, OWL.DatatypeProperty,
                 OWL.AnnotationProperty, OWL.TransitiveProperty, OWL.SymmetricProperty,
                 OWL.FunctionalProperty, OWL.InverseFunctionalProperty, OWL.Ontology, RDFS.Datatype}
_TRIVIAL_PREDICATES = {OWL.sameAs, OWL.equivalentClass, OWL.equivalentProperty, RDFS.subClassOf,
                       RDFS.subPropertyOf, OWL.differentFrom}


def infer(asserted: Graph) -> Graph:
    """Return the OWL RL inferences of ``asserted`` (ontology + data) that add information."""
    import owlrl  # imported here: only reasoning needs it

    work = Graph()
    for triple in asserted:
        work.add(triple)
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics, axiomatic_triples=False, datatype_axioms=False).expand(work)
    schema_terms = {s for s, o in work.subject_objects(RDF.type) if o in _SCHEMA_TYPES}
    inferred = new_graph()
    for s, p, o in work:
        if (s, p, o) in asserted or s in schema_terms or _is_noise(s, p, o):
            continue
        inferred.add((s, p, o))
    return inferred


def _is_noise(s: object, p: object, o: object) -> bool:
    if isinstance(s, (Literal, BNode)):
        return True
    if p in _TRIVIAL_PREDICATES:
        return True
    if p == RDF.type and o in _TRIVIAL_TYPES:
        return True
    if isinstance(s, URIRef) and str(s).startswith(_NOISE_NAMESPACES):
        return True
    return isinstance(o, URIRef) and p == RDF.type and str(o).startswith(_NOISE_NAMESPACES)
