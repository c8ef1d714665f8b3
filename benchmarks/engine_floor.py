"""What Oxigraph itself takes to list the members of a class, with and without their English labels.

    python benchmarks/engine_floor.py benchmarks/out/1e6
    python benchmarks/engine_floor.py benchmarks/out/1e6 --classes kzcn:CulturalEvent,kzcn:Organization

A floor for target 2b of issue 5 (every canned query within 0.1 s at 1M, benchmarks/README.md): the list
queries answer thousands of rows, each with labels. Here no kgtool code runs between the engine and the
rows: the project's snapshot store (built first if needed) is opened read-only, and each query is plain
pyoxigraph, its rows taken as pyoxigraph makes them (best of ``--repeat``). If listing a class's members
with one label each already takes over 0.1 s, no query that must answer those rows can take less on this
engine and machine.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PREFIXES = ("PREFIX kzcn: <https://w3id.org/kzcn/ontology#>\n"
            "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n")
SHAPES = {
    "count": "SELECT (COUNT(*) AS ?n) WHERE {{ ?e a {cls} }}",
    "members": "SELECT ?e WHERE {{ ?e a {cls} }}",
    "members + English label": "SELECT ?e ?label WHERE {{ ?e a {cls} ; rdfs:label ?label "
                               "FILTER(langMatches(lang(?label), \"en\")) }}",
}


def best_of(store, text: str, repeat: int) -> tuple[float, int]:
    best, rows = float("inf"), 0
    for _ in range(repeat):
        start = time.perf_counter()
        rows = len(list(store.query(text)))
        best = min(best, time.perf_counter() - start)
    return best, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("project", type=Path)
    parser.add_argument("--classes", default="kzcn:CulturalEvent,kzcn:Organization,kzcn:Person")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sys.path.insert(0, str(HERE.parent))
    import pyoxigraph as ox

    from kgtool.project import Project
    from kgtool.snapshot import get_snapshot

    snapshot = get_snapshot(Project(args.project.resolve()))
    store = ox.Store.read_only(str(snapshot.store_dir))
    print(f"{len(store)} triples in the store; pyoxigraph {ox.__version__}")
    print("class\tquery\trows\tbest_s\tus_per_row")
    for cls in args.classes.split(","):
        for name, shape in SHAPES.items():
            seconds, rows = best_of(store, PREFIXES + shape.format(cls=cls), args.repeat)
            per_row = "" if name == "count" else f"{seconds / max(rows, 1) * 1e6:.1f}"
            print(f"{cls}\t{name}\t{rows}\t{seconds:.3f}\t{per_row}", flush=True)


if __name__ == "__main__":
    main()
