"""The bundled data's links checked against the ontology, as the gate checks a contribution's.

The shapes see the OWL RL closure, where ``rdfs:range`` is a rule: ``event:x kzcn:place
organization:beijing-concert-hall`` makes the hall a ``kzcn:Place``, and the shape's ``sh:class kzcn:Place``
is then met by the very link it should refuse. `kgtool validate FILE` has a stage for this
(:mod:`kgtool.domains`); data/ edited by hand gets the same check here, over the snapshot's asserted
triples: every link's subject and object against the property's domain and range by the classes data/
asserts (with their superclasses). Two more checks close what that leaves open:

- individuals of two classes the ontology declares disjoint, in the closure (a type asserted twice over,
  or implied by a link whose own check could not name it);
- links to an entity of the project's namespace that data/ never describes (no ``rdf:type``): a misspelt
  IRI, which a property without a range would otherwise take silently.

All three read N-Triples lines and a few store queries; no rdflib graph of the data is built.
"""

from __future__ import annotations

from pathlib import Path

from .namespaces import BASE, shorten
from .report import Finding

RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
_OWL = "http://www.w3.org/2002/07/owl#"
_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_ENTITY = f"<{BASE}"


def link_findings(store, asserted: Path) -> list[Finding]:
    """Domain and range, disjoint classes and undescribed entities; a node already blamed on a link is
    not reported again as a disjointness clash (the clash is that link's consequence)."""
    signatures = _signatures(store)
    types, links = _read(asserted)
    misfits = _outside_signatures(links, types, signatures)
    blamed = {f.value for f in misfits} | {f.focus for f in misfits}
    clashes = [f for f in disjoint_clashes(store) if f"<{f.focus}>" not in blamed and f.focus not in blamed]
    return _in_order(misfits) + clashes + _in_order(_undescribed(links, types))


def _in_order(findings: list[Finding]) -> list[Finding]:
    """By focus, property, value: the lines of asserted.nt come in the order the snapshot was made in
    (a build, or an older snapshot extended), which a report must not show."""
    return sorted(findings, key=lambda f: (str(f.focus), str(f.path), str(f.value), f.message))


def _signatures(store):
    """:class:`kgtool.domains.Signatures` of the ontology in the store, closed as the gate's is (the
    store's closure has the individuals' inferences, not the schema's): superclasses transitively, and
    the domains and ranges of superproperties."""
    import pyoxigraph as ox
    from rdflib import Graph

    from .domains import Signatures

    rdfs = "http://www.w3.org/2000/01/rdf-schema#"
    triples = store.query(f"""CONSTRUCT {{ ?c <{rdfs}subClassOf> ?d . ?p <{rdfs}domain> ?in . ?p <{rdfs}range> ?to .
                                         ?p <{_OWL}inverseOf> ?q }}
        WHERE {{ {{ ?c <{rdfs}subClassOf>+ ?d }}
                 UNION {{ ?p <{rdfs}domain> ?in }} UNION {{ ?p <{rdfs}subPropertyOf>+ ?s . ?s <{rdfs}domain> ?in }}
                 UNION {{ ?p <{rdfs}range> ?to }} UNION {{ ?p <{rdfs}subPropertyOf>+ ?s . ?s <{rdfs}range> ?to }}
                 UNION {{ ?p <{_OWL}inverseOf> ?q }} UNION {{ ?q <{_OWL}inverseOf> ?p }} }}""")
    data = triples.serialize(format=ox.RdfFormat.N_TRIPLES) or b""
    return Signatures(Graph().parse(data=data.decode("utf-8"), format="nt"))


def _read(asserted: Path) -> tuple[dict[str, set[str]], list[tuple[str, str, str]]]:
    """Each node's asserted classes, and the links between nodes (``s p o`` whose object is an IRI or a
    blank node), as N-Triples terms."""
    types: dict[str, set[str]] = {}
    links: list[tuple[str, str, str]] = []
    with open(asserted, encoding="utf-8") as lines:
        for line in lines:
            s, p, rest = line.split(" ", 2)
            o = rest.rstrip("\n")[:-2]
            if o[0] == '"':
                continue
            if p == RDF_TYPE:
                types.setdefault(s, set()).add(o)
            else:
                links.append((s, p, o))
    return types, links


def _outside_signatures(links, types: dict[str, set[str]], signatures) -> list[Finding]:
    from rdflib import URIRef

    from .domains import misfit_message, most_specific

    closed: dict[str, set] = {}

    def classes(node: str) -> set:
        if node not in closed:
            closed[node] = signatures.closed({URIRef(t[1:-1]) for t in types.get(node, ())})
        return closed[node]

    wanted: dict[str, tuple] = {}  # per property: its URIRef, and the most specific domain and range

    def signature(p: str) -> tuple:
        if p not in wanted:
            prop = URIRef(p[1:-1])
            domain, range_ = signatures.domains.get(prop), signatures.ranges.get(prop)
            wanted[p] = (prop, domain and most_specific(domain, signatures),
                         range_ and most_specific(range_, signatures))
        return wanted[p]

    findings = []
    for s, p, o in links:
        prop, domain, range_ = signature(p)
        for node, expected, side in ((s, domain, "domain"), (o, range_, "range")):
            if not expected:
                continue
            have = classes(node)
            missing = sorted(expected - have)
            if have and missing:
                name = URIRef(node[1:-1]) if node[0] == "<" else node
                findings.append(Finding("Violation", misfit_message(prop, name, missing, have, side, signatures),
                                        focus=s[1:-1] if s[0] == "<" else s, path=str(prop), value=o,
                                        stage="ontology"))
    return findings


def disjoint_clashes(store) -> list[Finding]:
    """Individuals of two disjoint classes (OWL RL's cax-dw and cax-adc) in the store's closure, one query
    per pair of classes, driven by the class with fewer members (one query for all pairs at once took a
    minute at a million triples; these take under a second)."""
    seen: dict[str, set[str]] = {}
    for a, b in _disjoint_pairs(store):
        small, big = sorted((a, b), key=lambda c: _members(store, c))
        for (x,) in store.query(f"SELECT ?x WHERE {{ ?x a <{small}> FILTER EXISTS {{ ?x a <{big}> }} }}"):
            pair = sorted((shorten(a), shorten(b)))
            seen.setdefault(x.value, set()).add(f"{pair[0]} and a {pair[1]}")
    return [Finding("Violation", f"{shorten(focus)} is both a {'; both a '.join(sorted(pairs))}, which the "
                    "ontology declares disjoint: one of its types, or a link that implies one, is wrong",
                    focus=focus, path=f"{_RDF}type", stage="ontology")
            for focus, pairs in sorted(seen.items())]


def _disjoint_pairs(store) -> set[tuple[str, str]]:
    pairs = {tuple(sorted((a.value, b.value))) for a, b in store.query(
        f"SELECT ?a ?b WHERE {{ ?a <{_OWL}disjointWith> ?b FILTER(isIRI(?a) && isIRI(?b)) }}")}
    groups: dict[str, set[str]] = {}
    for group, member in store.query(f"""SELECT ?all ?m WHERE {{ ?all a <{_OWL}AllDisjointClasses> ;
            <{_OWL}members>/<{_RDF}rest>*/<{_RDF}first> ?m FILTER(isIRI(?m)) }}"""):
        groups.setdefault(str(group), set()).add(member.value)
    for members in groups.values():
        pairs |= {(a, b) for a in members for b in members if a < b}
    return pairs


def _members(store, cls: str) -> int:
    (count,) = next(iter(store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ ?x a <{cls}> }}")))
    return int(count.value)


def _undescribed(links, types: dict[str, set[str]]) -> list[Finding]:
    """Links to an IRI of the project's entity namespace that has no rdf:type in data/."""
    findings = []
    for s, p, o in links:
        if o.startswith(_ENTITY) and o not in types:
            findings.append(Finding(
                "Violation", f"{shorten(p[1:-1])} links to {shorten(o[1:-1])}, which data/ does not describe "
                "(it has no rdf:type): a misspelt IRI, or an entity still to be described",
                focus=s[1:-1] if s[0] == "<" else s, path=p[1:-1], value=o, stage="reference"))
    return findings
