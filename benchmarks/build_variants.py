"""Time the store snapshot's build as kgtool does it, with only the inferences inside ``kzcn:``, and the
floors: pyoxigraph alone loading the sources, and the built closure.

    python benchmarks/build_variants.py benchmarks/out/1e6              # the variants in turns, twice
    python benchmarks/build_variants.py benchmarks/out/1e6 --rounds 3

An experiment for a product decision (target 2a of issue 5, benchmarks/README.md), not a kgtool
feature: keeping only the inferred types that are kzcn classes and the inferred triples of kzcn
properties leaves out what the alignment to schema.org, PROV-O, FOAF, ORG, SKOS and DC terms infers, which
queries using those vocabularies need. Each build runs in a process of its own with an empty cache; the
numbers are its wall time, its CPU time (all threads: the store loads in threads of its own) and the
build's phases.

The two floors take no Python work per triple: ``oxigraph-sources`` is pyoxigraph's ``bulk_load`` of the
Turtle sources into a new store (the issue's baseline: no reasoning, no compaction);
``oxigraph-closure`` is the same of the N-Triples files the as-shipped build of that round wrote (the
asserted and the inferred triples: what the store must hold), then the compaction the build does. The
second is what any build that keeps the closure in an Oxigraph store must pay at least.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
KZCN = "<https://w3id.org/kzcn/ontology#"
RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
VARIANTS = ("as-shipped", "kzcn-only", "oxigraph-sources", "oxigraph-closure")


def build(project: Path, variant: str) -> dict:
    """One build in this process (called in a child: see main)."""
    sys.path.insert(0, str(HERE.parent))
    from kgtool import snapshot
    from kgtool.project import Project

    if variant == "kzcn-only":
        infer = snapshot.infer_facts

        def kzcn_only(facts, project):
            inferred, *rest = infer(facts, project)
            kept = {p: [(s, o) for s, o in pairs if o.startswith(KZCN)] if p == RDF_TYPE else pairs
                    for p, pairs in inferred.items() if p == RDF_TYPE or p.startswith(KZCN)}
            return kept, *rest

        snapshot.infer_facts = kzcn_only
    start, cpu = time.perf_counter(), os.times()
    built = snapshot.get_snapshot(Project(project.resolve()))
    return {**_times(start, cpu), "variant": variant, "inferred": built.meta["inferred"],
            "phases": built.meta["phases"], "files": [str(built.asserted_file), str(built.inferred_file)]}


def load_only(variant: str, files: list[Path], store_dir: Path) -> dict:
    """pyoxigraph alone: ``files`` bulk-loaded into a new store (called in a child)."""
    import pyoxigraph as ox

    start, cpu = time.perf_counter(), os.times()
    store = ox.Store(str(store_dir))
    for path in files:
        turtle = path.suffix == ".ttl"
        store.bulk_load(path=str(path), format=ox.RdfFormat.TURTLE if turtle else ox.RdfFormat.N_TRIPLES,
                        base_iri=path.resolve().as_uri() if turtle else None)
    if variant == "oxigraph-closure":
        store.flush()
        store.optimize()
    return {**_times(start, cpu), "variant": variant, "triples": len(store)}


def _times(start: float, cpu: os.times_result) -> dict:
    used = os.times()
    return {"wall": round(time.perf_counter() - start, 2),
            "cpu": round(used.user - cpu.user + used.system - cpu.system, 2),
            "user": round(used.user - cpu.user, 2), "system": round(used.system - cpu.system, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("project", type=Path)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--files", type=Path, nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child in ("as-shipped", "kzcn-only"):
        print(json.dumps(build(args.project, args.child)))
        return
    if args.child:
        with tempfile.TemporaryDirectory(prefix="kgtool-load-") as store_dir:
            print(json.dumps(load_only(args.child, args.files, Path(store_dir))))
        return
    sys.path.insert(0, str(HERE.parent))
    from kgtool.project import Project

    sources = Project(args.project.resolve()).source_files
    for _ in range(args.rounds):
        with tempfile.TemporaryDirectory(prefix="kgtool-build-") as kept:
            closure: list[str] = []
            for variant in VARIANTS:
                files = {"oxigraph-sources": [str(p) for p in sources], "oxigraph-closure": closure}.get(variant)
                with tempfile.TemporaryDirectory(prefix="kgtool-build-") as cache:
                    command = [sys.executable, __file__, str(args.project), "--child", variant]
                    folder = kept if variant == "as-shipped" else cache
                    run = subprocess.run([*command, *(["--files", *files] if files is not None else [])],
                                         env={**os.environ, "KGTOOL_CACHE_DIR": folder},
                                         capture_output=True, text=True, check=False)
                if run.returncode:
                    sys.exit(f"{variant}: {run.stderr.strip().splitlines()[-1] if run.stderr else 'failed'}")
                result = json.loads(run.stdout)
                built_files = result.pop("files", None)
                closure = built_files if variant == "as-shipped" else closure
                print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
