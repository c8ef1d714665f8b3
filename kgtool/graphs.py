"""Building the rdflib graph users query: ontology + data, plus the cached OWL RL inferences.

The inferences come from the project's snapshot (:mod:`kgtool.snapshot`), computed once per change of the
inputs by the fast reasoner (:mod:`kgtool.rules`, proven equal to owlrl by the tests) and kept in the
cache outside the repository; this module only parses them into rdflib.
"""

from __future__ import annotations

from dataclasses import dataclass

from rdflib import Graph

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
    """The closure's new triples, from the project's snapshot (built first if the inputs changed).

    ``asserted`` is accepted for compatibility and not needed: the snapshot is keyed by the files' bytes.
    """
    from .snapshot import get_snapshot

    graph = new_graph()
    graph.parse(get_snapshot(project).inferred_file, format="nt")
    return graph


def load_graphs(project: Project, inference: bool = True) -> LoadedGraphs:
    asserted = load_asserted(project)
    inferred = inferred_triples(project, asserted) if inference else new_graph()
    return LoadedGraphs(asserted, inferred)


def infer_with_owlrl(project: Project) -> set[tuple[str, str, str]]:
    """The reference reasoner's inferences as N-Triples term strings (used when kgtool.rules cannot)."""
    import pyoxigraph as ox

    from .reason import infer

    data = infer(load_asserted(project)).serialize(format="nt")
    return {(str(t.subject), str(t.predicate), str(t.object))
            for t in ox.parse(data, format=ox.RdfFormat.N_TRIPLES)}


def serialize_ntriples_sorted(graph: Graph) -> str:
    """N-Triples, one line per triple, sorted: the deterministic form used for caches and diffs.

    rdflib's N-Triples writer escapes newlines in literals (``n3()`` would write a triple-quoted string,
    which is Turtle but not N-Triples)."""
    lines = {line for line in graph.serialize(format="nt").split("\n") if line.strip()}
    return "".join(line + "\n" for line in sorted(lines))
