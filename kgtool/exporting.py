"""What `kgtool export` and `kgtool reason` produce from the project."""

from __future__ import annotations

from .export import serialize, serialize_dataset
from .graphs import load_graphs
from .loading import new_graph, parse_files
from .project import Project


def export_graph(project: Project, fmt: str, inferred: bool = False, data_only: bool = False) -> str:
    graphs = load_graphs(project, inference=inferred or fmt == "trig")
    ontology = parse_files([project.ontology_file])
    if fmt == "trig":
        return serialize_dataset(graphs, ontology)
    graph = graphs.union() if inferred else graphs.asserted
    if data_only:
        kept = new_graph()
        for triple in graph:
            if triple not in ontology:
                kept.add(triple)
        graph = kept
    return serialize(graph, fmt)


def export_inferences(project: Project, fmt: str) -> str:
    return serialize(load_graphs(project, inference=True).inferred, fmt)
