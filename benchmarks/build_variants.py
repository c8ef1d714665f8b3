"""Time the store snapshot's build as kgtool does it, and with only the inferences inside ``kzcn:``.

    python benchmarks/build_variants.py benchmarks/out/1e6              # both variants in turns, twice
    python benchmarks/build_variants.py benchmarks/out/1e6 --rounds 3

An experiment for a product decision (target 2a of issue 5, benchmarks/README.md), not a kgtool
feature: keeping only the inferred types that are kzcn classes and the inferred triples of kzcn
properties leaves out what the alignment to schema.org, PROV-O, FOAF, ORG, SKOS and DC terms infers, which
queries using those vocabularies need. Each build runs in a process of its own with an empty cache; the
numbers are its wall time, its CPU time (all threads: the store loads in threads of its own) and the
build's phases.
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
    used = os.times()
    return {"variant": variant, "wall": round(time.perf_counter() - start, 2),
            "cpu": round(used.user - cpu.user + used.system - cpu.system, 2),
            "user": round(used.user - cpu.user, 2), "system": round(used.system - cpu.system, 2),
            "inferred": built.meta["inferred"], "phases": built.meta["phases"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("project", type=Path)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--child", choices=["as-shipped", "kzcn-only"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(build(args.project, args.child)))
        return
    for _ in range(args.rounds):
        for variant in ("as-shipped", "kzcn-only"):
            with tempfile.TemporaryDirectory(prefix="kgtool-build-") as cache:
                run = subprocess.run([sys.executable, __file__, str(args.project), "--child", variant],
                                     env={**os.environ, "KGTOOL_CACHE_DIR": cache}, capture_output=True,
                                     text=True, check=False)
                if run.returncode:
                    sys.exit(f"{variant}: {run.stderr.strip().splitlines()[-1] if run.stderr else 'failed'}")
                print(run.stdout.strip(), flush=True)


if __name__ == "__main__":
    main()
