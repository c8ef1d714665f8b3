"""What `kgtool export` and `kgtool reason` produce from the project.

Turtle, N-Triples, TriG and N-Quads are written from the snapshot's N-Triples files by :mod:`kgtool.fastexport`
(a million triples in seconds; rdflib only labels the few blank nodes); JSON-LD and RDF/XML by rdflib's
writers from the same lines, every literal as written. :func:`export_graph_rdflib` goes through rdflib
graphs parsed from the sources, with the same writers, so tests/test_export.py can compare the two paths
byte for byte.
"""

from __future__ import annotations

from collections.abc import Iterator

from .errors import UsageError
from .fastexport import (
    FAST_FORMATS,
    Lines,
    export_bytes,
    export_chunks,
    inferences_bytes,
    project_lines,
    read_lines,
)
from .project import Project
from .snapshot import get_snapshot

#: The formats of `kgtool export` (kgtool.export.FORMATS; not imported from there, which imports rdflib).
FORMATS = ("ttl", "nt", "jsonld", "trig", "nq", "xml")


def export_graph(project: Project, fmt: str, inferred: bool = False, data_only: bool = False) -> str:
    """The project as `kgtool export` writes it: ontology + data (``data_only``: the data alone), with the
    OWL RL inferences if ``inferred``; TriG and N-Quads always have the three apart, as named graphs (the
    ontology's left out if ``data_only``)."""
    _check_format(fmt)
    if fmt in FAST_FORMATS:
        return export_bytes(project, fmt, inferred=inferred, data_only=data_only).decode("utf-8")
    return _through_rdflib(project_lines(project, inferred=inferred, data_only=data_only), fmt)


def export_stream(project: Project, fmt: str, inferred: bool = False, data_only: bool = False) -> Iterator[bytes]:
    """:func:`export_graph` as UTF-8 pieces for a writer: never decoded into one str (at a million triples
    that copy, and the one a text stream encodes back, each held the whole document again)."""
    _check_format(fmt)
    if fmt in FAST_FORMATS:
        yield from export_chunks(project, fmt, inferred=inferred, data_only=data_only)
    else:
        yield _through_rdflib(project_lines(project, inferred=inferred, data_only=data_only), fmt).encode("utf-8")


def _through_rdflib(lines: Lines, fmt: str) -> str:
    """JSON-LD or RDF/XML of the same triples as the other formats, literals as written (not re-parsed by
    rdflib, which normalises them)."""
    from .export import graph_of_lines, serialize

    return serialize(graph_of_lines([*lines.plain, *lines.blank]), fmt)


def export_graph_rdflib(project: Project, fmt: str, inferred: bool = False, data_only: bool = False) -> str:
    """The same export through rdflib graphs (parsed with rdflib, which normalises literals such as
    ``"01"^^xsd:integer``; the snapshot keeps them as written)."""
    from .export import serialize, serialize_dataset
    from .graphs import inferred_triples, load_asserted
    from .loading import new_graph, parse_files

    _check_format(fmt)
    if fmt in ("trig", "nq"):
        ontology = parse_files([project.ontology_file])
        graphs = {"ontology": ontology, "asserted": _data_only(project, ontology),
                  "inferred": inferred_triples(project)}
        return serialize_dataset({k: v for k, v in graphs.items() if not (data_only and k == "ontology")}, fmt)
    if data_only:
        graph = _data_only(project, parse_files([project.ontology_file]))
    else:
        graph = load_asserted(project)
    if inferred:
        union = new_graph()
        for part in (graph, inferred_triples(project)):
            for triple in part:
                union.add(triple)
        graph = union
    return serialize(graph, fmt)


def _data_only(project: Project, ontology):
    """The triples of ``data/*.ttl`` that the ontology does not state. Parsed from the data files: the
    ontology's blank nodes (property chains) get new labels in every parse, so subtracting a separately
    parsed ontology from ontology + data would keep them."""
    from .loading import parse_files

    data = parse_files(project.data_files)
    for triple in [t for t in data if t in ontology]:
        data.remove(triple)
    return data


def export_inferences(project: Project, fmt: str) -> str:
    """The OWL RL inferences only (`kgtool reason`)."""
    _check_format(fmt)
    if fmt in ("ttl", "nt"):
        return inferences_bytes(project, fmt).decode("utf-8")
    return _through_rdflib(read_lines(get_snapshot(project).inferred_file), fmt)


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise UsageError(f"unknown export format {fmt!r}", hint=f"choose one of: {', '.join(FORMATS)}")
