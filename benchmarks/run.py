"""Benchmark kgtool against the peers doing the same work, at 1e3 to 1e6 triples; print a table.

Every measurement runs in a fresh subprocess (``run.py --step NAME``), so peak memory (``ru_maxrss`` of that
process, from ``os.wait4``) belongs to it alone; times are taken inside the step unless the row says
"process". Baselines: a plain rdflib script (parse + SELECT), a plain pyoxigraph script (persistent
store), owlrl (via kgtool.reason, the reference reasoner), pySHACL (via kgtool.validate, the reference
validator), and a plain rdflib script for the Turtle export.

    python benchmarks/run.py                          # sizes 1e3,1e4,1e5,1e6; baselines where feasible
    python benchmarks/run.py --sizes 1e3,1e4 --pyshacl-max 1e3

Outputs (git-ignored): generated projects in benchmarks/out/<size>/, results in benchmarks/out/results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
OUT = HERE / "out"
sys.path.insert(0, str(REPO))


# ------------------------------------------------------------------------------------------ steps
def step(name: str, project: Path, extra: str | None) -> dict:
    from kgtool.project import find_project

    proj = find_project(project)
    result = STEPS[name](proj, extra)
    result["peak_mb"] = peak_mb()
    return result


def peak_mb() -> float | None:
    """This process's peak resident memory (VmHWM: counted from exec, unlike a child's ru_maxrss, which
    starts at its parent's size when it was forked)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def _timed(fn, *args):
    started = time.perf_counter()
    value = fn(*args)
    return time.perf_counter() - started, value


def s_kgtool_build(proj, _extra):
    from kgtool.snapshot import get_snapshot

    seconds, snap = _timed(get_snapshot, proj)
    return {"seconds": seconds, **snap.meta}


def s_oxigraph_load(proj, _extra):
    import pyoxigraph as ox

    folder = Path(tempfile.mkdtemp(prefix="bench-ox-"))
    try:
        started = time.perf_counter()
        store = ox.Store(str(folder / "db"))
        for path in proj.source_files:
            store.bulk_load(path=str(path), format=ox.RdfFormat.TURTLE, base_iri=path.resolve().as_uri())
        store.flush()
        load = time.perf_counter() - started
        text = (proj.queries_dir / "ci-partners.rq").read_text(encoding="utf-8")
        query, rows = _timed(lambda: list(store.query(text)))
        return {"seconds": load, "query": query, "rows": len(rows), "triples": len(store)}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def s_rdflib_load(proj, _extra):
    from rdflib import Graph

    started = time.perf_counter()
    graph = Graph()
    for path in proj.source_files:
        graph.parse(path, format="turtle")
    load = time.perf_counter() - started
    text = (proj.queries_dir / "ci-partners.rq").read_text(encoding="utf-8")
    query, rows = _timed(lambda: list(graph.query(text)))
    return {"seconds": load, "query": query, "rows": len(rows), "triples": len(graph)}


def _examples(query) -> dict[str, str]:
    return dict(item.split("=", 1) for item in query.example)


def s_queries(proj, engine):
    """Every canned query with its example parameters: best of 3 runs (1 when a run takes over
    BENCH_REPEAT_BELOW s), each stopped after BENCH_QUERY_TIMEOUT s (kgtool.limits: fork and kill)."""
    from kgtool.limits import QueryTimeout, run_limited
    from kgtool.run import load_catalogue, open_store

    opened, store = _timed(open_store, proj, True, engine)
    slow = float(os.environ.get("BENCH_REPEAT_BELOW", "5"))
    limit = float(os.environ.get("BENCH_QUERY_TIMEOUT", "60"))
    times: dict[str, float | str] = {}
    for query in sorted(load_catalogue(proj), key=lambda q: q.name):
        bindings = query.bind(_examples(query))
        best = None
        for _ in range(3):
            try:
                seconds, _result = _timed(lambda q=query, b=bindings: run_limited(
                    store.query, q.text, b, timeout=limit, max_rows=0))
            except QueryTimeout:
                best = f"> {limit:g}"
                break
            best = seconds if best is None else min(best, seconds)
            if seconds > slow:
                break
        times[query.name] = best
    numbers = sorted(t if isinstance(t, float) else limit for t in times.values())
    over = [name for name, t in times.items() if not isinstance(t, float) or t > 0.1]
    return {"seconds": max(numbers), "open": opened, "median": statistics.median(numbers),
            "over_100ms": len(over), "per_query": times}


def _strings(proj):
    from kgtool.snapshot import parse_file

    return {t for path in proj.source_files for t in parse_file(path)}


def s_reason_kgtool(proj, _extra):
    from kgtool import rules

    triples = _strings(proj)
    seconds, inferred = _timed(rules.infer, triples)
    return {"seconds": seconds, "inferred": len(inferred), "asserted": len(triples)}


def s_reason_owlrl(proj, _extra):
    from kgtool.graphs import load_asserted
    from kgtool.reason import infer

    graph = load_asserted(proj)
    seconds, inferred = _timed(infer, graph)
    return {"seconds": seconds, "inferred": len(inferred), "asserted": len(graph)}


def s_validate_kgtool(proj, _extra):
    from kgtool.fastvalidate import validate_project_fast

    seconds, report = _timed(validate_project_fast, proj)
    return {"seconds": seconds, "conforms": report.conforms, "findings": len(report.findings),
            "violations": len(report.violations)}


def s_validate_pyshacl(proj, _extra):
    import logging

    from kgtool.validate import validate_project

    logging.disable(logging.CRITICAL)
    # pySHACL as shipped: without kgtool's parse-once patch of rdflib (kgtool.parsed_queries)
    seconds, report = _timed(lambda: validate_project(proj, parse_once=False))
    return {"seconds": seconds, "conforms": report.conforms, "findings": len(report.findings),
            "violations": len(report.violations)}


def s_contribution_kgtool(proj, name):
    """What `kgtool validate FILE` runs: the whole contribution gate (syntax, hygiene, policy, vocabulary,
    SHACL in context, references)."""
    from kgtool.contribution import check_contribution

    seconds, report = _timed(check_contribution, proj, [proj.root / name])
    return {"seconds": seconds, "conforms": report.conforms, "findings": len(report.findings)}


def s_export_kgtool(proj, _extra):
    """What `kgtool export --format ttl` runs (kgtool.fastexport behind it)."""
    from kgtool.exporting import export_graph

    seconds, text = _timed(export_graph, proj, "ttl")
    return {"seconds": seconds, "bytes": len(text.encode("utf-8"))}


def s_export_rdflib(proj, _extra):
    """A plain rdflib script doing the same work: parse the ontology and the data, write Turtle."""
    from rdflib import Graph

    def export() -> str:
        graph = Graph()
        for path in proj.source_files:
            graph.parse(path, format="turtle")
        return graph.serialize(format="turtle")

    seconds, text = _timed(export)
    return {"seconds": seconds, "bytes": len(text.encode("utf-8"))}


STEPS = {"kgtool-build": s_kgtool_build, "oxigraph-load": s_oxigraph_load, "rdflib-load": s_rdflib_load,
         "queries": s_queries, "reason-kgtool": s_reason_kgtool, "reason-owlrl": s_reason_owlrl,
         "validate-kgtool": s_validate_kgtool, "validate-pyshacl": s_validate_pyshacl,
         "contribution-kgtool": s_contribution_kgtool, "export-kgtool": s_export_kgtool,
         "export-rdflib": s_export_rdflib}


# ------------------------------------------------------------------------------------------ driver
def run_step(name: str, project: Path, cache: Path, extra: str | None = None) -> dict:
    env = {**os.environ, "KGTOOL_CACHE_DIR": str(cache), "PYTHONHASHSEED": "0"}
    cmd = [sys.executable, str(Path(__file__)), "--step", name, "--project", str(project)]
    if extra:
        cmd += ["--extra", extra]
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=errors)
        out = proc.stdout.read().decode()
        proc.wait()
        wall = time.perf_counter() - started
        errors.seek(0)
        err = errors.read().decode(errors="replace").strip()
    if proc.returncode:
        return {"error": err.splitlines()[-1] if err else f"exit {proc.returncode}"}
    result = json.loads(out.strip().splitlines()[-1])
    result["process"] = wall
    return result


def timed_processes(cmds: dict[str, list[str]], env: dict, runs: dict[str, int]) \
        -> dict[str, tuple[float, float, float | None]]:
    """(min, median) wall time of each command over its ``runs``, taken in turns (one run of each, then
    again), so every command meets the same load on a shared machine, and its peak memory in MB (one more
    run under /usr/bin/time, whose small size does not inflate the count as this process's would)."""
    times: dict[str, list[float]] = {name: [] for name in cmds}
    for turn in range(max(runs.values())):
        for name, cmd in cmds.items():
            if turn >= runs[name]:
                continue
            started = time.perf_counter()
            done = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            times[name].append(time.perf_counter() - started)
            if done.returncode:
                raise SystemExit(f"{' '.join(cmd)} failed: {done.stderr.decode()[-500:]}")
    out = {}
    for name, cmd in cmds.items():
        peak = None
        if Path("/usr/bin/time").exists():
            done = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True)
            peak = round(int(done.stderr.strip().splitlines()[-1]) / 1024, 1)
        out[name] = (min(times[name]), statistics.median(times[name]), peak)
    return out


# ------------------------------------------------------------------------------------------ report
ROWS: list[dict] = []


def row(size: str, task: str, ours: dict | None, base: dict | None = None, baseline: str = "",
        key: str = "seconds", note: str = "") -> None:
    def value(result):
        if not result:
            return None
        return result.get(key) if "error" not in result else result["error"]

    mine, theirs = value(ours), value(base)
    ratio = theirs / mine if isinstance(mine, float) and isinstance(theirs, float) and mine else None
    ROWS.append({"size": size, "task": task, "kgtool": mine, "baseline": baseline, "baseline_value": theirs,
                 "ratio": ratio, "kgtool_mb": (ours or {}).get("peak_mb"),
                 "baseline_mb": (base or {}).get("peak_mb"),
                 "note": note})
    print(_line(ROWS[-1]), flush=True)


def _fmt(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}" if value < 10 else f"{value:.1f}"
    return str(value)


def _line(r: dict) -> str:
    ratio = f"{r['ratio']:.1f}x" if r["ratio"] else "–"
    return (f"| {r['size']} | {r['task']} | {_fmt(r['kgtool'])} | {r['baseline'] or '–'} | "
            f"{_fmt(r['baseline_value'])} | {ratio} | {_fmt(r['kgtool_mb'])} | {_fmt(r['baseline_mb'])} | "
            f"{r['note']} |")


HEADER = ("| size | task | kgtool (s) | baseline | baseline (s) | speed-up | kgtool MB | baseline MB "
          "| note |\n"
          "|---|---|---|---|---|---|---|---|---|")


def machine() -> dict:
    from importlib import metadata

    import owlrl
    import pyoxigraph
    import pyshacl
    import rdflib

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    memory = next((line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")), "0")
    return {"date": time.strftime("%Y-%m-%d %H:%M %Z"), "cpu": cpu, "cores": os.cpu_count(),
            "memory_gb": round(int(memory) / 1024 / 1024, 1), "python": platform.python_version(),
            "os": platform.platform(), "load_average": os.getloadavg(),
            "versions": {"rdflib": rdflib.__version__, "pyoxigraph": pyoxigraph.__version__,
                         "pyshacl": pyshacl.__version__, "owlrl": owlrl.__version__,
                         "click": metadata.version("click")}}


RDFLIB_SCRIPT = """
import glob, sys
from rdflib import Graph
g = Graph()
for f in ["ontology/kzcn.ttl", *sorted(glob.glob("data/*.ttl"))]:
    g.parse(f, format="turtle")
print(len(list(g.query(open("queries/ci-partners.rq").read()))))
"""
OXIGRAPH_SCRIPT = """
import sys
import pyoxigraph as ox
store = ox.Store.read_only(sys.argv[1])
print(len(list(store.query(open("queries/ci-partners.rq").read()))))
"""


def cold_query(repeat: int) -> None:
    """kgtool query on the bundled data, a cold process with a warm cache, against `import click`: the
    answer kept on disk by the first run (kgtool.answers), and evaluated (--no-cache)."""
    import pyoxigraph as ox

    cache = Path(tempfile.mkdtemp(prefix="bench-cache-"))
    env = {**os.environ, "KGTOOL_CACHE_DIR": str(cache)}
    env.pop("KGTOOL_ENGINE", None)
    # Python's default: modules compiled once into __pycache__ (pip does it at install for click; an
    # editable kgtool gets it on the first run, unless PYTHONDONTWRITEBYTECODE is set, as on our CI box)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    py = sys.executable
    script = Path(py).with_name("kgtool")  # the console script users type
    kgtool = [str(script)] if script.is_file() else [py, "-m", "kgtool"]
    subprocess.run([*kgtool, "query", "ci-partners"], env=env, cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    store_dir = cache / "plain-store"
    plain = ox.Store(str(store_dir))
    for path in [REPO / "ontology" / "kzcn.ttl", *sorted((REPO / "data").glob("*.ttl"))]:
        plain.bulk_load(path=str(path), format=ox.RdfFormat.TURTLE, base_iri=path.resolve().as_uri())
    plain.flush()
    del plain
    os.chdir(REPO)
    runs = {
        "click": [py, "-c", "import click"],
        "kgtool": [*kgtool, "query", "ci-partners"],  # answered from the answer kept by the first run
        "kgtool-no-cache": [*kgtool, "query", "ci-partners", "--no-cache"],  # evaluated every time
        "kgtool-rdflib": [*kgtool, "query", "ci-partners", "--engine", "rdflib"],
        "rdflib-script": [py, "-c", RDFLIB_SCRIPT],
        "oxigraph-script": [py, "-c", OXIGRAPH_SCRIPT, str(store_dir)],
    }
    got = timed_processes(runs, env, {name: repeat if name != "kgtool-rdflib" else max(3, repeat // 4)
                                      for name in runs})
    click_min = got["click"][0]
    for name, (best, median, peak) in got.items():
        note = f"median {median:.3f} s; {best / click_min:.2f}x import click"
        ROWS.append({"size": "bundled", "task": f"cold process: {name}", "kgtool": best, "baseline": "",
                     "baseline_value": None, "ratio": None, "kgtool_mb": peak, "baseline_mb": None,
                     "note": note})
        print(_line(ROWS[-1]), flush=True)
    shutil.rmtree(cache, ignore_errors=True)


def scale(size: float, args) -> None:
    from generate import generate

    label = f"{size:.0e}".replace("+0", "").replace("+", "")
    project = OUT / label
    if not (project / "data").is_dir():
        generate(int(size), project)
    # time today's queries (and shapes), not the copies made when the graph was generated
    shutil.rmtree(project / "queries", ignore_errors=True)
    shutil.copytree(REPO / "queries", project / "queries")
    shutil.copy(REPO / "ontology" / "shapes.ttl", project / "ontology" / "shapes.ttl")
    cache = Path(tempfile.mkdtemp(prefix=f"bench-{label}-"))
    try:
        _scale(size, label, project, cache, args)
    finally:
        shutil.rmtree(cache, ignore_errors=True)


def _scale(size: float, label: str, project: Path, cache: Path, args) -> None:
    build = run_step("kgtool-build", project, cache)
    triples = build.get("asserted", "?")
    phases = build.get("phases", {})
    oxi = run_step("oxigraph-load", project, cache)
    row(label, f"load {triples} triples: parse + persistent store + OWL RL closure", build, oxi,
        "pyoxigraph load only", note=f"phases {phases}; kgtool inferred {build.get('inferred')}")
    if size <= args.rdflib_load_max and not args.queries_only:
        rdf = run_step("rdflib-load", project, cache)
        row(label, "load (rdflib script: parse + 1 SELECT)", build, rdf, "rdflib parse",
            note=f"rdflib SELECT {_fmt(rdf.get('query'))} s")
    _queries(size, label, project, cache, args)
    if args.queries_only:
        return
    owl = run_step("reason-owlrl", project, cache) if size <= args.owlrl_max else None
    row(label, "OWL RL closure (reasoning only)", run_step("reason-kgtool", project, cache), owl, "owlrl")
    shacl = run_step("validate-pyshacl", project, cache) if size <= args.pyshacl_max else None
    fast = run_step("validate-kgtool", project, cache)
    row(label, "full validation", fast, shacl, "pySHACL",
        note=f"conforms {fast.get('conforms')} / pySHACL {None if shacl is None else shacl.get('conforms')}")
    for name in ("contribution.ttl", "contribution-bad.ttl"):
        first = run_step("contribution-kgtool", project, cache, name)  # builds the gate's index once
        checked = run_step("contribution-kgtool", project, cache, name)
        verdict = merged_verdicts(project, name, cache, size <= args.pyshacl_max)
        row(label, f"contribution check {name} (1,000 triples)", checked, verdict.get("pyshacl"),
            "full pySHACL on merged",
            note=f"verdict: conforms={checked.get('conforms')}; full run on the merged graph: "
                 f"kgtool {verdict.get('kgtool_full')}, pySHACL {verdict.get('pyshacl_conforms', 'not run')}; "
                 f"whole process {_fmt(checked.get('process'))} s (first on a new snapshot, building the gate's index: "
                 f"{_fmt(first.get('process'))} s)")
    export = run_step("export-kgtool", project, cache)
    old = run_step("export-rdflib", project, cache) if size <= args.baseline_max else None
    row(label, "Turtle export", export, old, "rdflib script: parse + serialize", note=f"{export.get('bytes')} bytes")


def _queries(size: float, label: str, project: Path, cache: Path, args) -> None:
    """Every canned query, warm, on Oxigraph (and on rdflib up to --baseline-max)."""
    queries = run_step("queries", project, cache, "oxigraph")
    per_query = queries.get("per_query", {"-": 0.0})
    slowest = max(per_query.items(), key=lambda kv: kv[1] if isinstance(kv[1], float) else float("inf"))
    rdflib_q = run_step("queries", project, cache, "rdflib") if size <= args.baseline_max else None
    row(label, "slowest canned query, warm (oxigraph)", queries, rdflib_q, "same on rdflib",
        note=f"slowest {slowest[0]} ({_fmt(slowest[1])} s); {queries.get('over_100ms')} of {len(per_query)} "
             f"over 0.1 s; median {_fmt(queries.get('median'))} s; open {_fmt(queries.get('open'))} s")
    Path(OUT / f"queries-{label}.json").write_text(json.dumps(queries, indent=1))


def merged_verdicts(project: Path, name: str, cache: Path, with_pyshacl: bool) -> dict:
    """Verdicts of full validations of data + contribution: kgtool's, and pySHACL's where feasible."""
    merged = Path(tempfile.mkdtemp(prefix="bench-merged-"))
    try:
        for folder in ("ontology", "data", "queries"):
            shutil.copytree(project / folder, merged / folder)
        shutil.copy(project / name, merged / "data" / f"zz-{name}")
        out = {"kgtool_full": run_step("validate-kgtool", merged, cache).get("conforms")}
        if with_pyshacl:
            result = run_step("validate-pyshacl", merged, cache)
            out["pyshacl"] = result
            out["pyshacl_conforms"] = result.get("conforms")
        return out
    finally:
        shutil.rmtree(merged, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--step", choices=sorted(STEPS), help=argparse.SUPPRESS)
    parser.add_argument("--project", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--extra", help=argparse.SUPPRESS)
    parser.add_argument("--sizes", default="1e3,1e4,1e5,1e6", help='comma-separated; "" for the cold runs only')
    parser.add_argument("--baseline-max", type=float, default=1e4,
                        help="largest size for rdflib queries and the rdflib export script")
    parser.add_argument("--rdflib-load-max", type=float, default=1e6,
                        help="largest size for the rdflib parse")
    parser.add_argument("--owlrl-max", type=float, default=1e5, help="largest size for owlrl")
    parser.add_argument("--pyshacl-max", type=float, default=1e4, help="largest size for pySHACL")
    parser.add_argument("--repeat", type=int, default=20, help="runs of each cold-process measurement")
    parser.add_argument("--skip-cold", action="store_true")
    parser.add_argument("--queries-only", action="store_true",
                        help="at each size, only the snapshot build and the canned queries (after a query rewrite)")
    args = parser.parse_args(argv)
    if args.step:
        print(json.dumps(step(args.step, args.project, args.extra), default=str))
        return 0
    OUT.mkdir(exist_ok=True)
    info = machine()
    print(json.dumps(info, indent=1))
    print(HEADER)
    if not args.skip_cold:
        cold_query(args.repeat)
    for size in (float(s) for s in args.sizes.split(",") if s.strip()):
        scale(size, args)
    results = OUT / ("results-queries.json" if args.queries_only else "results.json")
    results.write_text(json.dumps({"machine": info, "rows": ROWS}, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
