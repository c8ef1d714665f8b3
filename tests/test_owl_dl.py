"""The ontology is OWL 2 DL: Protégé with HermiT or Pellet, and ROBOT's ``validate-profile --profile DL``,
load it as it is. The OWL RL pipeline takes any triples, so nothing else here would notice if it were not.

Four checks:

- :func:`dl_problems`, a structural check of the OWL 2 DL restrictions (OWL 2 structural specification,
  sections 2.4, 5, 9 and 11) on the constructs the ontology uses: every class, property and datatype used in
  an axiom declared, with one kind; sub-properties, inverses and chains of one kind; ranges of their kind;
  datatypes from the OWL 2 datatype map only; simple properties where OWL 2 DL wants them; a regular
  property hierarchy. A construct it does not know is reported too, so that a new kind of axiom is looked
  at before it ships. It always runs, and a test shows it finds each problem it checks for.
- HermiT (bundled in owlready2, run with Java) loads and classifies the ontology, with the disjointness
  axioms of PROV-O and FOAF that bear on its alignments: it refuses datatypes outside the OWL 2 datatype
  map and inconsistent ontologies, and reports unsatisfiable classes.
- HermiT finds the ontology and the data together consistent (the data's xsd:gYear and xsd:gYearMonth
  values set aside: they are outside OWL 2 DL's datatypes).
- OWL API's OWL2DLProfile, the profile check behind ROBOT's ``validate-profile``, as Pellet's ``info``
  command (also bundled in owlready2) runs it: OWL API 3.4.3, older than ROBOT's, and lenient about
  ``xsd:`` datatypes outside the map, which the two checks above cover.

The last three skip, with the reason, where there is no ``java`` (``.ci/run`` installs a JRE) or no owlready2
(the ``test`` extra installs it).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest
from rdflib import OWL, RDF, RDFS, BNode, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection

from helpers import REPO

ONTOLOGY_FILE = REPO / "ontology" / "kzcn.ttl"
KZCN = Namespace("https://w3id.org/kzcn/ontology#")
PROV = Namespace("http://www.w3.org/ns/prov#")
FOAF = Namespace("http://xmlns.com/foaf/0.1/")
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")  # not rdflib's XSD, which warns when pytest looks into it

# ------------------------------------------------------------------------------------ the structural check
#: The OWL 2 datatype map (structural specification, section 4), with rdfs:Literal.
DATATYPE_MAP = frozenset({
    RDFS.Literal, RDF.PlainLiteral, RDF.XMLLiteral, OWL.real, OWL.rational,
    *(XSD[name] for name in (
        "decimal", "integer", "nonNegativeInteger", "nonPositiveInteger", "positiveInteger", "negativeInteger",
        "long", "int", "short", "byte", "unsignedLong", "unsignedInt", "unsignedShort", "unsignedByte",
        "double", "float", "string", "normalizedString", "token", "language", "Name", "NCName", "NMTOKEN",
        "boolean", "hexBinary", "base64Binary", "anyURI", "dateTime", "dateTimeStamp")),
})
#: The reserved vocabulary (section 2.4): no class, property or datatype of one's own in these namespaces.
RESERVED = tuple(str(ns) for ns in (RDF, RDFS, OWL, XSD))

CLASS, OBJECT, DATA, ANNOTATION, DATATYPE = "class", "object property", "datatype property", \
    "annotation property", "datatype"
DECLARATIONS = {OWL.Class: CLASS, OWL.ObjectProperty: OBJECT, OWL.DatatypeProperty: DATA,
                OWL.AnnotationProperty: ANNOTATION, RDFS.Datatype: DATATYPE}
BUILT_IN = {
    OWL.Thing: CLASS, OWL.Nothing: CLASS,
    OWL.topObjectProperty: OBJECT, OWL.bottomObjectProperty: OBJECT,
    OWL.topDataProperty: DATA, OWL.bottomDataProperty: DATA,
    **{p: ANNOTATION for p in (RDFS.label, RDFS.comment, RDFS.seeAlso, RDFS.isDefinedBy, OWL.versionInfo,
                               OWL.deprecated, OWL.priorVersion, OWL.backwardCompatibleWith,
                               OWL.incompatibleWith)},
    **dict.fromkeys(DATATYPE_MAP, DATATYPE),
}
#: Characteristics only an object property can have, and those OWL 2 DL allows on simple ones only.
OBJECT_ONLY = {OWL.TransitiveProperty, OWL.SymmetricProperty, OWL.AsymmetricProperty, OWL.ReflexiveProperty,
               OWL.IrreflexiveProperty, OWL.InverseFunctionalProperty}
SIMPLE_ONLY = {OWL.FunctionalProperty, OWL.InverseFunctionalProperty, OWL.IrreflexiveProperty,
               OWL.AsymmetricProperty}
CARDINALITIES = {OWL.cardinality, OWL.minCardinality, OWL.maxCardinality, OWL.qualifiedCardinality,
                 OWL.minQualifiedCardinality, OWL.maxQualifiedCardinality}
CLASS_AXIOMS = {RDFS.subClassOf, OWL.equivalentClass, OWL.disjointWith}
PROPERTY_AXIOMS = {RDFS.subPropertyOf, OWL.equivalentProperty, OWL.propertyDisjointWith}
LIST_PREDICATES = {RDF.first, RDF.rest}


def dl_problems(graph: Graph) -> list[str]:
    """What keeps ``graph`` (an ontology, without its imports) from being OWL 2 DL, one line each."""
    return _Checker(graph).run()


class _Checker:
    def __init__(self, graph: Graph) -> None:
        self.g = graph
        self.problems: set[str] = set()
        self.kinds: dict[URIRef, set[str]] = defaultdict(set)
        for term, kind in graph.subject_objects(RDF.type):
            if kind in DECLARATIONS and isinstance(term, URIRef):  # a blank owl:Class is a class expression
                self.kinds[term].add(DECLARATIONS[kind])
        self.annotation_properties = {p for p, kinds in self.kinds.items() if ANNOTATION in kinds} | {
            p for p, kind in BUILT_IN.items() if kind == ANNOTATION}
        self.expressions: set[BNode] = set()  # blank class expressions reached from an axiom
        self.cardinality_properties: set[URIRef] = set()  # object properties in cardinality restrictions
        self.undeclared_annotations: dict[URIRef, list[str]] = defaultdict(list)  # predicate -> its triples

    def n(self, term: object) -> str:
        return term.n3(self.g.namespace_manager) if isinstance(term, (URIRef, Literal)) else "a blank node"

    def run(self) -> list[str]:
        for term, kinds in self.kinds.items():
            if len(kinds) > 1:
                self.problems.add(f"{self.n(term)} is declared as more than one kind: {', '.join(sorted(kinds))}")
            if str(term).startswith(RESERVED) and term not in BUILT_IN:
                self.problems.add(f"{self.n(term)} is reserved vocabulary, declared a {', '.join(sorted(kinds))}")
        # axioms first: they reach the blank class expressions, whose own triples come after
        for s, p, o in sorted(self.g, key=lambda t: isinstance(t[0], BNode)):
            self.triple(s, p, o)
        for p, uses in self.undeclared_annotations.items():
            more = f" (used {len(uses)} times)" if len(uses) > 1 else ""
            self.problems.add(f"{min(uses)}: {self.n(p)} is not a declared annotation property{more}")
        self.simple_roles()
        self.regular_chains()
        return sorted(self.problems)

    # -------------------------------------------------------------------- one triple
    def triple(self, s, p, o) -> None:
        if isinstance(o, Literal):
            self.literal(o, s, p)
        if p in LIST_PREDICATES:
            return  # lists are checked where an axiom uses them
        if isinstance(s, BNode):
            if s not in self.expressions:
                self.problems.add(f"{self.n(p)} said of a blank node that no axiom uses: this check does not "
                                  "know it")
            return  # a class expression, checked by expression()
        if p == RDF.type:
            self.typed(s, o)
        elif p in CLASS_AXIOMS:
            self.klass(s, f"{self.n(s)} {self.n(p)} {self.n(o)}")
            self.klass(o, f"{self.n(s)} {self.n(p)} {self.n(o)}")
        elif p in PROPERTY_AXIOMS:
            self.same_kind(s, o, p, allow_annotation=p == RDFS.subPropertyOf)
        elif p == OWL.inverseOf:
            for term in (s, o):
                self.require(term, {OBJECT}, f"{self.n(s)} owl:inverseOf {self.n(o)}")
        elif p in (RDFS.domain, RDFS.range):
            self.domain_or_range(s, p, o)
        elif p == OWL.propertyChainAxiom:
            self.require(s, {OBJECT}, f"the property chain of {self.n(s)}")
            for member in self.members(o, f"the property chain of {self.n(s)}"):
                self.require(member, {OBJECT}, f"the property chain of {self.n(s)}")
        elif p in self.annotation_properties:
            pass  # an annotation: its value's datatype is checked above
        elif str(p).startswith(RESERVED):
            self.problems.add(f"{self.n(s)} {self.n(p)} {self.n(o)}: {self.n(p)} is not an axiom this check "
                              "knows")
        else:
            self.undeclared_annotations[p].append(f"{self.n(s)} {self.n(p)} {self.n(o)}")

    def typed(self, s, o) -> None:
        if o in DECLARATIONS or o in (OWL.Ontology, OWL.NamedIndividual):
            return
        if o in OBJECT_ONLY:
            self.require(s, {OBJECT}, f"{self.n(s)} a {self.n(o)}")
        elif o == OWL.FunctionalProperty:
            self.require(s, {OBJECT, DATA}, f"{self.n(s)} a {self.n(o)}")
        else:  # an individual
            self.klass(o, f"{self.n(s)} a {self.n(o)}")

    def literal(self, lit: Literal, s, p) -> None:
        if lit.datatype is not None:
            self.datatype(lit.datatype, f"the value {self.n(lit)} of {self.n(s)} {self.n(p)}")

    # -------------------------------------------------------------------- kinds
    def require(self, term, kinds: set[str], where: str) -> str | None:
        """The kind of ``term``, which must be one of ``kinds`` (problems are recorded, not raised)."""
        wanted = _any_of(kinds)
        if not isinstance(term, URIRef):
            self.problems.add(f"{where}: {self.n(term)} where {wanted} is needed")
            return None
        have = self.kinds.get(term) or ({BUILT_IN[term]} if term in BUILT_IN else set())
        if not have:
            self.problems.add(f"{where}: {self.n(term)} is not declared (it is used as {wanted})")
            return None
        if not have & kinds:
            self.problems.add(f"{where}: {self.n(term)} is {_any_of(have)}, where {wanted} is needed")
            return None
        return sorted(have & kinds)[0]

    def klass(self, term, where: str) -> None:
        if isinstance(term, BNode):
            self.expression(term, where)
        else:
            self.require(term, {CLASS}, where)

    def datatype(self, term, where: str) -> None:
        if isinstance(term, URIRef) and str(term).startswith(RESERVED) and term not in DATATYPE_MAP:
            self.problems.add(f"{where}: {self.n(term)} is not in the OWL 2 datatype map (declaring it does "
                              "not help: it is reserved vocabulary)")
        elif isinstance(term, BNode):
            self.problems.add(f"{where}: a data range this check does not know")
        else:
            self.require(term, {DATATYPE}, where)

    def same_kind(self, s, o, p, allow_annotation: bool) -> None:
        where = f"{self.n(s)} {self.n(p)} {self.n(o)}"
        allowed = {OBJECT, DATA} | ({ANNOTATION} if allow_annotation else set())
        known = {term: self.kinds.get(term, set()) & allowed for term in (s, o)}
        if not self.kinds.get(s) and known[o]:  # an undeclared one is used as the other's kind
            allowed = known[o]
        elif not self.kinds.get(o) and known[s]:
            allowed = known[s]
        a, b = self.require(s, allowed, where), self.require(o, allowed, where)
        if a and b and a != b:
            self.problems.add(f"{where}: {_any_of({a})} and {_any_of({b})} (a property axiom cannot mix kinds)")

    def domain_or_range(self, s, p, o) -> None:
        where = f"{self.n(s)} {self.n(p)} {self.n(o)}"
        kind = self.require(s, {OBJECT, DATA, ANNOTATION}, where)
        if kind == OBJECT or (kind == DATA and p == RDFS.domain):
            self.klass(o, where)
        elif kind == DATA:
            self.datatype(o, where)
        elif kind == ANNOTATION and not isinstance(o, URIRef):
            self.problems.add(f"{where}: an annotation property's domain and range are IRIs")

    # -------------------------------------------------------------------- class expressions
    def expression(self, node: BNode, where: str) -> None:
        """A blank class expression: a restriction, or a union, intersection, complement or enumeration."""
        if node in self.expressions:
            return
        self.expressions.add(node)
        g = self.g
        if (node, RDF.type, OWL.Restriction) in g:
            prop = g.value(node, OWL.onProperty)
            kind = self.require(prop, {OBJECT, DATA}, f"{where}: a restriction")
            for filler_p in (OWL.someValuesFrom, OWL.allValuesFrom, OWL.onClass, OWL.onDataRange):
                for filler in g.objects(node, filler_p):
                    (self.datatype if kind == DATA else self.klass)(filler, f"{where}: a restriction")
            if kind == OBJECT and any((node, c, None) in g for c in CARDINALITIES):
                self.cardinality_properties.add(prop)
            return
        for op in (OWL.unionOf, OWL.intersectionOf):
            for head in g.objects(node, op):
                for member in self.members(head, where):
                    self.klass(member, where)
                return
        for member in g.objects(node, OWL.complementOf):
            self.klass(member, where)
            return
        for head in g.objects(node, OWL.oneOf):
            self.members(head, where)
            return
        self.problems.add(f"{where}: a blank class expression this check does not know")

    def members(self, head, where: str) -> list:
        try:
            return list(Collection(self.g, head))
        except Exception:
            self.problems.add(f"{where}: a malformed RDF list")
            return []

    # -------------------------------------------------------------------- the property hierarchy
    def inverses(self) -> dict:
        inv: dict = defaultdict(set)
        for p, q in self.g.subject_objects(OWL.inverseOf):
            inv[p].add(q)
            inv[q].add(p)
        return inv

    def simple_roles(self) -> None:
        """OWL 2 DL, section 11.2: functional, inverse-functional, irreflexive and asymmetric properties,
        disjoint properties and cardinality restrictions take simple properties only: no transitive one, no
        property chain's super-property, nothing above those or their inverses."""
        g, inv = self.g, self.inverses()
        composite = set(g.subjects(RDF.type, OWL.TransitiveProperty)) | set(g.subjects(OWL.propertyChainAxiom))
        subs: dict = defaultdict(set)
        for p, q in g.subject_objects(RDFS.subPropertyOf):
            subs[q].add(p)
        for p, q in g.subject_objects(OWL.equivalentProperty):
            subs[q].add(p)
            subs[p].add(q)

        def simple(p, seen=frozenset()) -> bool:
            if p in seen:
                return True
            if p in composite or any(q in composite for q in inv.get(p, ())):
                return False
            below = subs.get(p, set()) | {s for q in inv.get(p, ()) for s in subs.get(q, ())}
            return all(simple(q, seen | {p}) for q in below)

        needs = {(p, f"is an {self.n(t)}") for t in SIMPLE_ONLY for p in g.subjects(RDF.type, t)
                 if OBJECT in self.kinds.get(p, set())}
        needs |= {(p, "is in owl:propertyDisjointWith") for pair in g.subject_objects(OWL.propertyDisjointWith)
                  for p in pair if OBJECT in self.kinds.get(p, set())}
        needs |= {(p, "is in a cardinality restriction") for p in self.cardinality_properties}
        for p, why in needs:
            if not simple(p):
                self.problems.add(f"{self.n(p)} {why}, but is not simple (transitive, a chain's super-property, "
                                  "or above one, or the inverse of one)")

    def regular_chains(self) -> None:
        """Section 11.2: the property hierarchy is regular. A chain's members are below its super-property,
        so none of them may be above it (a property and its inverse counting as one)."""
        g, inv = self.g, self.inverses()
        group: dict = {}
        for p in set(self.kinds):
            group.setdefault(p, frozenset({p, *inv.get(p, ())}))
        up: dict = defaultdict(set)  # group -> groups directly above it
        for p, q in g.subject_objects(RDFS.subPropertyOf):
            up[group.get(p, p)].add(group.get(q, q))
        chains = [(p, self.members(head, f"the property chain of {self.n(p)}"))
                  for p, head in g.subject_objects(OWL.propertyChainAxiom)]
        for p, members in chains:
            for m in members:
                if m != p:
                    up[group.get(m, m)].add(group.get(p, p))
        for p, members in chains:
            top = group.get(p, p)
            above, todo = set(), [top]
            while todo:
                for nxt in up.get(todo.pop(), ()):
                    if nxt not in above:
                        above.add(nxt)
                        todo.append(nxt)
            for i, m in enumerate(members):
                if m == p and i in (0, len(members) - 1):
                    continue  # P = P1 o ... or ... o Pn = P, with the others below P
                if group.get(m, m) == top or group.get(m, m) in above:
                    self.problems.add(f"the property chain of {self.n(p)} makes the hierarchy irregular: "
                                      f"{self.n(m)} is both below and above it")


def _any_of(kinds: set[str]) -> str:
    """``{"annotation property", "class"}`` -> ``"an annotation property or a class"``."""
    return " or ".join(f"{'an' if k[0] in 'aeiou' else 'a'} {k}" for k in sorted(kinds))


def test_the_ontology_is_owl2_dl_by_structure():
    graph = Graph().parse(ONTOLOGY_FILE)
    assert len(graph) > 700, "the ontology is nearly empty"
    assert dl_problems(graph) == []


PREFIXES = """@prefix kzcn: <https://w3id.org/kzcn/ontology#> . @prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> . @prefix schema: <https://schema.org/> .
"""


@pytest.mark.parametrize(("turtle", "expected"), [
    ("kzcn:birthYear a owl:DatatypeProperty ; rdfs:range xsd:gYear .",
     "xsd:gYear is not in the OWL 2 datatype map"),
    ("kzcn:birthYear a owl:DatatypeProperty ; rdfs:range xsd:gYear . xsd:gYear a rdfs:Datatype .",
     "xsd:gYear is reserved vocabulary"),
    ("kzcn:note a owl:DatatypeProperty ; rdfs:subPropertyOf skos:note . skos:note a owl:AnnotationProperty .",
     "a datatype property and an annotation property (a property axiom cannot mix kinds)"),
    ("kzcn:note a owl:DatatypeProperty ; rdfs:subPropertyOf skos:note .", "skos:note is not declared"),
    ("kzcn:Person a owl:Class ; rdfs:subClassOf schema:Person .",
     "schema:Person is not declared (it is used as a class)"),
    ("schema:performer a owl:ObjectProperty , owl:DatatypeProperty .",
     "schema:performer is declared as more than one kind"),
    ("kzcn:place a owl:ObjectProperty ; rdfs:range xsd:string .",
     "xsd:string is a datatype, where a class is needed"),
    ("kzcn:year a owl:DatatypeProperty ; rdfs:range kzcn:Place . kzcn:Place a owl:Class .",
     "kzcn:Place is a class, where a datatype is needed"),
    ("kzcn:a a owl:DatatypeProperty ; owl:inverseOf kzcn:b . kzcn:b a owl:DatatypeProperty .",
     "kzcn:a is a datatype property, where an object property is needed"),
    ("kzcn:partOf a owl:ObjectProperty , owl:TransitiveProperty , owl:FunctionalProperty .",
     "kzcn:partOf is an owl:FunctionalProperty, but is not simple"),
    ("kzcn:hasPart a owl:ObjectProperty , owl:FunctionalProperty ; owl:inverseOf kzcn:partOf ."
     " kzcn:partOf a owl:ObjectProperty , owl:TransitiveProperty .",
     "kzcn:hasPart is an owl:FunctionalProperty, but is not simple"),
    ("kzcn:C a owl:Class ; rdfs:subClassOf [ a owl:Restriction ; owl:onProperty kzcn:partOf ;"
     " owl:maxCardinality 1 ] . kzcn:partOf a owl:ObjectProperty , owl:TransitiveProperty .",
     "kzcn:partOf is in a cardinality restriction, but is not simple"),
    ("kzcn:hostedBy a owl:ObjectProperty ; rdfs:subPropertyOf kzcn:runBy ;"
     " owl:propertyChainAxiom ( kzcn:runBy kzcn:hostInstitution ) ."
     " kzcn:runBy a owl:ObjectProperty . kzcn:hostInstitution a owl:ObjectProperty .",
     "the property chain of kzcn:hostedBy makes the hierarchy irregular"),
    ("owl:Person a owl:Class .", "owl:Person is reserved vocabulary"),
    ("kzcn:x a owl:Class ; rdfs:label \"x\"^^xsd:gYear .", "xsd:gYear is not in the OWL 2 datatype map"),
    ("kzcn:x a owl:Class ; kzcn:undeclared kzcn:y .", "kzcn:undeclared is not a declared annotation property"),
    ("kzcn:x a owl:Class ; owl:hasKey ( kzcn:p ) .", "owl:hasKey is not an axiom this check knows"),
], ids=lambda v: re.sub(r"\W+", "-", v)[:40])
def test_the_structural_check_finds_each_problem(turtle, expected):
    problems = dl_problems(Graph().parse(data=PREFIXES + turtle, format="turtle"))
    assert any(expected in p for p in problems), problems


def test_the_structural_check_accepts_what_owl2_dl_allows():
    turtle = """kzcn:Person a owl:Class ; rdfs:subClassOf schema:Person , [ a owl:Restriction ;
        owl:onProperty kzcn:affiliation ; owl:maxCardinality 3 ] . schema:Person a owl:Class .
    kzcn:affiliation a owl:ObjectProperty , owl:FunctionalProperty ; rdfs:range kzcn:Person .
    kzcn:note a owl:AnnotationProperty ; rdfs:subPropertyOf skos:note . skos:note a owl:AnnotationProperty .
    kzcn:birthYear a owl:DatatypeProperty , owl:FunctionalProperty ; rdfs:range rdfs:Literal .
    kzcn:hostedBy a owl:ObjectProperty ; owl:propertyChainAxiom ( kzcn:runBy kzcn:hostInstitution ) .
    kzcn:runBy a owl:ObjectProperty . kzcn:hostInstitution a owl:ObjectProperty .
    kzcn:Year a rdfs:Datatype . kzcn:year a owl:DatatypeProperty ; rdfs:range kzcn:Year .
    kzcn:x a owl:Class ; rdfs:label "x"@en ; skos:note "2001"^^xsd:integer .
    kzcn:Actor a owl:Class ; owl:equivalentClass [ a owl:Class ; owl:unionOf ( kzcn:Person schema:Person ) ] ."""
    assert dl_problems(Graph().parse(data=PREFIXES + turtle, format="turtle")) == []


# ------------------------------------------------------------------------------------ Java reasoners
def _owlready2():
    if shutil.which("java") is None:
        pytest.skip("no `java` on PATH: HermiT and Pellet run on Java (apt-get install default-jre-headless)")
    return pytest.importorskip("owlready2", reason="owlready2 (HermiT, Pellet) is in the `test` extra")


#: Axioms of PROV-O and FOAF that bear on the alignments: an event cannot be a prov:Entity, nor an
#: organization a foaf:Person.
EXTERNAL_AXIOMS = [
    (PROV.Activity, OWL.disjointWith, PROV.Entity),
    (FOAF.Person, OWL.disjointWith, FOAF.Organization),
    (PROV.wasAssociatedWith, RDFS.domain, PROV.Activity),
    (PROV.wasAssociatedWith, RDFS.range, PROV.Agent),
]


def _hermit(files: list[Path], tmp_path: Path, *, ignore_unsupported_datatypes: bool = False):
    """HermiT's classification of ``files`` with :data:`EXTERNAL_AXIOMS` (an owlready2 world), or a failure
    that says why HermiT refused them."""
    owlready2 = _owlready2()
    graph = Graph()
    for file in files:
        graph.parse(file)
    for triple in EXTERNAL_AXIOMS:
        graph.add(triple)
    assert not list(graph.objects(None, OWL.imports)), "no owl:imports: HermiT would fetch them"
    path = tmp_path / "kzcn.nt"
    graph.serialize(path, format="nt", encoding="utf-8")
    world = owlready2.World()
    world.get_ontology(path.as_uri()).load()
    try:
        owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0,
                                       ignore_unsupported_datatypes=ignore_unsupported_datatypes)
    except owlready2.OwlReadyJavaError as error:  # UnsupportedDatatypeException and the like
        pytest.fail(f"HermiT refused it: {error}"[:3000])
    except owlready2.OwlReadyInconsistentOntologyError:
        pytest.fail("HermiT finds it inconsistent")
    assert world[str(KZCN.Person)] is not None, "HermiT saw none of the ontology"
    return world


def test_hermit_loads_and_classifies_the_ontology(tmp_path):
    world = _hermit([ONTOLOGY_FILE], tmp_path)
    unsatisfiable = sorted(c.iri for c in world.inconsistent_classes())
    assert unsatisfiable == [], f"classes no individual can be in: {unsatisfiable}"


def test_hermit_finds_the_ontology_and_the_data_consistent(tmp_path):
    """The data's xsd:gYear and xsd:gYearMonth values are outside OWL 2 DL's datatypes (data/MODELLING.md):
    HermiT sets them aside, and reasons over the rest (disjoint classes, functional properties …)."""
    _hermit([ONTOLOGY_FILE, *sorted((REPO / "data").glob("*.ttl"))], tmp_path, ignore_unsupported_datatypes=True)


def test_owl_api_finds_the_ontology_in_the_owl2_dl_profile(tmp_path):
    owlready2 = _owlready2()
    pellet = Path(owlready2.__file__).parent / "pellet"
    jars = sorted(str(jar) for jar in pellet.glob("*.jar"))
    if not jars:
        pytest.skip(f"no Pellet jars in {pellet}")
    path = tmp_path / "kzcn.owl"
    Graph().parse(ONTOLOGY_FILE).serialize(path, format="xml", encoding="utf-8")
    result = subprocess.run(["java", "-cp", ":".join(jars), "pellet.Pellet", "info", path.as_uri()],
                            capture_output=True, text=True, timeout=300)
    profile = re.search(r"^OWL Profile = (.*)$", result.stdout, re.M)
    assert profile, f"Pellet said no profile: {result.stdout[-2000:]}{result.stderr[-2000:]}"
    # Pellet names the narrowest profile the ontology is in; OWL 2 EL, QL and RL are all within OWL 2 DL
    assert profile.group(1).strip() in {"OWL 2 DL", "OWL 2 EL", "OWL 2 QL", "OWL 2 RL"}, result.stdout
