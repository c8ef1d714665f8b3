"""The gate's index of a snapshot: where each subject's asserted triples are, and every entity's names.

The contribution gate asks about the asserted triples of a few hundred subjects (is this triple already in
``data/``? does this entity exist? what is its label? its class?) and about the entities called by a few
hundred names (likely duplicates). The snapshot's store holds asserted and inferred triples together, and its
``asserted.nt`` is in no particular order, so both questions would mean a pass over a million lines. This
index answers them with lookups: an SQLite file, one per snapshot (and per version of this module), in the
cache beside it, with two tables:

- ``subjects``: every subject of ``asserted.nt`` and the byte offsets of its lines there (the lines are then
  read from the file and parsed: terms exactly as the files have them, literals included);
- ``names``: every label and alternative label of an entity (``rdfs:label``, ``skos:altLabel``,
  ``skos:prefLabel``), by :func:`kgtool.references.normalize_label`, with the entity.

It is made by the first check that needs it (from the index of the snapshot this one was made from, when
:mod:`kgtool.incremental` made it so and that index is cached: :func:`extend`), published whole by a
rename under a lock like the snapshot itself, held while in use (:func:`kgtool.closure.hold`), and read
without locks (``immutable``). The two tables are built at once, one per core: ``subjects`` by this
process in ``index.sqlite``, ``names`` by a forked child in ``names.sqlite`` (label normalisation is half
of the work), attached when opened.
"""

from __future__ import annotations

import hashlib
from array import array
from collections import defaultdict
from pathlib import Path

from . import closure

INDEX_FORMAT = "gate-index-v2"
NAMES_FILE = "names.sqlite"
LABEL_PREDICATES = (
    "http://www.w3.org/2000/01/rdf-schema#label",
    "http://www.w3.org/2004/02/skos/core#altLabel",
    "http://www.w3.org/2004/02/skos/core#prefLabel",
)
_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_INSTANCE_PREFIX = "<https://w3id.org/kzcn/id/"
_CHUNK = 500  # SQLite allows 999 parameters in a statement


class GateIndex:
    def __init__(self, database: Path, asserted_file: Path) -> None:
        import sqlite3

        self.asserted_file, self.folder = asserted_file, database.parent
        self.built_now = False  # set by open() when it had to build the index from the file
        self.made_now = False  # set by open() when it built the index or made it from the parent snapshot's
        self.connection = sqlite3.connect(_read_only(database), uri=True)
        self.connection.execute("ATTACH DATABASE ? AS n", (_read_only(database.with_name(NAMES_FILE)),))

    @classmethod
    def open(cls, snapshot) -> GateIndex:
        """The index of this snapshot, made first if there is none yet: from the index of the snapshot this
        one was made from (:mod:`kgtool.incremental`), if that is still cached, else built."""
        built = []

        def make(folder: Path) -> None:
            if not _from_parent(snapshot, folder):
                build(snapshot.asserted_file, folder / "index.sqlite")
                built.append(True)

        final, made = closure.folder_entry(entry_name(snapshot), _complete, make)
        index = cls(final / "index.sqlite", snapshot.asserted_file)
        index.made_now, index.built_now = made, bool(built)
        return index

    def subject_count(self) -> int:
        return self.connection.execute("SELECT COUNT(*) FROM subjects").fetchone()[0]

    def lines(self, subjects: set[str]) -> bytes:
        """The lines of ``asserted.nt`` whose subject is one of these (N-Triples terms)."""
        import mmap

        offsets: list[int] = []
        for chunk in _chunks(sorted(subjects)):
            marks = ",".join("?" * len(chunk))
            for (packed,) in self.connection.execute(f"SELECT offsets FROM subjects WHERE subject IN ({marks})",
                                                     chunk):
                offsets += array("Q", packed)
        if not offsets:
            return b""
        out = []
        with open(self.asserted_file, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            for start in sorted(offsets):
                end = mm.find(b"\n", start)
                out.append(mm[start : end if end >= 0 else len(mm)])
        return b"\n".join(out)

    def subjects_from(self, prefix: str) -> list[str]:
        """The subjects (N-Triples terms) that start with ``prefix``, in order."""
        upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        rows = self.connection.execute(
            "SELECT subject FROM subjects WHERE subject >= ? AND subject < ? ORDER BY subject", (prefix, upper)
        )
        return [subject for (subject,) in rows]

    def names(self, names: set[str]) -> dict[str, set[str]]:
        """The entities (IRIs) with a label or alternative label of one of these normal forms."""
        found: dict[str, set[str]] = defaultdict(set)
        for chunk in _chunks(sorted(names)):
            marks = ",".join("?" * len(chunk))
            for name, subject in self.connection.execute(
                f"SELECT name, subject FROM n.names WHERE name IN ({marks})", chunk
            ):
                found[name].add(subject)
        return dict(found)


def _remove(built: Path, snapshot, removed: list[tuple[int, int]], old_snapshot) -> None:
    """Take the removed lines out of a copy of the old index: each offset moves back by the lengths of the
    removed lines before it (a pass over the subjects' offsets, about 1 s at a million lines); the names of
    a subject that lost a label line are made again from its lines that remain."""
    import sqlite3
    from bisect import bisect_left

    starts = [offset for offset, _length in removed]
    gone = set(starts)
    before = [0]  # before[i]: bytes removed ahead of the i-th removed line
    for _offset, length in removed:
        before.append(before[-1] + length)
    with open(old_snapshot.asserted_file, "rb") as handle:
        lines = []
        for offset, length in removed:
            handle.seek(offset)
            lines.append(handle.read(length))
    relabelled = {line[1 : line.find(b">")].decode("utf-8") for line in lines
                  if any(f" <{predicate}> ".encode() in line for predicate in LABEL_PREDICATES)}
    connection = sqlite3.connect(built / "index.sqlite")
    try:
        changed, emptied = [], []
        for subject, packed in connection.execute("SELECT subject, offsets FROM subjects"):
            offsets = array("Q")
            offsets.frombytes(packed)
            if offsets[-1] < starts[0]:  # offsets are in file order: none moves
                continue
            moved = array("Q", [o - before[bisect_left(starts, o)] for o in offsets if o not in gone])
            if not moved:
                emptied.append((subject,))
            elif moved != offsets:
                changed.append((moved.tobytes(), subject))
        connection.executemany("UPDATE subjects SET offsets = ? WHERE subject = ?", changed)
        connection.executemany("DELETE FROM subjects WHERE subject = ?", emptied)
        connection.commit()
    finally:
        connection.close()
    if not relabelled:
        return
    remaining = GateIndex(built / "index.sqlite", snapshot.asserted_file)
    try:
        names = _names(remaining.lines({f"<{subject}>" for subject in relabelled}) + b"\n")
    finally:
        remaining.connection.close()
    connection = sqlite3.connect(built / NAMES_FILE)
    try:
        for chunk in _chunks(sorted(relabelled)):  # names are indexed by name: one pass over the table a chunk
            connection.execute(f"DELETE FROM names WHERE subject IN ({','.join('?' * len(chunk))})", chunk)
        connection.executemany("INSERT INTO names VALUES (?, ?)", sorted(names))
        connection.commit()
    finally:
        connection.close()


def entry_name(snapshot) -> str:
    """The cache entry of a snapshot's index: of this very ``asserted.nt`` (its lines are in no set order)."""
    stat = snapshot.asserted_file.stat()
    digest = hashlib.sha256(
        f"{INDEX_FORMAT}|{snapshot.meta.get('key', '')}|{snapshot.asserted_file.resolve()}|{stat.st_size}|"
        f"{stat.st_mtime_ns}|{stat.st_ino}|{closure.code_digest('gate_index', 'references')}".encode()
    ).hexdigest()
    return f"gate-index-{digest[:40]}"


def _from_parent(snapshot, folder: Path) -> bool:
    """Make the index in ``folder`` from the parent snapshot's (False: it cannot be, build it)."""
    import sqlite3

    from .incremental import index_parent

    parent = index_parent(snapshot)
    if parent is None:
        return False
    old_snapshot, _snapshot, start, removed = parent
    old = closure.cache_dir() / entry_name(old_snapshot)
    if not (_complete(old) and closure.hold(old)):
        return False
    try:
        _extend(old, folder, snapshot, start, removed, old_snapshot)
    except (OSError, sqlite3.Error):
        for file in folder.iterdir():
            file.unlink()
        return False
    return True


def extend(old_snapshot, snapshot, start: int, removed: list[tuple[int, int]] = ()) -> None:
    """The index of ``snapshot``, from that of ``old_snapshot`` when its ``asserted.nt`` is the old one's
    without the lines at ``removed`` ((offset, length) pairs in the old file, in order) and with lines
    appended from byte ``start`` (:mod:`kgtool.incremental`): the old lines' offsets are moved back by
    what was removed before them, and only the new lines are read. Nothing when the old snapshot has no
    index (the next check builds one)."""
    old = closure.cache_dir() / entry_name(old_snapshot)
    if _complete(old) and closure.hold(old):
        closure.folder_entry(entry_name(snapshot), _complete,
                             lambda folder: _extend(old, folder, snapshot, start, removed, old_snapshot))


def _extend(old: Path, built: Path, snapshot, start: int, removed, old_snapshot) -> None:
    import shutil
    import sqlite3

    for file in ("index.sqlite", NAMES_FILE):
        shutil.copyfile(old / file, built / file)
    if removed:
        _remove(built, snapshot, removed, old_snapshot)
    with open(snapshot.asserted_file, "rb") as handle:
        handle.seek(start)
        added = handle.read()
    offsets: dict[str, array] = defaultdict(lambda: array("Q"))
    position = start
    for line in added.splitlines(keepends=True):
        offsets[line[: line.find(b" ")].decode("utf-8")].append(position)
        position += len(line)
    connection = sqlite3.connect(built / "index.sqlite")
    try:
        for subject, found in offsets.items():
            row = connection.execute("SELECT offsets FROM subjects WHERE subject = ?", (subject,)).fetchone()
            packed = (row[0] if row else b"") + found.tobytes()
            connection.execute("INSERT OR REPLACE INTO subjects VALUES (?, ?)", (subject, packed))
        connection.commit()
    finally:
        connection.close()
    connection = sqlite3.connect(built / NAMES_FILE)
    try:
        connection.executemany(  # each row once, as a build has it
            "INSERT INTO names SELECT ?1, ?2 WHERE NOT EXISTS "
            "(SELECT 1 FROM names WHERE name = ?1 AND subject = ?2)", sorted(_names(added)))
        connection.commit()
    finally:
        connection.close()


def _chunks(items: list[str]):
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _read_only(database: Path) -> str:
    return f"{database.resolve().as_uri()}?mode=ro&immutable=1"


def _complete(folder: Path) -> bool:
    return (folder / "index.sqlite").is_file() and (folder / NAMES_FILE).is_file()


def build(asserted_file: Path, target: Path) -> None:
    """Both tables at once: ``subjects`` here, ``names`` (in ``names.sqlite`` beside ``target``) in a forked
    child, each with its own pass over the file; this process builds ``names`` itself where it cannot fork
    or the child failed. At 1M triples (2026-12-06, in turns): 5.0-5.4 s for the single pass of before,
    3.3-3.5 s for the two at once."""
    import os

    names_file = target.with_name(NAMES_FILE)
    child = _forked(lambda: build_names(asserted_file, names_file))
    build_subjects(asserted_file, target)
    if child is None or os.waitstatus_to_exitcode(os.waitpid(child, 0)[1]) != 0:
        names_file.unlink(missing_ok=True)
        build_names(asserted_file, names_file)


def _forked(work) -> int | None:
    """Run ``work`` in a forked child (its pid), or nowhere (None: no fork here). The child runs nothing but
    ``work`` and exits at once, 0 when it succeeded."""
    import os

    if not hasattr(os, "fork"):  # pragma: no cover - not POSIX
        return None
    try:
        pid = os.fork()
    except OSError:
        return None
    if pid:
        return pid
    code = 1
    try:
        work()
        code = 0
    finally:
        os._exit(code)


def build_subjects(asserted_file: Path, target: Path) -> None:
    """One pass over ``asserted.nt``: each line's subject and offset."""
    import sqlite3

    offsets: dict[bytes, array] = {}
    position = 0
    with open(asserted_file, "rb") as handle:
        for line in handle:
            subject = line[: line.find(b" ")]
            found = offsets.get(subject)
            if found is None:
                found = offsets[subject] = array("Q")
            found.append(position)
            position += len(line)
    connection = sqlite3.connect(target)
    try:
        connection.execute("CREATE TABLE subjects (subject TEXT PRIMARY KEY, offsets BLOB NOT NULL) WITHOUT ROWID")
        connection.executemany(  # in key order: each row goes at the end of the table's B-tree
            "INSERT INTO subjects VALUES (?, ?)",
            sorted((subject.decode("utf-8"), found.tobytes()) for subject, found in offsets.items() if subject),
        )
        connection.commit()
    finally:
        connection.close()


def build_names(asserted_file: Path, target: Path) -> None:
    """The label lines of ``asserted.nt`` (found by their predicate, checked again when parsed), by name."""
    import sqlite3

    data = asserted_file.read_bytes()
    lines = []
    for predicate in LABEL_PREDICATES:
        marker = f" <{predicate}> ".encode()
        at = data.find(marker)
        while at >= 0:
            start = data.rfind(b"\n", 0, at) + 1
            end = data.find(b"\n", at)
            end = len(data) if end < 0 else end
            lines.append(data[start:end])
            at = data.find(marker, end)
    connection = sqlite3.connect(target)
    try:
        connection.execute("CREATE TABLE names (name TEXT NOT NULL, subject TEXT NOT NULL)")
        connection.executemany("INSERT INTO names VALUES (?, ?)", sorted(_names(b"\n".join(lines) + b"\n")))
        connection.execute("CREATE INDEX names_by_name ON names (name)")
        connection.commit()
    finally:
        connection.close()


def _names(lines: bytes) -> set[tuple[str, str]]:
    import pyoxigraph as ox

    from .references import normalize_label
    from .strict_turtle import quiet_rdflib, to_rdflib

    rows = set()
    with quiet_rdflib():
        for triple in ox.parse(lines, format=ox.RdfFormat.N_TRIPLES):
            subject, label = triple.subject, triple.object
            if (
                triple.predicate.value in LABEL_PREDICATES
                and isinstance(subject, ox.NamedNode)
                and str(subject).startswith(_INSTANCE_PREFIX)
                and isinstance(label, ox.Literal)
            ):
                plain = label.language or label.datatype.value == _XSD_STRING
                rows.add((normalize_label(label.value if plain else str(to_rdflib(label))), subject.value))
    return rows
