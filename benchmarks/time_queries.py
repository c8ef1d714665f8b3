"""Time canned queries on one project, and compare two versions of the catalogue row by row.

    python benchmarks/time_queries.py benchmarks/out/1e6                       # queries/ of this checkout
    python benchmarks/time_queries.py benchmarks/out/1e6 --old /tmp/orig-queries --compare
    python benchmarks/time_queries.py benchmarks/out/1e4 --old /tmp/orig-queries --compare --variants \\
        --repeat 1 --only events,agreements
    python benchmarks/time_queries.py benchmarks/out/1e6 --served          # through kgtool serve's app
    python benchmarks/time_queries.py benchmarks/out/1e6 --served --warm   # the pages without parameters, warmed
    python benchmarks/time_queries.py benchmarks/out/1e6 --cli             # kgtool query, a process each, thrice

The store is opened once (warm); every query runs with its header's example parameters ``--repeat``
times (best kept), each run in a forked worker stopped after ``--timeout`` s (kgtool.limits.run_limited,
as benchmarks/run.py does). ``--old DIR`` runs the queries of DIR too, interleaved with the new ones, so
both are timed under the same load; ``--compare`` checks that old and new give the same rows in the same
order (and that ASK/CONSTRUCT results are equal). ``--variants`` also runs each query without parameters
and with each single parameter of its example (plus the extra values of VARIANTS below), comparing those
too. ``--json FILE`` writes every number. ``--served`` asks kgtool serve's application (in this process,
no sockets: a worker per query, JSON results) for each query twice, the second answered from the kept
answers: what a web page or an endpoint client visiting again waits. ``--cli`` runs ``kgtool query NAME
-f csv`` (``nt`` for a graph) with the example parameters as a new process, three times: with
``--no-cache`` (evaluated), then without, in an empty answer cache (evaluated and kept), then again
(answered from the kept answer, kgtool.answers): what a user at the command line waits, end to end; and
reads the kept answer here too (``load_s``: what the answer costs once the process runs, as ``new_s``
above is what evaluating costs).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

# Extra parameter values worth checking beyond the header examples (name -> list of {param: value}).
VARIANTS: dict[str, list[dict[str, str]]] = {
    "agreements": [{"party": "place:xinjiang"}, {"from": "2000"}, {"to": "1995"},
                   {"party": "organization:ministry-of-culture-of-kazakhstan", "from": "1990", "to": "2020"}],
    "events": [{"city": "place:xinjiang"}, {"type": "kzcn:Concert"}, {"field": "concept:cinema"},
               {"from": "2016", "to": "2018"}, {"city": "place:almaty", "from": "2016"}],
    "actor-activity": [{"actor": "place:almaty"}, {"actor": "place:kazakhstan"}, {"actor": "person:gabit-koishibaev"}],
    "what-happened": [{"date": "1992-08"}, {"date": "1992-08-10"}, {"date": "2019"}],
    "entity-sources": [{"entity": "person:gabit-koishibaev"}, {"entity": "place:almaty"},
                       {"entity": "source:article-000"}],
    "has-source": [{"entity": "organization:confucius-institute-at-enu"}, {"entity": "place:nowhere"}],
    "entity-graph": [{"entity": "place:almaty"}],
    "figures": [{"about": "place:kazakhstan"}, {"measure": "concept:kazakhstani-students-in-china",
                                                 "about": "place:kazakhstan"}],
    "place-activity": [{"place": "place:almaty"}, {"place": "place:kazakhstan"}],
    "ci-details": [{"institute": "organization:confucius-institute-at-kaznu"}],
    "framework-activity": [{"framework": "initiative:rukhani-zhangyru"}],
    "organizations": [{"place": "place:almaty"}, {"type": "kzcn:University", "place": "place:almaty"}],
    "timeline": [{"from": "2015"}, {"to": "1992"}],
    "events-per-year": [{"type": "kzcn:Concert"}, {"article": "source:article-000", "from": "2000"}],
    "name-variants": [{"name": "Almaty"}],
    "people-positions": [{"role": "consul"}],
    "publications": [{"type": "kzcn:Publication"}],
    "education-programmes": [{"type": "kzcn:DoctoralProgram"}],
    "events-by-organizer": [{"organizer": "organization:embassy-of-kazakhstan-in-china"}],
    "events-by-venue": [{"venue": "place:abai-monument-in-beijing"}],
    "archive-references": [{"archive": "organization:national-archives-of-kazakhstan"}],
    "eras": [{"article": "source:article-002"}],
    "fields": [{"article": "source:article-002"}],
}


def examples(query) -> dict[str, str]:
    return dict(item.split("=", 1) for item in query.example)


def variants(query) -> list[dict[str, str]]:
    """The example, no parameters (when none is required), each example parameter alone, and extras."""
    example = examples(query)
    required = {p.name for p in query.params if p.required}
    out = [example]
    if not required:
        out.append({})
    for name, value in example.items():
        single = {name: value, **{r: example[r] for r in required if r in example}}
        if single not in out:
            out.append(single)
    for extra in VARIANTS.get(query.name, []):
        values = {**{r: example[r] for r in required if r in example}, **extra}
        if values not in out:
            out.append(values)
    return out


def comparable(result):
    from kgtool.terms import AskResult, GraphResult

    if isinstance(result, AskResult):
        return ("ask", result.value)
    if isinstance(result, GraphResult):
        return ("graph", sorted(result.ntriples))
    return ("select", result.variables, [tuple("" if t is None else t.n3() for t in row) for row in result.rows])


def run(store, query, values, timeout, repeat):
    """(best seconds or None on timeout, result or None, rows)."""
    from kgtool.limits import QueryTimeout, run_limited

    bindings = query.bind(values)
    best, result = None, None
    for _ in range(repeat):
        started = time.perf_counter()
        try:
            result = run_limited(store.query, query.text, bindings, timeout=timeout, max_rows=0)
        except QueryTimeout:
            return None, None, None
        seconds = time.perf_counter() - started
        best = seconds if best is None else min(best, seconds)
        if seconds > 5:
            break
    rows = len(result.rows) if hasattr(result, "rows") else None
    return best, result, rows


def fmt(seconds) -> str:
    return "timeout" if seconds is None else f"{seconds:.3f}"


def main(argv=None) -> int:
    from kgtool.project import find_project
    from kgtool.queries import Catalogue
    from kgtool.run import open_store

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("project", type=Path)
    parser.add_argument("--queries", type=Path, default=HERE.parent / "queries", help="the new catalogue")
    parser.add_argument("--old", type=Path, help="a catalogue to time (and compare) alongside")
    parser.add_argument("--compare", action="store_true")
    parser.add_argument("--variants", action="store_true")
    parser.add_argument("--only", default="")
    parser.add_argument("--skip-old", default="", help="names whose old version is not run (known slow)")
    parser.add_argument("--timeout", type=float, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--engine", default="oxigraph")
    parser.add_argument("--no-inference", action="store_true")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--served", action="store_true")
    parser.add_argument("--result-cache", type=int, default=128, metavar="MB",
                        help="with --served: the server's --result-cache")
    parser.add_argument("--warm", action="store_true",
                        help="with --served: warm the app first, then ask each page without parameters")
    parser.add_argument("--cli", action="store_true", help="time the kgtool command, a process per run")
    args = parser.parse_args(argv)

    proj = find_project(args.project)
    if args.cli:
        return cli(proj, Catalogue(args.queries), args)
    if args.served:
        return served(proj, Catalogue(args.queries), args)
    started = time.perf_counter()
    store = open_store(proj, not args.no_inference, args.engine)
    print(f"# {args.project} engine={args.engine} opened in {time.perf_counter() - started:.3f} s", flush=True)
    new = Catalogue(args.queries)
    old = Catalogue(args.old) if args.old else None
    only = {n for n in args.only.split(",") if n}
    skip_old = {n for n in args.skip_old.split(",") if n}
    record, failures = [], []
    print("query\tparams\trows\told_s\tnew_s\tsame", flush=True)
    for name in sorted(new.queries):
        if only and name not in only:
            continue
        query = new.get(name)
        for values in (variants(query) if args.variants else [examples(query)]):
            new_s, new_result, rows = run(store, query, values, args.timeout, args.repeat)
            old_s, same = None, ""
            if old and name in old.queries and name not in skip_old:
                old_s, old_result, _ = run(store, old.get(name), values, args.timeout, args.repeat)
                if args.compare and old_result is not None and new_result is not None:
                    same = "same" if comparable(old_result) == comparable(new_result) else "DIFFERENT"
                    if same != "same":
                        failures.append((name, values))
                elif args.compare:
                    same = "unchecked"
            label = ",".join(f"{k}={v}" for k, v in values.items()) or "-"
            print(f"{name}\t{label}\t{rows}\t{fmt(old_s) if old else ''}\t{fmt(new_s)}\t{same}", flush=True)
            record.append({"query": name, "params": values, "rows": rows, "old": old_s, "new": new_s,
                           "same": same})
    if args.json:
        args.json.write_text(json.dumps(record, indent=1), encoding="utf-8")
    if failures:
        print(f"DIFFERENT: {failures}", flush=True)
        return 1
    return 0


def served(proj, catalogue, args) -> int:
    """Each query's example through kgtool serve's App twice: (status, first s, again s, bytes)."""
    import urllib.parse

    from kgtool.queries import runs_without_parameters
    from kgtool.webapp import App, Request, ServerConfig

    os.environ["KGTOOL_CACHE_DIR"] = str(empty_answers())  # "first" is computed, not read from disk
    started = time.perf_counter()
    app = App(proj, ServerConfig(timeout=args.timeout, max_rows=10_000_000, max_result_bytes=1 << 30,
                                 inference=not args.no_inference, engine=args.engine,
                                 result_cache_bytes=args.result_cache << 20))
    print(f"# {args.project} served, app ready in {time.perf_counter() - started:.3f} s", flush=True)
    if args.warm:  # as `kgtool serve --warm` does before the first visitor; then each page without parameters
        started = time.perf_counter()
        done = app.warm()
        print(f"# warm: {done.computed} of {done.jobs} default answers in {time.perf_counter() - started:.3f} s, "
              f"{done.kept} kept (result cache {args.result_cache} MB{', full' if done.cache_full else ''})",
              flush=True)
    print("query\tstatus\tfirst_s\tagain_s\tbytes", flush=True)
    only = {n for n in args.only.split(",") if n}
    record = []
    for name in sorted(catalogue.queries):
        query = catalogue.get(name)
        if only and name not in only:
            continue
        if args.warm and not runs_without_parameters(query):
            continue  # needs a parameter: not warmed, as on the server
        values = {} if args.warm else examples(query)
        request = Request("GET", f"/query/{name}", urllib.parse.urlencode(values),
                          {"accept": "application/sparql-results+json, text/turtle;q=0.9"})
        times, response = [], None
        for _ in range(2):
            begun = time.perf_counter()
            response = app.handle(request)
            times.append(time.perf_counter() - begun)
        print(f"{name}\t{response.status}\t{times[0]:.3f}\t{times[1]:.3f}\t{len(response.body)}", flush=True)
        record.append({"query": name, "status": response.status, "first": times[0], "again": times[1],
                       "bytes": len(response.body)})
    if args.json:
        args.json.write_text(json.dumps(record, indent=1), encoding="utf-8")
    return 0


def empty_answers() -> Path:
    """A cache folder with no query answers (kgtool.answers) and, linked, everything else of the current
    cache: the snapshot is not built again."""
    import atexit
    import shutil
    import tempfile

    from kgtool.closure import cache_dir

    folder = Path(tempfile.mkdtemp(prefix="bench-answers-"))
    atexit.register(shutil.rmtree, folder, True)
    for entry in cache_dir().iterdir():
        if entry.name != "answers":
            (folder / entry.name).symlink_to(entry)
    return folder


def cli(proj, catalogue, args) -> int:
    """Each query's example through the kgtool command: evaluated, evaluated and kept, answered again."""
    import subprocess

    from kgtool import answers as kept
    from kgtool.snapshot import get_snapshot

    kgtool = Path(sys.executable).with_name("kgtool")
    command = [str(kgtool)] if kgtool.is_file() else [sys.executable, "-m", "kgtool"]
    command += ["--project", str(proj.root), "query"]
    env = {k: v for k, v in os.environ.items() if k not in ("KGTOOL_ENGINE", "PYTHONDONTWRITEBYTECODE")}
    subprocess.run([*command, "ci-partners", "--no-cache"], env=env, check=True, stdout=subprocess.DEVNULL)
    # an empty answer folder for the runs, and for reading their kept answers here (load_s)
    env["KGTOOL_CACHE_DIR"] = os.environ["KGTOOL_CACHE_DIR"] = str(empty_answers())
    snapshot = get_snapshot(proj).path.name
    only = {n for n in args.only.split(",") if n}
    limits = ["--timeout", str(args.timeout), "--max-rows", "0"]
    print("query\tparams\trows\tevaluated_s\tkept_s\tagain_s\tload_s", flush=True)
    record = []
    for name in sorted(catalogue.queries):
        if only and name not in only:
            continue
        query = catalogue.get(name)
        values = examples(query)
        params = [item for key, value in values.items() for item in ("-p", key, value)]
        params += ["-f", "nt" if query.form in ("CONSTRUCT", "DESCRIBE") else "csv"]
        times, rows = [], None
        for extra in (["--no-cache"], [], []):
            begun = time.perf_counter()
            done = subprocess.run([*command, name, *params, *limits, *extra], env=env, capture_output=True)
            times.append(time.perf_counter() - begun)
            if done.returncode:
                print(f"# {name}: exit {done.returncode}: {done.stderr.decode()[:200]}", flush=True)
                break
            rows = done.stdout.count(b"\n") - (params[-1] == "csv")
        key = kept.answer_key(snapshot, True, query.text, query.bind(values))
        begun = time.perf_counter()
        loaded = kept.load(key) if key else None
        load = time.perf_counter() - begun if loaded is not None else None
        label = ",".join(f"{k}={v}" for k, v in values.items()) or "-"
        print(f"{name}\t{label}\t{rows}\t" + "\t".join(f"{t:.3f}" for t in times) + f"\t{fmt(load)}", flush=True)
        record.append({"query": name, "params": values, "rows": rows, "seconds": times, "load": load})
    again = [r["seconds"][2] for r in record if len(r["seconds"]) == 3]
    loads = [r["load"] for r in record if r["load"] is not None]
    print(f"# again within 0.1 s: {sum(t <= 0.1 for t in again)} of {len(record)}; "
          f"the kept answer read within 0.1 s: {sum(t <= 0.1 for t in loads)} of {len(record)}; "
          f"evaluated within 0.1 s: {sum(r['seconds'][0] <= 0.1 for r in record)} of {len(record)}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(record, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
