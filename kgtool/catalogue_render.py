"""The query catalogue as a table, as JSON, or as RDF (each query a schema:SoftwareSourceCode)."""

from __future__ import annotations

import json

from .queries import Catalogue


def _param_text(param) -> str:
    flags = "required" if param.required else (f"default {param.default}" if param.default else "optional")
    return f"{param.name}:{param.type} ({flags})"


def render_catalogue(catalogue: Catalogue, fmt: str) -> str:
    queries = list(catalogue)
    if fmt == "json":
        doc = [{"name": q.name, "summary": q.summary, "description": q.description, "tags": list(q.tags),
                "form": q.form, "params": [p.__dict__ | {"enum": list(p.enum)} for p in q.params]}
               for q in queries]
        return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    if fmt == "ttl":
        return _catalogue_turtle(queries)
    width = max(len(q.name) for q in queries)
    lines = []
    for q in queries:
        lines.append(f"{q.name.ljust(width)}  {q.summary}")
        for p in q.params:
            lines.append(f"{'':<{width}}    -p {_param_text(p)}{': ' + p.description if p.description else ''}")
    lines.append(f"({len(queries)} queries; run one with `kgtool query NAME`)")
    return "\n".join(lines) + "\n"


def _catalogue_turtle(queries) -> str:
    from rdflib import Literal, Namespace, URIRef
    from rdflib.namespace import DCTERMS, RDF, RDFS

    from .export import serialize
    from .loading import new_graph
    from .namespaces import BASE

    schema = Namespace("https://schema.org/")
    graph = new_graph()
    for q in queries:
        node = URIRef(f"{BASE}query/{q.name}")
        graph.add((node, RDF.type, schema.SoftwareSourceCode))
        graph.add((node, RDFS.label, Literal(q.name)))
        graph.add((node, DCTERMS.description, Literal(q.summary, lang="en")))
        graph.add((node, schema.programmingLanguage, Literal("SPARQL 1.1")))
        graph.add((node, schema.text, Literal(q.text)))
        for tag in q.tags:
            graph.add((node, schema.keywords, Literal(tag)))
    return serialize(graph, "ttl")
