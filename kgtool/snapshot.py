"""The project's triples, asserted and inferred, ready to query: one cache entry per content of the inputs.

A snapshot is a folder in the cache (:mod:`kgtool.closure`) named after the hash of ``ontology/kzcn.ttl``
and ``data/*.ttl`` (and of the code that builds it). It holds

- ``store/``: an Oxigraph (RocksDB) store whose default graph holds the asserted and the inferred
  triples, opened read-only in about 10 ms at any size (loading the files into memory instead takes
  ~15 ms for the bundled data, seconds at a million triples). One graph, because a triple in Oxigraph's
  default graph is written to three indexes and one in a named graph to six: keeping the asserted
  triples apart in a named graph made the store a third larger and its build that much slower;
- ``asserted-store/``: the asserted triples alone, for ``--no-inference`` on this engine, built the
  first time it is asked for (most users never ask);
- ``asserted.nt``: ontology + data, as N-Triples;
- ``inferred.nt``: the OWL RL inferences without reasoner noise, as N-Triples (what the rdflib engine
  adds to its graph);
- ``exact-literals.nt``: the triples whose literal an Oxigraph store normalises (derived integer types);
- ``sources/``: copies of the input files as hashed for the key (~0.3 s and the data's size again at a
  million triples), which a later snapshot diffs its inputs against to be made from this one;
- ``meta.json``: counts, the reasoner used, the build time and its phases, the inputs' digests, the
  size of each file above, and, when the triples hold ``file:`` IRIs, where the project was (below). It
  is written last: a folder without it is never published. A snapshot whose files no longer have those
  sizes (truncated or replaced by hand, a disk that filled up) is built again, not trusted;
  sizes, not checksums, because hashing a million triples' files at every start would cost a second.

It is built once per change of the inputs, by whichever process needs it first, without rdflib (pyoxigraph
parses, :mod:`kgtool.rules` reasons; owlrl only when the ontology uses an axiom the fast reasoner lacks),
and published by renaming its folder, under a lock, so concurrent starts never see half of it. When a
snapshot in the cache differs only by triples that change no rule (``kgtool add``, an edit by hand, a pull,
an ontology edit that only annotates), it is made from that one instead (:mod:`kgtool.incremental`: what
the removed triples entailed taken out unless it still follows, what the added ones entail added), and
published the same way.

The key ignores where the project lives, so that every checkout of the same files shares one snapshot.
Relative IRIs break that: a Turtle file's relative reference resolves against the file's own location
(both engines, as Jena and rdflib do), so ``<thing>`` in ``data/places.ttl`` is a ``file:`` IRI naming this
checkout. A snapshot whose triples hold any ``file:`` IRI records the project's folder (``location`` in
``meta.json``), and a checkout elsewhere uses its own snapshot of the same files, keyed by content and
location (:func:`located_key`), so its queries never show another checkout's paths. Valid data has no
such IRIs (the shapes require the ``https://w3id.org/kzcn/id/`` namespace), so this is for data mid-edit.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections.abc import Collection, Iterable
from operator import itemgetter
from pathlib import Path
from typing import NamedTuple, NoReturn

from . import closure, literal_forms
from .errors import InputError, InvalidTurtle
from .project import Project

SNAPSHOT_FORMAT = "snapshot-v3"
_CODE = ("snapshot", "rules", "reason", "closure", "incremental", "literal_forms")


class Snapshot(NamedTuple):
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
    def asserted_store_dir(self) -> Path:
        return self.path / "asserted-store"

    @property
    def meta(self) -> dict:
        return json.loads((self.path / "meta.json").read_text(encoding="utf-8"))

    def open(self, inference: bool = True):
        """A read-only pyoxigraph store whose default graph holds the asserted triples, and the inferred
        ones unless ``inference`` is false."""
        import pyoxigraph as ox

        files = [self.asserted_file, self.inferred_file] if inference else [self.asserted_file]
        folder = self.store_dir if inference else self._asserted_store()
        if folder is not None:
            try:
                store = ox.Store.read_only(str(folder))
                store.query("ASK { ?s ?p ?o }")  # a damaged table shows here, not at the user's query
                return store
            except (OSError, RuntimeError):  # an unreadable database: the N-Triples files hold the same triples
                pass
        store = ox.Store()
        for path in files:
            store.bulk_load(path=str(path), format=ox.RdfFormat.N_TRIPLES)
        return store

    def _asserted_store(self) -> Path | None:
        """The store of the asserted triples alone, built now if it is the first time (None: cannot)."""
        import shutil
        import tempfile


        final = self.asserted_store_dir
        if final.is_dir():
            return final
        with closure.build_lock(f"{self.path.name}-asserted"):
            if final.is_dir():
                return final
            try:
                built = Path(tempfile.mkdtemp(dir=self.path, prefix=".asserted-store-", suffix=".tmp"))
            except OSError:  # a read-only cache: the caller loads the file into memory
                return None
            try:
                _load_store(built, [self.asserted_file])
                built.rename(final)
            except OSError:
                shutil.rmtree(built, ignore_errors=True)
                return final if final.is_dir() else None
        return final

    @staticmethod
    def graphs(inference: bool = True) -> list[str]:
        """The graphs a query's default graph is made of, in the store ``open(inference)`` gives: its
        default graph ("") either way."""
        return [""]


def snapshot_key(project: Project) -> str:
    return snapshot_key_of(closure.file_digests(project.source_files))


def snapshot_key_of(digests: dict[Path, str]) -> str:
    """The key of the snapshot of input files with these digests (:func:`closure.file_digests`)."""
    return closure.key_of(digests, salt=snapshot_salt())


def snapshot_salt() -> str:
    """What else decides a snapshot's content: its format, the store's version, the code that builds it."""
    return f"{SNAPSHOT_FORMAT}|{store_version()}|{closure.code_digest(*_CODE)}"


def store_version() -> str:
    """pyoxigraph's version, read from the name of the ``dist-info`` folder beside the package that an import
    would find, without importing it: the import costs ~7 ms, and a kept answer needs no store at all."""
    for entry in sys.path:
        folder = entry or "."
        if not os.path.isdir(os.path.join(folder, "pyoxigraph")):
            continue
        for name in os.listdir(folder):
            if name.startswith("pyoxigraph-") and name.endswith(".dist-info"):
                return name[len("pyoxigraph-"):-len(".dist-info")]
        break
    import pyoxigraph  # installed some other way: ask the module

    return pyoxigraph.__version__


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


#: The files whose sizes meta.json records, checked at every open.
CHECKED_FILES = ("asserted.nt", "inferred.nt", "exact-literals.nt")


def intact(folder: Path) -> bool:
    """Published (meta.json written last) and every file still of the size it was built with."""
    try:
        sizes = json.loads((folder / "meta.json").read_bytes())["sizes"]
        return all((folder / name).stat().st_size == sizes[name] for name in CHECKED_FILES)
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _get_snapshot(project: Project, attempts: int = 3) -> Snapshot:
    """Find or build the snapshot of the inputs as they are. A build reads the files after hashing them,
    so it checks the hash again at the end: a merge landing in between would otherwise have its data
    published under the old data's key, and served after the merge was reverted. The snapshot found may
    have been built in another checkout whose files resolved relative IRIs to its own folder: then this
    checkout's is the one keyed by location too."""
    digests = closure.file_digests(project.source_files)
    content_key = snapshot_key_of(digests)

    def make_for(key: str):
        def make(folder: Path) -> None:
            inputs = keep_sources(folder, digests)
            large = sum(path.stat().st_size for path in digests) >= EXTEND_MIN_BYTES
            if not (large and _extended(project, folder, key, inputs)):
                build(project, folder, key, inputs)
                if snapshot_key(project) != content_key:  # data/ changed while it was read (a merge landed)
                    raise Moved
        return make

    key = content_key
    try:
        folder, _made = closure.folder_entry(f"snapshot-{key[:40]}", intact, make_for(key))
        if located_elsewhere(Snapshot(folder, key).meta, project):
            key = located_key(content_key, project)
            folder, _made = closure.folder_entry(f"snapshot-{key[:40]}", intact, make_for(key))
    except Moved:
        return _get_snapshot(project, attempts - 1) if attempts > 1 else _unstable(project)
    return Snapshot(folder, key)


def location_of(project: Project) -> str:
    """The project's folder as a ``file:`` IRI: what a snapshot holding ``file:`` IRIs depends on."""
    return project.root.resolve().as_uri()


def located_key(key: str, project: Project) -> str:
    """The key of the snapshot of the inputs of ``key`` as resolved in this project's folder."""
    return closure.text_digest(f"{key}|located|{location_of(project)}".encode())


def located_elsewhere(meta: dict, project: Project) -> bool:
    """Whether a snapshot holds ``file:`` IRIs resolved in another folder than this project's."""
    return meta.get("location") not in (None, location_of(project))


def mentions_files(terms: Iterable[str]) -> bool:
    """Whether any N-Triples term is a ``file:`` IRI or typed by one (what a relative reference resolves to).
    A literal whose text holds ``<file:`` counts too: a snapshot is then keyed by location needlessly, never
    wrongly."""
    return any("<file:" in term for term in terms)


def _extended(project: Project, folder: Path, key: str, inputs: dict[str, str]) -> Snapshot | None:
    """The snapshot this one was made from in ``folder`` (:func:`kgtool.incremental.from_cache`), or None
    with ``folder`` as it was (its ``sources/`` only): a cached snapshot that cannot be read is no reason to
    fail, the build makes the same."""
    import shutil

    from .incremental import NotExact, from_cache

    try:
        return from_cache(project, folder, key, inputs)
    except (OSError, RuntimeError, ValueError, SyntaxError, KeyError, NotExact):
        for path in folder.iterdir():
            if path.is_dir() and path.name != SOURCES:
                shutil.rmtree(path)
            elif not path.is_dir():
                path.unlink()
        return None


#: Inputs at least this large (bytes) are worth extending an older snapshot (:mod:`kgtool.incremental`)
#: rather than building: below, a build takes less than loading what the extension needs (rdflib).
EXTEND_MIN_BYTES = 8 << 20
#: The copies of the input files a snapshot was made of, by ``folder/name`` as the key hashes them.
SOURCES = "sources"


class Moved(Exception):
    """The inputs changed while a build read them."""


def keep_sources(folder: Path, digests: dict[Path, str]) -> dict[str, str]:
    """Copy the input files into the snapshot (``sources/``), each checked against the digest the key was
    made of (:class:`Moved` if it changed since): what a later snapshot diffs its inputs against to extend
    this one instead of building (:mod:`kgtool.incremental`). About 0.2 s at a million triples."""
    inputs = {}
    for path, digest in digests.items():
        data = path.read_bytes()
        if closure.text_digest(data) != digest:
            raise Moved
        target = folder / SOURCES / closure.input_name(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        inputs[closure.input_name(path)] = digest
    return inputs


def _unstable(project: Project) -> NoReturn:
    raise InputError(f"{project.data_dir}: the data kept changing while it was read, three times over",
                     hint="run the command again once the edits or merges are done")


def build(project: Project, folder: Path, key: str, inputs: dict[str, str] | None = None) -> None:
    """Parse, reason, write the store and the files, keeping both cores busy.

    A second thread writes the store (pyoxigraph releases the GIL while it loads): first the source
    files, while this thread parses them again into term strings, grouped by predicate as the reasoner
    wants them, and reasons; then the inferences, a chunk at a time as this thread writes them out, and
    while it writes the other files. The cyclic garbage collector is off meanwhile: the millions of
    tuples built here hold no cycles, and each full collection would walk all of them again. Terms are
    taken from the parser, never from a store: Oxigraph's stores normalise literals on load
    ("1"^^xsd:positiveInteger comes back as "1"^^xsd:integer, oxigraph#526), so the files keep the exact
    terms and ``exact-literals.nt`` lists the triples whose literal a store changes, for the validator.
    """
    import gc

    import pyoxigraph as ox

    clock = [time.perf_counter()]

    def lap() -> float:
        clock.append(time.perf_counter())
        return round(clock[-1] - clock[-2], 3)

    collecting = gc.isenabled()
    gc.disable()
    try:
        store = ox.Store(str(folder / "store"))
        writer = StoreWriter(store)
        try:
            writer.put(_load_sources, store, project.source_files)
            facts, read, terms = parse_facts(project.source_files)
            asserted = sum(map(len, facts.values()))
            located = mentions_files(terms) or mentions_files(facts)
            phases = {"parse": lap()}
            inferred, reasoner, same_as = infer_facts(facts, project)
            count = sum(map(len, inferred.values()))
            blank = any(o[0] == "_" for pairs in inferred.values() for _s, o in pairs)
            if blank:  # blank nodes in inferences must match the stored ones: store the parsed terms instead
                write_facts(folder / "asserted.nt", facts)
                writer.put(store.clear)
                writer.put(store.bulk_load, path=str(folder / "asserted.nt"), format=ox.RdfFormat.N_TRIPLES)
            with (folder / "inferred.nt").open("wb") as out:
                for chunk in ntriples_chunks(inferred, INFERRED_CHUNK):
                    out.write(chunk)
                    writer.put(store.bulk_load, input=chunk, format=ox.RdfFormat.N_TRIPLES)
            writer.put(finish_store, store)  # compacts while the N-Triples files are written below
            phases["reason"] = lap()
            if not blank:
                write_facts(folder / "asserted.nt", facts)
            forms = literal_forms.stored_forms(term for term in terms if literal_forms.may_change(term))
            watched = literal_forms.watched(forms)
            touched = [(s, p, o) for table in (facts, inferred) for p, pairs in table.items()
                       if not watched.isdisjoint(map(itemgetter(1), pairs)) for s, o in pairs if o in watched]
            exact = [f"{s} {p} {o} .\n" for s, p, o in touched if literal_forms.restored(o)]
            (folder / "exact-literals.nt").write_bytes("".join(exact).encode("utf-8"))
            inexact, collapses = literal_forms.audit(forms, touched, [facts, inferred])
            phases["write"] = lap()
        finally:
            writer.close()
        if writer.error is not None:  # the parse above passed, so not the data's fault: start the store again
            store.clear()
            for name in ("asserted.nt", "inferred.nt"):
                store.bulk_load(path=str(folder / name), format=ox.RdfFormat.N_TRIPLES)
            finish_store(store)
        del store
        phases["store"] = lap()
    finally:
        if collecting:
            gc.enable()
    write_meta(folder, {"format": SNAPSHOT_FORMAT, "key": key, "asserted": asserted, "inferred": count,
                        "reasoner": reasoner, "seconds": round(clock[-1] - clock[0], 3), "phases": phases,
                        "repeats": read != asserted, "same_as": same_as, "inexact": inexact, "collapses": collapses,
                        **({"location": location_of(project)} if located else {})}, inputs)


def write_meta(folder: Path, meta: dict, inputs: dict[str, str] | None = None) -> None:
    """Publish-ready: ``meta.json``, with the build's time and the sizes of the files, written last; with
    ``inputs`` (the digests of the copies in ``sources/``), a snapshot a later one may extend."""
    meta = {**meta, "built": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "sizes": {name: (folder / name).stat().st_size for name in CHECKED_FILES}}
    if inputs is not None:
        meta |= {"inputs": inputs, "salt": snapshot_salt()}
    closure.write_cached_file(folder / "meta.json", json.dumps(meta, indent=1).encode("utf-8"))


#: Triples per N-Triples chunk: the store takes a chunk of inferences while the next one is written out.
INFERRED_CHUNK = 250_000


def ntriples_chunks(grouped: dict[str, Collection[tuple[str, str]]], size: int):
    """N-Triples documents (bytes) of about ``size`` triples each, from {predicate: {(s, o)}}."""
    lines: list[str] = []
    for p, pairs in grouped.items():
        lines += [f"{s} {p} {o} .\n" for s, o in pairs]
        if len(lines) >= size:
            yield "".join(lines).encode("utf-8")
            lines = []
    if lines:
        yield "".join(lines).encode("utf-8")


class StoreWriter:
    """One thread that runs the store's loads in order (pyoxigraph releases the GIL while it loads).
    After the first error the remaining jobs are skipped; the error is kept for the caller."""

    def __init__(self, store) -> None:
        import queue
        import threading

        self.store, self.error = store, None
        self.jobs: queue.SimpleQueue = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def put(self, fn, *args, **kwargs) -> None:
        self.jobs.put((fn, args, kwargs))

    def close(self) -> None:
        self.jobs.put(None)
        self.thread.join()

    def _run(self) -> None:
        while (job := self.jobs.get()) is not None:
            fn, args, kwargs = job
            if self.error is None:
                try:
                    fn(*args, **kwargs)
                except Exception as exc:  # kept for the caller, which starts the store again
                    self.error = exc


def _load_sources(store, paths: list[Path]) -> None:
    import pyoxigraph as ox

    for path in paths:
        store.bulk_load(path=str(path), format=ox.RdfFormat.TURTLE, base_iri=path.resolve().as_uri())


def _load_store(folder: Path, files: list[Path]) -> None:
    import pyoxigraph as ox

    store = ox.Store(str(folder))
    for path in files:
        store.bulk_load(path=str(path), format=ox.RdfFormat.N_TRIPLES)
    finish_store(store)


def finish_store(store) -> None:
    """Compact the store: each bulk load leaves its own overlapping tables, which every lookup then merges.
    At 1M triples this costs ~2 s of the build and makes the list queries 1.3-2x faster (benchmarks/README.md);
    read-only opens of small stores take ~10 ms instead of ~20."""
    store.flush()
    store.optimize()




def write_facts(path: Path, facts: dict[str, set[tuple[str, str]]]) -> None:
    """One ``s p o .`` line per triple, a predicate at a time (unsorted: order matters to no reader, and
    sorting a million lines costs a second)."""
    with path.open("wb") as out:
        for chunk in ntriples_chunks(facts, INFERRED_CHUNK):
            out.write(chunk)


def parse_facts(paths: list[Path]) -> tuple[dict[str, set[tuple[str, str]]], int, Collection[str]]:
    """The triples of the files grouped by predicate, {p: {(s, o)}}, equal terms sharing one string; how
    many triples were read (more than the distinct ones when a triple is written twice); and the distinct
    subjects and objects."""
    facts: dict[str, set[tuple[str, str]]] = {}
    share: dict[str, str] = {}
    intern = share.setdefault
    read = 0
    for path in paths:
        for s, p, o in parse_file(path):
            read += 1
            pairs = facts.get(p)
            if pairs is None:
                pairs = facts[p] = set()
            pairs.add((intern(s, s), intern(o, o)))
    return facts, read, share.keys()


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
        raise InvalidTurtle(path, exc.lineno or None, exc.offset or None, reason) from None
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot read ({exc})") from None


def infer_facts(facts: dict[str, set[tuple[str, str]]], project: Project) \
        -> tuple[dict[str, Collection[tuple[str, str]]], str, bool]:
    """The inferences grouped by predicate, by the fast reasoner, or by owlrl when the ontology needs a
    rule it lacks; the reasoner's name; and whether two names were found to be the same individual
    (``owl:sameAs``, asserted or from a functional property: such triples are left out of the inferences as
    owlrl's are, but an extension must know, :mod:`kgtool.incremental`)."""
    from . import rules

    if not rules.unsupported_predicates(facts):
        asserted = {p: set(pairs) for p, pairs in facts.items()}
        closure = rules.Closure(facts=asserted).run()
        return closure.inferred_by_predicate(), "kgtool.rules", bool(closure.same)
    from .graphs import infer_with_owlrl

    grouped: dict[str, list[tuple[str, str]]] = {}
    for s, p, o in infer_with_owlrl(project):
        grouped.setdefault(p, []).append((s, o))
    return grouped, "owlrl", True  # never extended (kgtool.incremental), so never read
