"""The project's triples, asserted and inferred, ready to query: one cache entry per content of the inputs.

A snapshot is a folder in the cache (:mod:`kgtool.closure`) named after the hash of ``ontology/kzcn.ttl``
and ``data/*.ttl`` (and of the code that builds it). It holds

- ``asserted.nt``: ontology + data, as N-Triples;
- ``inferred.nt``: the OWL RL inferences without reasoner noise, as N-Triples (what the rdflib engine
  adds to its graph);
- ``exact-literals.nt``: the triples whose literal an Oxigraph store normalises (derived integer types);
- ``store/``: an Oxigraph (RocksDB) store, the asserted triples in a named graph and the inferred ones in
  the default graph, opened read-only in about 10 ms at any size (loading the files into memory instead
  takes ~15 ms for the bundled data, seconds at a million triples);
- ``meta.json``: counts, the reasoner used, the build time. It is written last: a folder without it is
  never published.

It is built once per change of the inputs, by whichever process needs it first, without rdflib (pyoxigraph
parses, :mod:`kgtool.rules` reasons; owlrl only when the ontology uses an axiom the fast reasoner lacks),
and published by renaming its folder, under a lock, so concurrent starts never see half of it.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

from . import closure
from .errors import InputError
from .project import Project

SNAPSHOT_FORMAT = "snapshot-v1"
ASSERTED_GRAPH = "https://w3id.org/kzcn/graph/asserted"
_CODE = ("snapshot", "rules", "reason", "closure")


@dataclass(frozen=True)
class Snapshot:
    path: Path
    key: str

    @property
    def asserted_file(self) -> Path:
        return self.path / "asserted.nt"

    @property
    def inferred_file(self) -> Path:
        return self.path / "inferred.nt"

    @property
    def exact_literals_file(self) -> Path:
        return self.path / "exact-literals.nt"

    @property
    def store_dir(self) -> Path:
        return self.path / "store"

    @property
    def meta(self) -> dict:
        return json.loads((self.path / "meta.json").read_text(encoding="utf-8"))

    def open(self):
        """A pyoxigraph store: the asserted triples in the named graph ASSERTED_GRAPH, the inferred ones in
        the default graph (see :meth:`graphs`)."""
        import pyoxigraph as ox

        if self.store_dir.is_dir():
            try:
                return ox.Store.read_only(str(self.store_dir))
            except OSError:  # an unreadable database: the N-Triples files hold the same triples
                pass
        store = ox.Store()
        store.bulk_load(path=str(self.asserted_file), format=ox.RdfFormat.N_TRIPLES,
                        to_graph=ox.NamedNode(ASSERTED_GRAPH))
        store.bulk_load(path=str(self.inferred_file), format=ox.RdfFormat.N_TRIPLES)
        return store

    @staticmethod
    def graphs(inference: bool = True) -> list[str]:
        """The graphs a query's default graph is made of ("" is the store's default graph)."""
        return [ASSERTED_GRAPH, ""] if inference else [ASSERTED_GRAPH]


def snapshot_key(project: Project) -> str:
    import pyoxigraph

    salt = f"{SNAPSHOT_FORMAT}|{pyoxigraph.__version__}|{closure.code_digest(*_CODE)}"
    return closure.inputs_key(project.source_files, salt=salt)


#: The snapshot last found in this process, by the stat of every input: `kgtool query` asks twice (once to
#: build it outside the query's limits, once to open it) and should hash the inputs once.
_found: dict[tuple, Snapshot] = {}


def get_snapshot(project: Project) -> Snapshot:
    """The project's snapshot, built first if the inputs changed since the last one."""
    files = project.source_files
    try:
        stats = [(str(p), p.stat()) for p in files]
    except OSError:
        stats = []
    # only files unchanged for a while: an edit within the same clock tick keeps a file's times (closure._Memo)
    settled = stats and time.time_ns() - max(max(st.st_mtime_ns, st.st_ctime_ns) for _p, st in stats) > \
        closure.SETTLED_NS
    signature = tuple((p, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino) for p, st in stats) \
        if settled else None
    known = _found.get(signature) if signature else None
    if known is not None and (known.path / "meta.json").is_file():
        return known
    snapshot = _get_snapshot(project)
    _found.clear()
    if signature:
        _found[signature] = snapshot
    return snapshot


def _get_snapshot(project: Project) -> Snapshot:
    key = snapshot_key(project)
    name = f"snapshot-{key[:40]}"
    final = closure.cache_dir() / name
    if (final / "meta.json").is_file():
        return Snapshot(final, key)
    import shutil

    with closure.build_lock(name):
        if (final / "meta.json").is_file():  # another process built it while we waited
            return Snapshot(final, key)
        if final.exists():  # damaged by hand (builds publish whole folders only): start again
            shutil.rmtree(final, ignore_errors=True)
        built = closure.new_build_dir(name)
        try:
            build(project, built, key)
        except BaseException:
            shutil.rmtree(built, ignore_errors=True)
            raise
        path = closure.publish_dir(built, name)
    closure.prune("snapshot-")
    return Snapshot(path, key)


def build(project: Project, folder: Path, key: str) -> None:
    """Parse, reason, write the files and the store.

    The store loads the source files in a second thread (pyoxigraph releases the GIL) while this one
    parses them again into term strings and reasons: on two cores the load costs little extra time.
    Terms are taken from the parser, never from a store: Oxigraph's stores normalise literals on load
    ("1"^^xsd:positiveInteger comes back as "1"^^xsd:integer, oxigraph#526), so the files keep the
    exact terms and ``exact-literals.nt`` lists the triples whose literal a store changes, for the
    validator. The inferred triples go to the default graph (loading it is faster than a named graph's).
    """
    import pyoxigraph as ox

    clock = [time.perf_counter()]

    def lap() -> float:
        clock.append(time.perf_counter())
        return round(clock[-1] - clock[-2], 3)

    store = ox.Store(str(folder / "store"))
    loader = _Loader(store, project.source_files)
    loader.start()
    try:
        share: dict[str, str] = {}
        intern = share.setdefault
        asserted = {(intern(s, s), intern(p, p), intern(o, o))
                    for path in project.source_files for s, p, o in parse_file(path)}
        share.clear()
        phases = {"parse": lap()}
        inferred, reasoner = infer(asserted, project)
        phases["reason"] = lap()
        write_ntriples(folder / "asserted.nt", asserted)
        write_ntriples(folder / "inferred.nt", inferred)
        write_ntriples(folder / "exact-literals.nt",
                       [t for t in (*asserted, *inferred) if t[2].endswith(NORMALISED_DATATYPES)])
        phases["write"] = lap()
    finally:
        loader.join()
    if loader.error is not None or any(s[0] == "_" or o[0] == "_" for s, _p, o in inferred):
        # blank nodes in inferences must match the stored ones: load the parsed terms instead
        store.remove_graph(ox.NamedNode(ASSERTED_GRAPH))
        store.bulk_load(path=str(folder / "asserted.nt"), format=ox.RdfFormat.N_TRIPLES,
                        to_graph=ox.NamedNode(ASSERTED_GRAPH))
    store.bulk_load(path=str(folder / "inferred.nt"), format=ox.RdfFormat.N_TRIPLES)
    store.flush()
    if len(asserted) + len(inferred) < 200_000:
        store.optimize()  # read-only opens of small stores take ~10 ms instead of ~20 (large: ~7 ms anyway)
    del store
    phases["store"] = lap()
    meta = {"format": SNAPSHOT_FORMAT, "key": key, "asserted": len(asserted), "inferred": len(inferred),
            "reasoner": reasoner, "seconds": round(clock[-1] - clock[0], 3), "phases": phases,
            "built": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    closure.write_cached_file(folder / "meta.json", json.dumps(meta, indent=1).encode("utf-8"))


class _Loader:
    """Loads the source files into the store's asserted graph in a thread, beside the main thread's
    parsing (pyoxigraph releases the GIL while it loads)."""

    def __init__(self, store, paths: list[Path]) -> None:
        import threading

        self.store, self.paths, self.error = store, paths, None
        self.thread = threading.Thread(target=self.run, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def join(self) -> None:
        self.thread.join()

    def run(self) -> None:
        import pyoxigraph as ox

        try:
            for path in self.paths:
                self.store.bulk_load(path=str(path), format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(
                    ASSERTED_GRAPH), base_iri=path.resolve().as_uri())
        except (SyntaxError, OSError, ValueError) as exc:  # the main thread reports it, with its place
            self.error = exc


#: Datatypes whose literals an Oxigraph store rewrites as xsd:integer (the datatype is lost).
NORMALISED_DATATYPES = tuple(f"^^<http://www.w3.org/2001/XMLSchema#{name}>" for name in (
    "int", "long", "short", "byte", "nonNegativeInteger", "positiveInteger", "nonPositiveInteger",
    "negativeInteger", "unsignedInt", "unsignedLong", "unsignedShort", "unsignedByte"))


def write_ntriples(path: Path, triples) -> None:
    """One ``s p o .`` line per triple (unsorted: order does not matter to any reader, and sorting a
    million lines costs a second)."""
    path.write_bytes("".join(f"{s} {p} {o} .\n" for s, p, o in triples).encode("utf-8"))


def parse_file(path: Path):
    """The triples of one Turtle file as N-Triples term strings; a syntax error becomes an InputError
    naming file, line and column."""
    import pyoxigraph as ox

    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        for t in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE, base_iri=path.resolve().as_uri(),
                          rename_blank_nodes=True):
            yield str(t.subject), str(t.predicate), str(t.object)
    except SyntaxError as exc:
        reason = re.sub(r"^Parser error [^:]*: ", "", str(exc.args[0] if exc.args else exc))
        where = f"{path}:{exc.lineno or '?'}:{exc.offset or '?'}"
        raise InputError(f"{where}: invalid Turtle: {reason}") from None
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot read ({exc})") from None


def infer(triples: list[tuple[str, str, str]], project: Project) -> tuple[set[tuple[str, str, str]], str]:
    """The inferences by the fast reasoner, or by owlrl when the ontology needs a rule it lacks."""
    from . import rules

    if not rules.unsupported(triples):
        return rules.infer(triples), "kgtool.rules"
    from .graphs import infer_with_owlrl

    return infer_with_owlrl(project), "owlrl"
