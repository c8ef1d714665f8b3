"""The project's namespaces and prefixes, in one place, for parsing, queries and serialization."""

from __future__ import annotations

BASE = "https://w3id.org/kzcn/"
ONTOLOGY = BASE + "ontology#"
INSTANCE_BASE = BASE + "id/"

#: Instance prefixes: one per kind of entity (data/MODELLING.md).
INSTANCE_KINDS = (
    "person", "organization", "place", "agreement", "event", "series", "anniversary", "partnership",
    "program", "work", "initiative", "figure", "source", "position", "concept", "award",
)

PREFIXES: dict[str, str] = {
    "kzcn": ONTOLOGY,
    **{kind: f"{INSTANCE_BASE}{kind}/" for kind in INSTANCE_KINDS},
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "schema": "https://schema.org/",
    "prov": "http://www.w3.org/ns/prov#",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "org": "http://www.w3.org/ns/org#",
    "sh": "http://www.w3.org/ns/shacl#",
}


def sparql_prologue() -> str:
    """PREFIX lines for every project prefix, so ad-hoc queries can use them without declaring."""
    return "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in PREFIXES.items())


def shorten(iri: str) -> str:
    """The prefixed name of an IRI when a project prefix covers it, else the IRI in angle brackets."""
    best = ""
    best_prefix = ""
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns) and len(ns) > len(best):
            best, best_prefix = ns, prefix
    if best and all(c.isalnum() or c in "-_." for c in iri[len(best):]) and iri[len(best):]:
        return f"{best_prefix}:{iri[len(best):]}"
    return f"<{iri}>"
