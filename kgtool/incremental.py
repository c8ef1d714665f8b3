"""A new snapshot made from an older one when the data changed, instead of built again.

When triples are only added, the new closure is the old one plus what the added triples entail over it
(OWL RL is monotone), which :func:`kgtool.context.closure_of` computes exactly: the contribution check's
own incremental reasoning, reading the old store where a rule joins a new triple with older ones. When
triples are removed too, the closure is updated by delete and rederive (DRed: :func:`kgtool.rules.overdeleted`
takes out everything a removed triple helped derive, :func:`kgtool.rules.rederived` puts back what still
follows, with what the added triples entail). So the new snapshot (:mod:`kgtool.snapshot`) is the old one
with a few lines more or fewer:

- ``store/``: a backup of the old store (hard links to its immutable tables, not a copy) with the triples
  that are gone taken out and the new ones loaded, then compacted as a build leaves it;
- ``asserted.nt`` loses the removed triples and gains the added ones at its end; ``inferred.nt`` loses the
  inferences that are gone and the added triples that were inferences before (a build lists each triple
  in one of the two files only), and gains the new inferences (a removed triple that still follows among
  them); ``exact-literals.nt`` follows, for the triples whose literal a store normalises;
- the gate's index (:mod:`kgtool.gate_index`), if the old snapshot had one: a copy with the removed lines
  taken out (each offset moved back by what was removed before it; ``asserted-removed.bin`` lists them) and
  the appended lines added. ``kgtool add`` makes it at once; after an edit by hand, the first check that
  needs it does (a query should not wait for it), if the old snapshot is still cached with the very
  ``asserted.nt`` it was made from;
- ``sources/``: the copies of the new inputs.

Two ways in:

- :func:`after_merge`: ``kgtool add`` knows what it added. The old snapshot is the check's, which must be
  that of the data the merge started from, and the files after the merge must be that data with exactly
  the texts the merge wrote (compared by digest: an edit by hand in between means no shortcut, so a
  snapshot's key always says what it holds).
- :func:`from_cache`: any other change (an edit by hand, a pull), when a snapshot builds. Each snapshot
  keeps copies of its inputs, so the changed data files (new and deleted ones included) are diffed, triple
  by triple, against those of a cached snapshot (one with the same ontology first; the ontology's own
  edits are diffed the same way, and extend when they only annotate: labels, definitions, comments).
  Statements with blank nodes, which every parse names anew, must be the same graph in both (compared
  canonically). A triple removed from one file
  but still written in another stays asserted (the other files are read only when the parent's build
  counted a triple written twice). Only for inputs of 8 MB or more
  (:data:`kgtool.snapshot.EXTEND_MIN_BYTES`): below, a build is faster than loading what this needs.

At a million triples an addition takes about 3 s (most of it compacting the store) where a build takes
about 19 s, and the gate's index 4 s more; 500 triples removed and 500 changed, about 10 s against 30 s
on a slower day (benchmarks/README.md). It is done only when the result equals what a build would give
(tests compare the two, file by file and quad by quad): the old closure came from :mod:`kgtool.rules`,
the changed triples hold no blank node (whose labels no two parses share) and no axiom (subclass,
subproperty, domain, range, a property's characteristics, ``owl:sameAs`` …: those change what every older
triple entails), the old data and the change make no two names one individual (``owl:sameAs``, asserted
or from a functional property: DRed here has no equality rules, and the store does not hold such
inferences, so the build records it), every literal is written in the form the store keeps it in or one
``exact-literals.nt`` restores (the reasoning reads the store: :mod:`kgtool.literal_forms`), and no two
values of one subject and predicate are one in the store (``"1"^^xsd:positiveInteger`` and
``"1"^^xsd:integer``: taking one out of the store would take the other along; a build records whether the
data has such a pair, and an extension refuses to make one). Otherwise the snapshot is built as it always
was.
"""

from __future__ import annotations

import json
import time
from array import array
from pathlib import Path
from typing import NamedTuple

from . import closure, literal_forms, rules
from .snapshot import (
    SNAPSHOT_FORMAT,
    SOURCES,
    Moved,
    Snapshot,
    StoreWriter,
    finish_store,
    intact,
    keep_sources,
    located_elsewhere,
    location_of,
    mentions_files,
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
    except NotExact as exc:
        return str(exc)
    snapshot = Snapshot(folder, key)
    if made:  # a snapshot found instead was built, its lines in another order: its index is its own
        extend_gate_index(old, snapshot)
    return Extended(snapshot, *counts, round(time.perf_counter() - started, 3), made)


def from_cache(project, folder: Path, key: str, inputs: dict[str, str]) -> Snapshot | None:
    """Make the snapshot of ``inputs`` in ``folder`` (whose ``sources/`` holds them) from a snapshot in the
    cache whose inputs differ only in data files (an edit by hand, a pull): the one that differs in the
    fewest files, the most recently used first. The snapshot used, or None when none fits and it must be
    built. Raises :class:`NotExact` when the reasoning shows that only a build gives the exact result."""
    parent = _parent(inputs, project)
    if parent is None:
        return None
    snapshot, changed = parent
    added: set[Triple] = set()
    removed: set[Triple] = set()
    twice = False
    for name in changed:
        old = _read_source(snapshot, name)
        new = (folder / SOURCES / name).read_bytes() if name in inputs else b""
        if old is None:
            return None
        base = (project.root / name).resolve().as_uri()
        before, after = _statements(old, base), _statements(new, base)
        if before is None or after is None or not _same_blank_nodes(before, after):
            return None
        before, after = _ground(before), _ground(after)
        more, less = _terms(after - before), _terms(before - after)
        if more is None or less is None:
            return None
        twice = twice or not more.isdisjoint(added)  # written in two files at once
        added |= more
        removed |= less
    moved = added & removed  # from one file to another
    added -= moved
    removed -= moved
    if removed and snapshot.meta.get("repeats", True):  # a triple written in two files is still asserted
        removed -= _written_in(snapshot, [name for name in snapshot.meta["inputs"] if name not in changed],
                               removed, project)
    if len(added) + len(removed) > EXTEND_MAX_TRIPLES:  # none at all (a comment edited) is a copy
        return None
    from .context import Existing

    existing = Existing(project, snapshot)  # the check's view of the project, as of that snapshot
    if why_not(existing, added | removed) or (removed and why_not_retract(existing, removed)):
        return None
    extend(existing, snapshot, folder, key, added, inputs, removed, twice)
    return snapshot


class NotExact(Exception):
    """The change turned out to need a full build (found while reasoning, before anything is written)."""


#: Above this many triples added and removed, a build is about as fast as reasoning about them over the store.
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
        if not isinstance(old, dict) or located_elsewhere(meta, project):
            continue  # another version of kgtool; or file: IRIs of another checkout, which the diff would not see
        changed = sorted(name for name in inputs.keys() | old.keys() if old.get(name) != inputs.get(name))
        if changed and intact(entry):  # the same ontology first: a change of it builds unless it only annotates
            found.append((ontology in changed, len(changed), -used, entry.name, Snapshot(entry, meta["key"]),
                          changed))
    for *_order, snapshot, changed in sorted(found, key=lambda row: row[:4]):
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


def _written_in(snapshot: Snapshot, names: list[str], triples: set[Triple], project) -> set[Triple]:
    """Those of ``triples`` that the parent's copies of these inputs hold (about 2 s at a million triples:
    only read when the parent's inputs had a triple twice, which its build counts)."""
    import pyoxigraph as ox

    subjects = {s[1:-1] for s, _p, _o in triples}
    found = set()
    for name in names:
        base = (project.root / name).resolve().as_uri()
        for t in ox.parse(path=str(snapshot.path / SOURCES / name), format=ox.RdfFormat.TURTLE, base_iri=base):
            if isinstance(t.subject, ox.NamedNode) and t.subject.value in subjects:
                triple = (str(t.subject), str(t.predicate), str(t.object))
                if triple in triples:
                    found.add(triple)
    return found


def _statements(data: bytes, base: str) -> set[str] | None:
    """A Turtle file's triples, each as one N-Triples statement without its final dot (None: it does not
    parse). Diffed as such, then split into terms (:func:`_terms`): a third of the strings to make."""
    import pyoxigraph as ox

    try:
        return {str(t) for t in ox.parse(data, format=ox.RdfFormat.TURTLE, base_iri=base)}
    except (SyntaxError, ValueError):
        return None


def _ground(statements: set[str]) -> set[str]:
    return {statement for statement in statements if "_:" not in statement}


def _same_blank_nodes(before: set[str], after: set[str]) -> bool:
    """Whether the statements with blank nodes (a list, a restriction, ``[ … ]``) are the same graph in
    both: every parse names blank nodes anew, so they are compared canonically. Changed, a build."""
    old = [statement.encode("utf-8") for statement in before - _ground(before)]
    new = [statement.encode("utf-8") for statement in after - _ground(after)]
    if len(old) != len(new):
        return False
    from .fastexport import canonical_labels

    return not old or canonical_labels(old) == canonical_labels(new)


def _terms(statements: set[str]) -> set[Triple] | None:
    """The triples as N-Triples terms, as a build parses them (None: one holds a blank node, whose labels no
    two parses share)."""
    import pyoxigraph as ox

    text = "".join(f"{statement} .\n" for statement in statements).encode("utf-8")
    triples = {(str(t.subject), str(t.predicate), str(t.object)) for t in ox.parse(text, format=ox.RdfFormat.N_TRIPLES)}
    return None if any(s[0] == "_" or o[0] == "_" for s, _p, o in triples) else triples


#: The lines the snapshot's ``asserted.nt`` lost against its parent's: (offset, length) pairs, as uint64.
REMOVED_LINES = "asserted-removed.bin"


def extend_gate_index(old: Snapshot, snapshot: Snapshot) -> None:
    """The gate's index of ``snapshot`` now, from ``old``'s if it has one (``kgtool add``: the next check
    would otherwise make it). Other commands leave it to the check that needs it (:func:`index_parent`)."""
    import contextlib
    import sqlite3

    from . import gate_index

    parent = index_parent(snapshot, old)
    if parent is not None:
        with contextlib.suppress(OSError, sqlite3.Error):  # the next check builds it
            gate_index.extend(*parent)


def index_parent(snapshot: Snapshot, old: Snapshot | None = None) -> tuple[Snapshot, Snapshot, int, list] | None:
    """What the gate's index of an extended ``snapshot`` can be made from (:func:`kgtool.gate_index.extend`):
    the snapshot it was made from (``old``, or found in the cache by ``extended_from``: held, and checked to
    be the very ``asserted.nt`` it was made from, as a rebuild lists the lines in another order), this one,
    where its appended lines start, and the lines it lost ((offset, length) in the old file). None: a build."""
    meta = snapshot.meta
    if "extended_from" not in meta:
        return None
    if old is None:
        folder = closure.cache_dir() / f"snapshot-{meta['extended_from'][:40]}"
        if not intact(folder) or not closure.hold(folder):
            return None
        old = Snapshot(folder, meta["extended_from"])
    try:
        stat = old.asserted_file.stat()
        removed = array("Q")
        if meta.get("removed"):
            removed.frombytes((snapshot.path / REMOVED_LINES).read_bytes())
    except (OSError, ValueError):
        return None
    if meta.get("parent_asserted") != [stat.st_size, stat.st_mtime_ns, stat.st_ino]:
        return None
    pairs = list(zip(removed[::2], removed[1::2], strict=True))
    return old, snapshot, stat.st_size - sum(length for _offset, length in pairs), pairs


def why_not(existing, added: set[Triple]) -> str:
    """Why the added triples need a full build (empty: they do not)."""
    if not existing.reasoner_suffices:
        return "the ontology needs owlrl"
    meta = existing.snapshot.meta
    if meta.get("same_as", True):  # left out of the store's inferences, as owlrl's are, so told by the build
        return "the data makes two names one individual (owl:sameAs)"
    if meta.get("inexact", True):  # the reasoner reads the store: its forms would be taken for the data's
        return "the data holds a literal the store keeps in another form"
    if any(term.startswith("_:") for triple in added for term in triple):
        return "the added triples hold blank nodes"
    if rules.changes_rules(added):
        return "the added triples change the ontology's axioms"
    if literal_forms.inexact(literal_forms.stored_forms(
            o for _s, _p, o in added if literal_forms.may_change(o))):
        return "an added literal is not written in the form the store keeps"
    return ""


def why_not_retract(existing, removed: set[Triple]) -> str:
    """Why removing these triples needs a full build (empty: it does not)."""
    if existing.snapshot.meta.get("collapses", True) and any(literal_forms.may_change(o) for _s, _p, o in removed):
        # two values the store keeps as one ("1"^^xsd:positiveInteger and "1"^^xsd:integer of one subject
        # and predicate): taking one out of the store would take the other along
        return "the data holds two values the store keeps as one"
    return ""


def _kept_as_one(existing, triples: set[Triple]) -> bool:
    """Whether a new triple's literal is one the store keeps as a value already there, written otherwise
    (or as another new triple's): the snapshot would then hold two values the store keeps as one."""
    import pyoxigraph as ox

    from .fastvalidate import to_term

    checked = [t for t in triples if literal_forms.may_change(t[2])]
    forms = literal_forms.stored_forms(o for _s, _p, o in checked)
    objects: dict[tuple[str, str], set[str]] = {}
    for s, p, o in checked:
        objects.setdefault((s, p), set()).add(o)
    for (s, p), new in objects.items():
        new_forms = {forms[o] for o in new}
        if len(new_forms) < len(new):
            return True
        stored = {str(q.object) for q in existing.store.quads_for_pattern(to_term(s), to_term(p), None)
                  if isinstance(q.object, ox.Literal)}
        if not stored.isdisjoint(new_forms):
            written = existing.base.objects(s, p)
            if any(forms[o] in stored and o not in written for o in new):
                return True
    return False


def extend(existing, old: Snapshot, folder: Path, key: str, added: set[Triple], inputs: dict[str, str],
           removed: set[Triple] = frozenset(), twice: bool = False) -> tuple[int, int]:
    """Write the new snapshot into ``folder``: (asserted triples added, inferences added). The store is
    loaded and compacted in a second thread (pyoxigraph releases the GIL) while this one writes the files.

    With ``removed`` triples, the closure is updated by DRed (:func:`kgtool.rules.overdeleted`, then
    :func:`kgtool.rules.rederived`): what a removed triple helped derive is taken out, unless it still
    follows from what stays. ``twice``: a triple of ``added`` was written in two files (``meta.json``'s
    ``repeats`` then says a later removal must look in the other files)."""
    import pyoxigraph as ox

    from .context import incremental_closure

    clock = [time.perf_counter()]

    def lap() -> float:
        clock.append(time.perf_counter())
        return round(clock[-1] - clock[-2], 3)

    added_lines = {_line(t): t for t in added}
    removed_lines = {_line(t) for t in removed}
    if removed:
        base = existing.base
        overdeleted, tbox = rules.overdeleted(set(removed), base, existing.tbox)
        watched = {_line(t) for t in overdeleted} | added_lines.keys()
        asserted = _carry(old.asserted_file, folder / "asserted.nt", watched, drop=removed_lines)
        still = {t for t in overdeleted if _line(t) in asserted.kept}
        kept = still | added
        found = rules.rederived(overdeleted - still, kept, rules.Without(base, overdeleted), tbox, existing.tbox)
        entailed = {_line(t): t for t in found.inferred() - kept}
        gone = {_line(t) for t in overdeleted - kept} - entailed.keys()
    else:  # asserted.nt is carried below, while the store is written
        found = incremental_closure(existing, sorted(added))
        entailed = {_line(t): t for t in found.inferred() - added} if found is not None else {}
        gone = set()
        asserted = None
    if found is not None and found.same:  # DRed here has no equality rules, and the build must say so
        raise NotExact("the change makes two names one individual (owl:sameAs)")
    if _kept_as_one(existing, added | set(entailed.values())):
        raise NotExact("a new value is one the store keeps as a value already there")
    phases = {"reason": lap()}
    ox.Store.read_only(str(old.store_dir)).backup(str(folder / "store"))
    store = ox.Store(str(folder / "store"))
    writer = StoreWriter(store)
    try:
        if gone:
            writer.put(_remove, store, gone)
        # all of them: a triple the store has already is not stored twice
        writer.put(store.bulk_load, input="".join(added_lines.keys() | entailed.keys()).encode("utf-8"),
                   format=ox.RdfFormat.N_TRIPLES)
        # compacted, as a build leaves it: at 1M the new triples' small tables alone made the list queries
        # a third slower (organizations 7.6 -> 10.5 s), and merges would pile them up; it takes ~3 s there
        writer.put(finish_store, store)
        if asserted is None:
            asserted = _carry(old.asserted_file, folder / "asserted.nt", added_lines.keys(), drop=set())
        inferred = _carry(old.inferred_file, folder / "inferred.nt", entailed.keys() | added_lines.keys() | gone,
                          drop=added_lines.keys() | gone)
        new_asserted = [line for line in added_lines if line not in asserted.kept]
        new_inferred = [line for line in entailed if line not in inferred.kept and line not in asserted.kept
                        and line not in added_lines]
        _append(folder / "asserted.nt", new_asserted)
        _append(folder / "inferred.nt", new_inferred)
        fresh = [line for line in [*new_asserted, *new_inferred]
                 if literal_forms.restored((added_lines.get(line) or entailed[line])[2])]
        if asserted.dropped_at:  # for the gate's index (extend_gate_index)
            flat = array("Q", [number for pair in asserted.dropped_at for number in pair])
            (folder / REMOVED_LINES).write_bytes(flat.tobytes())
        exact = _carry(old.exact_literals_file, folder / "exact-literals.nt", set(fresh) | gone, drop=gone)
        _append(folder / "exact-literals.nt", [line for line in fresh if line not in exact.kept])
        phases["files"] = lap()
    finally:
        writer.close()
    if writer.error is not None:
        raise writer.error
    del store
    phases["store"] = lap()
    meta = old.meta
    stat = old.asserted_file.stat()
    located = meta.get("location") or (location_of(existing.project) if mentions_files(
        term for triple in added for term in triple) else None)
    write_meta(folder, {
        "format": SNAPSHOT_FORMAT, "key": key, "asserted": meta["asserted"] - asserted.dropped + len(new_asserted),
        "inferred": meta["inferred"] - inferred.dropped + len(new_inferred), "reasoner": meta["reasoner"],
        "seconds": round(clock[-1] - clock[0], 3), "phases": phases, "extended_from": old.key,
        # a triple added that was asserted already (or added to two files: ``twice``) is now written twice
        "repeats": meta.get("repeats", True) or twice or any(line in asserted.kept for line in added_lines),
        "removed": asserted.dropped, "parent_asserted": [stat.st_size, stat.st_mtime_ns, stat.st_ino],
        # the flags a build sets (refused above when the parent had them, or the change brings them in)
        "same_as": False, "inexact": False, "collapses": meta.get("collapses", True),
        **({"location": located} if located else {})}, inputs)
    return len(new_asserted), len(new_inferred)




def _remove(store, lines: set[str]) -> None:
    import pyoxigraph as ox

    for triple in ox.parse("".join(lines).encode("utf-8"), format=ox.RdfFormat.N_TRIPLES):
        store.remove(ox.Quad(triple.subject, triple.predicate, triple.object, ox.DefaultGraph()))


def _line(triple: Triple) -> str:
    return f"{triple[0]} {triple[1]} {triple[2]} .\n"


class Carried(NamedTuple):
    kept: set[str]
    dropped: int
    #: where the dropped lines were in the source: (byte offset, length with the newline), in order
    dropped_at: list[tuple[int, int]]


def _carry(source: Path, target: Path, watched, drop) -> Carried:
    """Copy an N-Triples file (one line per triple, each once) without the lines in ``drop``: the lines of
    ``watched`` it kept, and which it dropped. As bytes, split and joined whole: 0.1 s a million lines."""
    data = source.read_bytes()
    lines = data.split(b"\n")
    found = {line[:-1].encode("utf-8") for line in watched}.intersection(lines)
    gone = found.intersection(line[:-1].encode("utf-8") for line in drop)
    dropped_at = []
    if gone:
        position = 0
        for line in lines:
            if line in gone:
                dropped_at.append((position, len(line) + 1))
            position += len(line) + 1
        data = b"\n".join([line for line in lines if line not in gone])
    target.write_bytes(data)
    return Carried({line.decode("utf-8") + "\n" for line in found - gone}, len(gone), dropped_at)


def _append(path: Path, lines: list[str]) -> None:
    if lines:
        with path.open("a", encoding="utf-8", newline="\n") as out:
            out.write("".join(lines))

