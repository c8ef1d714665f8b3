"""The dataset described in VoID, so that catalogues and SPARQL endpoints can list it.

The dataset is the data (``data/*.ttl``); the ontology is its vocabulary. Counts are of asserted
triples, the same that ``kgtool export --data-only`` writes. Class partitions count the instances of each
class the data uses and of each project class above them (from ``rdfs:subClassOf`` in the ontology, so
``kzcn:Actor`` counts people, organizations and places). Partitions and linksets get IRIs under
``https://w3id.org/kzcn/dataset/`` rather than blank nodes, so they can be referred to. No SPARQL endpoint
or dump URL is given: none is published.
"""

from __future__ import annotations

from collections import Counter

from rdflib import RDF, XSD, BNode, Graph, Literal, Namespace, URIRef

from .hierarchy import superclasses
from .namespaces import BASE, INSTANCE_BASE, ONTOLOGY, PREFIXES, shorten
from .project import Project

VOID = Namespace("http://rdfs.org/ns/void#")
DCTERMS = Namespace(PREFIXES["dcterms"])
DATASET = URIRef(BASE + "dataset")
TITLE = "Kazakhstan–China cultural relations knowledge graph"
DESCRIPTION = ("The actors, agreements, cultural events, partnerships, education programmes, works, "
               "initiatives and figures of the cultural relations between Kazakhstan and China (with "
               "Xinjiang as the bridge and the Belt and Road as the frame), each fact with the article that "
               "states it.")
EXAMPLES = ("organization/confucius-institute-at-enu", "place/almaty", "initiative/belt-and-road-initiative",
            "agreement/1992-08-10-cultural-cooperation-kz-cn")


def describe_dataset(project: Project) -> Graph:
    """A VoID description of the project's data as an rdflib graph."""
    from .loading import parse_files

    data = parse_files(project.data_files)
    ontology = parse_files([project.ontology_file])
    void = Graph()
    void.bind("void", VOID)
    void.bind("dcterms", DCTERMS)
    for prefix in ("kzcn", "xsd", "rdfs", "owl"):
        void.bind(prefix, PREFIXES[prefix])
    d = DATASET
    void.add((d, RDF.type, VOID.Dataset))
    void.add((d, DCTERMS.title, Literal(TITLE, lang="en")))
    void.add((d, DCTERMS.description, Literal(DESCRIPTION, lang="en")))
    license_ = ontology.value(URIRef(ONTOLOGY.rstrip("#")), DCTERMS.license)
    if license_ is not None:
        void.add((d, DCTERMS.license, license_))
    for article in sorted(data.subjects(RDF.type, URIRef(ONTOLOGY + "Article"))):
        void.add((d, DCTERMS.source, article))
    void.add((d, VOID.uriSpace, Literal(INSTANCE_BASE)))
    void.add((d, VOID.feature, URIRef("http://www.w3.org/ns/formats/Turtle")))
    _counts(void, data)
    _vocabularies(void, data)
    _class_partitions(void, data, superclasses(ontology))
    _property_partitions(void, data)
    _linksets(void, data)
    for example in EXAMPLES:
        iri = URIRef(INSTANCE_BASE + example)
        if (iri, None, None) in data:
            void.add((d, VOID.exampleResource, iri))
    return void


def render_void(project: Project) -> str:
    from .export import serialize

    return serialize(describe_dataset(project), "ttl")


def _int(value: int) -> Literal:
    return Literal(value, datatype=XSD.integer)


def _counts(void: Graph, data: Graph) -> None:
    subjects = {s for s in data.subjects()}
    entities = {s for s in subjects if isinstance(s, URIRef) and str(s).startswith(INSTANCE_BASE)}
    void.add((DATASET, VOID.triples, _int(len(data))))
    void.add((DATASET, VOID.entities, _int(len(entities))))
    void.add((DATASET, VOID.distinctSubjects, _int(len(subjects))))
    void.add((DATASET, VOID.distinctObjects, _int(len(set(data.objects())))))
    void.add((DATASET, VOID.properties, _int(len(set(data.predicates())))))
    void.add((DATASET, VOID.classes, _int(len(set(data.objects(None, RDF.type))))))


def _namespace(iri: str) -> str:
    cut = max(iri.rfind("#"), iri.rfind("/"))
    return iri[: cut + 1]


def _vocabularies(void: Graph, data: Graph) -> None:
    used = {_namespace(str(p)) for p in data.predicates()}
    used |= {_namespace(str(c)) for c in data.objects(None, RDF.type) if isinstance(c, URIRef)}
    for namespace in sorted(used):  # the project ontology by its own IRI, others by namespace
        vocabulary = namespace.rstrip("#") if namespace == ONTOLOGY else namespace
        void.add((DATASET, VOID.vocabulary, URIRef(vocabulary)))


def _slug(iri: str) -> str:
    return shorten(iri).replace(":", "-").strip("<>").replace("/", "-")


def _class_partitions(void: Graph, data: Graph, supers: dict) -> None:
    members: dict[URIRef, set] = {}
    for entity, cls in data.subject_objects(RDF.type):
        if not isinstance(cls, URIRef):
            continue
        for above in supers.get(cls, {cls}):
            if above == cls or str(above).startswith(ONTOLOGY):
                members.setdefault(above, set()).add(entity)
    for cls in sorted(members):
        part = URIRef(f"{DATASET}/class/{_slug(str(cls))}")
        void.add((DATASET, VOID.classPartition, part))
        void.add((part, VOID["class"], cls))
        void.add((part, VOID.entities, _int(len(members[cls]))))


def _property_partitions(void: Graph, data: Graph) -> None:
    counts = Counter(data.predicates())
    for prop in sorted(counts):
        part = URIRef(f"{DATASET}/property/{_slug(str(prop))}")
        void.add((DATASET, VOID.propertyPartition, part))
        void.add((part, VOID.property, prop))
        void.add((part, VOID.triples, _int(counts[prop])))


def _linksets(void: Graph, data: Graph) -> None:
    """Links out: triples whose object is an IRI of another dataset (not a vocabulary term), per site."""
    vocabularies = set(PREFIXES.values())
    links: Counter = Counter()
    for s, p, o in data:
        if p == RDF.type or not isinstance(o, URIRef) or isinstance(s, BNode):
            continue
        target = str(o)
        if target.startswith(BASE) or _namespace(target) in vocabularies or "://" not in target:
            continue
        links[(p, "/".join(target.split("/")[:3]) + "/")] += 1
    for (prop, site), count in sorted(links.items()):
        linkset = URIRef(f"{DATASET}/links/{_slug(str(prop))}/{site.split('://')[1].strip('/')}")
        void.add((DATASET, VOID.subset, linkset))
        void.add((linkset, RDF.type, VOID.Linkset))
        void.add((linkset, VOID.subjectsTarget, DATASET))
        void.add((linkset, VOID.objectsTarget, URIRef(site)))
        void.add((linkset, VOID.linkPredicate, prop))
        void.add((linkset, VOID.triples, _int(count)))
