"""Building the graph users query: ontology + data, plus the cached OWL RL inferences."""

from __future__ import annotations

from dataclasses import dataclass

from rdflib import Graph

from .closure import inputs_key, read_cached, write_cached
from .loading import new_graph, parse_files
from .project import Project


@dataclass
class LoadedGraphs:
    asserted: Graph  # ontology + data, as in the files
    inferred: Graph  # OWL RL inferences only (empty when inference is off)

    def union(self) -> Graph:
        merged = new_graph()
        for triple in self.asserted:
            merged.add(triple)
        for triple in self.inferred:
            merged.add(triple)
        return merged


def load_asserted(project: Project) -> Graph:
    return parse_files(project.source_files)


def inferred_triples(project: Project, asserted: Graph | None = None) -> Graph:
    """The closure's new triples, from the cache when the inputs are unchanged."""
    key = inputs_key(project.source_files, salt="owlrl")
    cached = read_cached(key)
    if cached is not None:
        graph = new_graph()
        graph.parse(data=cached.decode("utf-8"), format="nt")
        return graph
    from .reason import infer

    graph = infer(asserted if asserted is not None else load_asserted(project))
    write_cached(key, serialize_ntriples_sorted(graph).encode("utf-8"))
    return graph


def load_graphs(project: Project, inference: bool = True) -> LoadedGraphs:
    asserted = load_asserted(project)
    inferred = inferred_triples(project, asserted) if inference else new_graph()
    return LoadedGraphs(asserted, inferred)


def serialize_ntriples_sorted(graph: Graph) -> str:
    """N-Triples, one line per triple, sorted: the deterministic form used for caches and diffs."""
    lines = {f"{s.n3()} {p.n3()} {o.n3()} .\n" for s, p, o in graph}
    return "".join(sorted(lines))
