"""Counts that describe the graph: triples, entities per class, events per year, facts per source."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from rdflib import RDF, URIRef

from .graphs import load_graphs
from .namespaces import INSTANCE_BASE, ONTOLOGY, shorten
from .project import Project

KZCN = ONTOLOGY


@dataclass
class Stats:
    asserted_triples: int
    data_triples: int
    inferred_triples: int
    entities: int
    per_class: dict[str, int] = field(default_factory=dict)
    events_per_year: dict[str, int] = field(default_factory=dict)
    facts_per_source: dict[str, int] = field(default_factory=dict)
    dated_events: int = 0
    sourced_nodes: int = 0


def compute_stats(project: Project) -> Stats:
    graphs = load_graphs(project, inference=True)
    union = graphs.union()
    ontology_triples = sum(1 for _ in _ontology_graph(project))
    entities = {s for s in graphs.asserted.subjects() if isinstance(s, URIRef) and str(s).startswith(INSTANCE_BASE)}
    per_class = Counter()
    for entity in entities:
        for cls in union.objects(entity, RDF.type):
            if str(cls).startswith(KZCN):
                per_class[shorten(str(cls))] += 1
    years = Counter()
    dated = 0
    for event in union.subjects(RDF.type, URIRef(KZCN + "CulturalEvent")):
        date = union.value(event, URIRef(KZCN + "date")) or union.value(event, URIRef(KZCN + "startDate"))
        if date is not None:
            dated += 1
            years[str(date)[:4]] += 1
    per_source = Counter()
    stated_in = URIRef(KZCN + "statedIn")
    sourced = set()
    for node, article in graphs.asserted.subject_objects(stated_in):
        sourced.add(node)
        per_source[shorten(str(article))] += 1
    return Stats(
        asserted_triples=len(graphs.asserted), data_triples=len(graphs.asserted) - ontology_triples,
        inferred_triples=len(graphs.inferred), entities=len(entities),
        per_class=dict(sorted(per_class.items(), key=lambda kv: (-kv[1], kv[0]))),
        events_per_year=dict(sorted(years.items())), facts_per_source=dict(sorted(per_source.items())),
        dated_events=dated, sourced_nodes=len(sourced),
    )


def _ontology_graph(project: Project):
    from .loading import parse_files

    return parse_files([project.ontology_file])


def render_stats_text(stats: Stats) -> str:
    lines = [
        f"triples: {stats.asserted_triples} asserted ({stats.data_triples} data, "
        f"{stats.asserted_triples - stats.data_triples} ontology), {stats.inferred_triples} inferred",
        f"entities: {stats.entities}; nodes with a source: {stats.sourced_nodes}; dated events: {stats.dated_events}",
        "",
        "entities per class (with inferred superclasses):",
    ]
    lines += [f"  {name:<40} {count:>5}" for name, count in stats.per_class.items()]
    lines += ["", "events per year:"]
    lines += [f"  {year}  {'#' * count} {count}" for year, count in stats.events_per_year.items()]
    lines += ["", "facts per source (nodes that cite it):"]
    lines += [f"  {name:<40} {count:>5}" for name, count in stats.facts_per_source.items()]
    return "\n".join(lines) + "\n"


def render_stats_json(stats: Stats) -> str:
    import json
    from dataclasses import asdict

    return json.dumps(asdict(stats), ensure_ascii=False, indent=2) + "\n"
