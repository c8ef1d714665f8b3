"""A new snapshot made from an older one when the data only gained triples, instead of built again.

OWL RL is monotone: when triples are only added, the new closure is the old one plus what the added
triples entail over it, which :func:`kgtool.context.closure_of` computes exactly (the contribution check's
own incremental reasoning, reading the old store where a rule joins a new triple with older ones). So the
new snapshot (:mod:`kgtool.snapshot`) is the old one with a few lines more:

- ``store/``: a backup of the old store (hard links to its immutable tables, not a copy) with the new
  triples loaded on top, then compacted as a build leaves it;
- ``asserted.nt`` gains the added triples at its end; ``inferred.nt`` gains the new inferences and loses
  the added triples that were inferences before (a build lists each triple in one of the two files only);
  ``exact-literals.nt`` gains those of the new triples whose literal a store normalises;
- the gate's index (:mod:`kgtool.gate_index`), if the old snapshot had one, gains the appended lines;
- ``sources/``: the copies of the new inputs.

Two ways in:

- :func:`after_merge`: ``kgtool add`` knows what it added. The old snapshot is the check's, which must be
  that of the data the merge started from, and the files after the merge must be that data with exactly
  the texts the merge wrote (compared by digest: an edit by hand in between means no shortcut, so a
  snapshot's key always says what it holds).
- :func:`from_cache`: any other change (an edit by hand, a pull), when a snapshot builds. Each snapshot
  keeps copies of its inputs, so the changed files are diffed against those of a cached snapshot with the
  same ontology; the data files may only have gained triples (and new files appeared). Only for inputs of
  8 MB or more (:data:`kgtool.snapshot.EXTEND_MIN_BYTES`): below, a build is faster than loading what this
  needs.

At a million triples either takes about 3 s (most of it compacting the store) where a build takes about
19 s, and the gate's index 4 s more (benchmarks/README.md). It is done only when the result equals what a
build would give (tests compare the two, file by file and quad by quad): the old closure came from
:mod:`kgtool.rules`, and the added triples hold no blank node (whose labels no two parses share) and no
axiom (subclass, subproperty, domain, range, a property's characteristics, ``owl:sameAs`` …: those change
what every older triple entails). Otherwise the snapshot is built as it always was.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import NamedTuple

from . import closure, rules
from .snapshot import (
    NORMALISED_DATATYPES,
    SNAPSHOT_FORMAT,
    SOURCES,
    Moved,
    Snapshot,
    StoreWriter,
    finish_store,
    intact,
    keep_sources,
    snapshot_key_of,
    snapshot_salt,
    write_meta,
)

Triple = tuple[str, str, str]


class Extended(NamedTuple):
    """A snapshot made from the previous one: where, and what it took."""

    snapshot: Snapshot
    added: int
    inferred: int
    seconds: float
    #: False: the cache had the snapshot of the merged data already (the same data merged before)
    made: bool = True


def after_merge(existing, before: dict[Path, str], written: dict[Path, str],
                added: set[Triple]) -> Extended | str:
    """The snapshot of the data as the merge left it, from ``existing``'s (the check's) snapshot.

    ``before``: the input files' digests (:func:`kgtool.closure.file_digests`) taken under the merge lock
    before the commit; ``written``: the text of every file the merge wrote; ``added``: the triples it
    added, as N-Triples terms. Returns why not, as a phrase, when it cannot be done exactly (see the
    module docstring)."""
    started = time.perf_counter()
    project = existing.project
    if not existing.snapshot_read:  # asking now would build the snapshot of the merged data
        return "the check read no snapshot"
    old: Snapshot = existing.snapshot
    if snapshot_key_of(before) != old.key:
        return "the check's snapshot is not of the data the merge started from"
    expected = {path.resolve(): digest for path, digest in before.items()}
    expected.update({path.resolve(): closure.text_digest(text.encode("utf-8")) for path, text in written.items()})
    after = closure.file_digests(project.source_files)
    if {path.resolve(): digest for path, digest in after.items()} != expected:
        return "the input files changed during the merge"
    reason = why_not(existing, added)
    if reason:
        return reason
    key = snapshot_key_of(after)
    counts = (0, 0)

    def make(folder: Path) -> None:
        nonlocal counts
        counts = extend(existing, old, folder, key, added, keep_sources(folder, after))

    try:
        folder, made = closure.folder_entry(f"snapshot-{key[:40]}", intact, make)
    except Moved:
        return "the input files changed during the merge"
    snapshot = Snapshot(folder, key)
    if made:  # a snapshot found instead was built, its lines in another order: its index is its own
        extend_gate_index(old, snapshot)
    return Extended(snapshot, *counts, round(time.perf_counter() - started, 3), made)


def from_cache(project, folder: Path, key: str, inputs: dict[str, str]) -> Snapshot | None:
    """Make the snapshot of ``inputs`` in ``folder`` (whose ``sources/`` holds them) from a snapshot in the
    cache whose inputs differ only in data files that gained triples (an edit by hand, a pull): the one
    that differs in the fewest files, the most recently used first. The snapshot used, or None when none
    fits and it must be built."""
    parent = _parent(inputs, project)
    if parent is None:
        return None
    snapshot, changed = parent
    added: set[Triple] = set()
    for name in changed:
        old = _read_source(snapshot, name)
        new = (folder / SOURCES / name).read_bytes()
        if old is None:
            return None
        base = (project.root / name).resolve().as_uri()
        before, after = _triples(old, base), _triples(new, base)
        if before is None or after is None or not before <= after:  # a blank node, or a triple gone
            return None
        added |= after - before
    if not added or len(added) > EXTEND_MAX_TRIPLES:
        return None
    from .context import Existing

    existing = Existing(project, snapshot)  # the check's view of the project, as of that snapshot
    if why_not(existing, added):
        return None
    extend(existing, snapshot, folder, key, added, inputs)
    return snapshot


#: Above this many new triples a build is about as fast as reasoning about them over the store.
EXTEND_MAX_TRIPLES = 100_000


def _parent(inputs: dict[str, str], project) -> tuple[Snapshot, list[str]] | None:
    ontology = closure.input_name(project.ontology_file)
    salt, found = snapshot_salt(), []
    for entry in closure.cache_dir().glob("snapshot-*"):
        try:
            meta = json.loads((entry / "meta.json").read_bytes())
            used = entry.stat().st_mtime
        except (OSError, ValueError):
            continue
        old = meta.get("inputs") if isinstance(meta, dict) and meta.get("salt") == salt else None
        if not isinstance(old, dict) or not old.keys() <= inputs.keys() or old.get(ontology) != inputs[ontology]:
            continue  # another version of kgtool, a file removed, or the ontology changed: every triple may change
        changed = sorted(name for name in inputs if old.get(name) != inputs[name])
        if changed and intact(entry):
            found.append((len(changed), -used, entry.name, Snapshot(entry, meta["key"]), changed))
    for *_order, snapshot, changed in sorted(found, key=lambda row: row[:3]):
        if closure.hold(snapshot.path):
            return snapshot, changed
    return None


def _read_source(snapshot: Snapshot, name: str) -> bytes | None:
    """The parent's copy of an input (empty if the file is new), None if it is not what its key says."""
    expected = snapshot.meta["inputs"].get(name)
    if expected is None:
        return b""
    try:
        data = (snapshot.path / SOURCES / name).read_bytes()
    except OSError:
        return None
    return data if closure.text_digest(data) == expected else None


def _triples(data: bytes, base: str) -> set[Triple] | None:
    """A Turtle file's triples as N-Triples terms, as a build parses them (None: it has blank nodes, whose
    labels no two parses share, or does not parse)."""
    import pyoxigraph as ox

    try:
        triples = {(str(t.subject), str(t.predicate), str(t.object))
                   for t in ox.parse(data, format=ox.RdfFormat.TURTLE, base_iri=base)}
    except (SyntaxError, ValueError):
        return None
    return None if any(s[0] == "_" or o[0] == "_" for s, _p, o in triples) else triples


def extend_gate_index(old: Snapshot, snapshot: Snapshot) -> None:
    """The gate's index too, if the old snapshot had one (the next check would spend seconds on it at a
    million triples); the new ``asserted.nt`` is the old one with lines appended."""
    import contextlib
    import sqlite3

    from . import gate_index

    with contextlib.suppress(OSError, sqlite3.Error):  # the next check builds it
        gate_index.extend(old, snapshot, old.asserted_file.stat().st_size)


def why_not(existing, added: set[Triple]) -> str:
    """Why the added triples need a full build (empty: they do not)."""
    if not existing.reasoner_suffices:
        return "the ontology needs owlrl"
    if any(term.startswith("_:") for triple in added for term in triple):
        return "the added triples hold blank nodes"
    if rules.changes_rules(added):
        return "the added triples change the ontology's axioms"
    return ""


def extend(existing, old: Snapshot, folder: Path, key: str, added: set[Triple],
           inputs: dict[str, str]) -> tuple[int, int]:
    """Write the new snapshot into ``folder``: (asserted triples added, inferences added). The store is
    loaded and compacted in a second thread (pyoxigraph releases the GIL) while this one writes the files."""
    import pyoxigraph as ox

    from .context import closure_of

    clock = [time.perf_counter()]

    def lap() -> float:
        clock.append(time.perf_counter())
        return round(clock[-1] - clock[-2], 3)

    added_lines = {_line(t): t for t in added}
    entailed = {_line(t): t for t in closure_of(existing, sorted(added))}
    watched = added_lines.keys() | entailed.keys()
    phases = {"reason": lap()}
    ox.Store.read_only(str(old.store_dir)).backup(str(folder / "store"))
    store = ox.Store(str(folder / "store"))
    writer = StoreWriter(store)
    try:
        # all of them: a triple the store has already is not stored twice
        writer.put(store.bulk_load, input="".join(watched).encode("utf-8"), format=ox.RdfFormat.N_TRIPLES)
        # compacted, as a build leaves it: at 1M the new triples' small tables alone made the list queries
        # a third slower (organizations 7.6 -> 10.5 s), and merges would pile them up; it takes ~3 s there
        writer.put(finish_store, store)
        in_asserted = _carry(old.asserted_file, folder / "asserted.nt", watched, drop=set())
        in_inferred = _carry(old.inferred_file, folder / "inferred.nt", watched, drop=added_lines.keys())
        new_asserted = [line for line in added_lines if line not in in_asserted]
        new_inferred = [line for line in entailed if line not in in_asserted and line not in in_inferred
                        and line not in added_lines]
        _append(folder / "asserted.nt", new_asserted)
        _append(folder / "inferred.nt", new_inferred)
        # the lines of added triples that were inferences are listed already
        exact = [line for line in [*new_asserted, *new_inferred] if line not in in_inferred
                 and _normalised((added_lines.get(line) or entailed[line])[2])]
        shutil.copyfile(old.exact_literals_file, folder / "exact-literals.nt")
        _append(folder / "exact-literals.nt", exact)
        phases["files"] = lap()
    finally:
        writer.close()
    if writer.error is not None:
        raise writer.error
    del store
    phases["store"] = lap()
    meta = old.meta
    moved = len(added_lines.keys() & in_inferred)
    write_meta(folder, {
        "format": SNAPSHOT_FORMAT, "key": key, "asserted": meta["asserted"] + len(new_asserted),
        "inferred": meta["inferred"] - moved + len(new_inferred), "reasoner": meta["reasoner"],
        "seconds": round(clock[-1] - clock[0], 3), "phases": phases, "extended_from": old.key}, inputs)
    return len(new_asserted), len(new_inferred)


def _line(triple: Triple) -> str:
    return f"{triple[0]} {triple[1]} {triple[2]} .\n"


def _normalised(obj: str) -> bool:
    return obj[0] == '"' and obj.endswith(NORMALISED_DATATYPES)


def _carry(source: Path, target: Path, watched, drop) -> set[str]:
    """Copy an N-Triples file line by line, without the lines in ``drop``; the lines of ``watched`` it had."""
    found: set[str] = set()
    with source.open("r", encoding="utf-8", newline="\n") as lines, \
            target.open("w", encoding="utf-8", newline="\n") as out:
        for line in lines:
            if line in watched:
                found.add(line)
                if line in drop:
                    continue
            out.write(line)
    return found


def _append(path: Path, lines: list[str]) -> None:
    if lines:
        with path.open("a", encoding="utf-8", newline="\n") as out:
            out.write("".join(lines))

