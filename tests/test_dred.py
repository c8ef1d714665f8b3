"""Delete and rederive (kgtool.rules.overdeleted, kgtool.rules.rederived) gives the closure a build gives.

On random graphs over a small ontology that uses every rule the snapshot's extension may meet (class and
property hierarchies, domains, ranges, inverses, a symmetric and a transitive property, a property
chain), triples are removed and added, and the closed graph updated by DRed is compared with the closure
of the new triples computed from scratch. The snapshot tests (tests/test_incremental.py) do the same on
the project's data through the store.
"""

from __future__ import annotations

import random

import pytest

from kgtool import rules

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDF_TYPE = f"<{RDF}type>"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"


def _ex(name: str) -> str:
    return f"<urn:kgtool:test:{name}>"


ONTOLOGY = {
    (_ex("City"), f"<{RDFS}subClassOf>", _ex("Place")),
    (_ex("Place"), f"<{RDFS}subClassOf>", _ex("Thing")),
    (_ex("Org"), f"<{RDFS}subClassOf>", _ex("Agent")),
    (_ex("locatedIn"), RDF_TYPE, f"<{OWL}TransitiveProperty>"),
    (_ex("locatedIn"), f"<{RDFS}range>", _ex("Place")),
    (_ex("memberOf"), f"<{RDFS}domain>", _ex("Agent")),
    (_ex("memberOf"), f"<{RDFS}range>", _ex("Org")),
    (_ex("memberOf"), f"<{OWL}inverseOf>", _ex("hasMember")),
    (_ex("twinnedWith"), RDF_TYPE, f"<{OWL}SymmetricProperty>"),
    (_ex("twinnedWith"), f"<{RDFS}subPropertyOf>", _ex("relatedTo")),
    (_ex("relatedTo"), f"<{RDFS}domain>", _ex("Thing")),
    (_ex("basedIn"), f"<{OWL}propertyChainAxiom>", "_:chain1"),
    ("_:chain1", f"<{RDF}first>", _ex("memberOf")),
    ("_:chain1", f"<{RDF}rest>", "_:chain2"),
    ("_:chain2", f"<{RDF}first>", _ex("locatedIn")),
    ("_:chain2", f"<{RDF}rest>", f"<{RDF}nil>"),
}
PROPERTIES = ["locatedIn", "memberOf", "hasMember", "twinnedWith", "relatedTo", "basedIn"]
CLASSES = ["City", "Place", "Org", "Agent", "Thing"]


def _random_triples(chance: random.Random, count: int) -> set[tuple[str, str, str]]:
    things = [_ex(f"x{n}") for n in range(12)]
    out = set()
    while len(out) < count:
        s = chance.choice(things)
        if chance.random() < 0.3:
            out.add((s, RDF_TYPE, _ex(chance.choice(CLASSES))))
        else:
            out.add((s, _ex(chance.choice(PROPERTIES)), chance.choice(things)))
    return out


def _closed(asserted: set) -> set:
    return asserted | rules.infer(asserted)


@pytest.mark.parametrize("seed", range(40))
def test_an_update_by_dred_equals_the_closure_from_scratch(seed):
    chance = random.Random(seed)
    data = _random_triples(chance, 40)
    removed = set(chance.sample(sorted(data), 10))
    added = _random_triples(chance, 6) - data
    after = (data - removed) | added
    base = rules.SetBase(_closed(ONTOLOGY | data))

    overdeleted, tbox = rules.overdeleted(removed, base, ONTOLOGY)
    still = overdeleted & after
    kept = still | added
    entailed = rules.rederived(overdeleted - still, kept, rules.Without(base, overdeleted), tbox,
                               ONTOLOGY).inferred() - kept
    updated = (base.triples - (overdeleted - kept - entailed)) | added | entailed

    assert updated == _closed(ONTOLOGY | after)


def test_the_update_is_not_the_old_closure_minus_the_removed_triples():
    """The comparison above can fail: taking out only the removed triples leaves what they entailed."""
    data = {(_ex("a"), _ex("locatedIn"), _ex("b")), (_ex("b"), _ex("locatedIn"), _ex("c"))}
    removed = {(_ex("b"), _ex("locatedIn"), _ex("c"))}
    base = rules.SetBase(_closed(ONTOLOGY | data))
    assert (_ex("a"), _ex("locatedIn"), _ex("c")) in base.triples - removed
    assert (_ex("a"), _ex("locatedIn"), _ex("c")) not in _closed(ONTOLOGY | (data - removed))
    overdeleted, _tbox = rules.overdeleted(removed, base, ONTOLOGY)
    assert (_ex("a"), _ex("locatedIn"), _ex("c")) in overdeleted
