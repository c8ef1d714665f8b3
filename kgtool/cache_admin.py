"""``kgtool cache``: what the cache outside the repository holds, and clearing it.

Every entry can be rebuilt from ``ontology/``, ``data/`` and ``queries/``, so clearing loses nothing but
the time of the next build. Entries a running process holds (``kgtool serve``'s snapshot, a query's) are
never removed: they are listed as in use and kept (:func:`kgtool.closure.hold`).
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

from . import closure

#: Entry kinds by name (shell patterns), in the order they are listed.
KINDS = (
    ("snapshot-*", "store snapshot"),
    ("gate-index-*", "gate index"),
    ("*.nt", "OWL RL closure"),
    ("*.local", "shape analysis"),
    ("queries", "parsed query headers"),
    ("answers", "query answers"),
    ("file-digests.json", "input digests"),
)


@dataclass(frozen=True)
class Entry:
    path: Path
    kind: str
    bytes: int
    last_used: float
    in_use: bool


def kind_of(path: Path) -> str:
    """What an entry is; names of unfinished builds and removals start with a dot."""
    name = path.name
    if name.startswith("."):
        if name.endswith(".lock"):
            return "lock"
        return "unfinished build" if name.endswith(".tmp") else "unfinished removal"
    return next((kind for pattern, kind in KINDS if fnmatchcase(name, pattern)), "other")


def entries(cache: Path | None = None) -> list[Entry]:
    """Every entry in the cache, the most recently used first within each kind."""
    cache = cache or closure.cache_dir()
    try:
        paths = list(cache.iterdir())
    except OSError:
        return []
    found = []
    for path in paths:
        kind = kind_of(path)
        if kind == "lock":
            continue
        try:
            used = path.stat().st_mtime
        except OSError:  # removed meanwhile
            continue
        found.append(Entry(path, kind, _size(path), used, _in_use(path)))
    order = [kind for _pattern, kind in KINDS]
    return sorted(found, key=lambda e: (order.index(e.kind) if e.kind in order else len(order), -e.last_used))


@dataclass(frozen=True)
class Built:
    name: str
    built_now: bool
    seconds: float
    detail: str


def build(project, gate_index: bool = False, answers: bool = False, timeout: float | None = None) -> list[Built]:
    """Build the project's store snapshot now (and the contribution gate's index, and the answers of the
    canned queries that run without parameters), as the first query (or check) after a change would: to
    pay for it in a deploy step, before ``kgtool serve``."""
    from . import snapshot

    start, began = time.perf_counter(), time.time()
    found = snapshot.get_snapshot(project)
    meta = found.meta
    fresh = (found.path / "meta.json").stat().st_mtime >= began  # written last by a build (kgtool.snapshot)
    phases = ", ".join(f"{phase} {seconds:g}" for phase, seconds in meta.get("phases", {}).items())
    done = [Built(found.path.name, fresh, time.perf_counter() - start,
                  f"{meta['asserted']:,} asserted and {meta['inferred']:,} inferred triples"
                  + (f" ({phases} s)" if phases and fresh else ""))]
    if gate_index:
        from .gate_index import GateIndex

        start = time.perf_counter()
        index = GateIndex.open(found)
        seconds = time.perf_counter() - start
        done.append(Built(index.folder.name, index.made_now, seconds, f"{index.subject_count():,} subjects"))
    if answers:
        from .run import keep_default_answers

        start = time.perf_counter()
        warmed = keep_default_answers(project, timeout)
        total = warmed.computed + warmed.found + len(warmed.failed)
        detail = f"{warmed.computed + warmed.found} of {total} canned queries that run without parameters answered"
        detail += "".join(f"\n  not kept: {name}: {why}" for name, why in warmed.failed)
        done.append(Built("answers", warmed.computed > 0, time.perf_counter() - start, detail))
    return done


def render_built(done: list[Built]) -> str:
    return "".join(f"{item.name}: {f'built in {item.seconds:.1f} s' if item.built_now else 'already built'}; "
                   f"{item.detail}\n" for item in done)


def clear(cache: Path | None = None, dry_run: bool = False) -> tuple[list[Entry], list[Entry]]:
    """Remove every entry no process holds: (removed, kept in use). An unfinished build whose builder is
    still running is in use as well (its build lock is taken)."""
    removed, kept = [], []
    for entry in entries(cache):
        if entry.in_use:
            kept.append(entry)
            continue
        if not dry_run:
            gone = closure.remove_entry(entry.path)
            if not gone:  # held since it was listed, or not ours to remove
                kept.append(Entry(entry.path, entry.kind, entry.bytes, entry.last_used, _in_use(entry.path)))
                continue
        removed.append(entry)
    if not dry_run:
        _remove_free_locks(cache or closure.cache_dir())
    return removed, kept


def _remove_free_locks(cache: Path) -> None:
    """Lock files nobody holds (a builder waiting on one has it open and locked, or will find it gone
    and build under a new one: builds publish by rename, so two at once are harmless)."""
    for lock in cache.glob(".*.lock"):
        if not _locked(lock):
            closure.remove_entry(lock)


def _size(path: Path) -> int:
    if not path.is_dir():
        try:
            return path.stat().st_size
        except OSError:
            return 0
    total = 0
    for folder, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):  # removed meanwhile
                total += os.stat(os.path.join(folder, name)).st_size
    return total


def _in_use(path: Path) -> bool:
    """Held by a process: a folder entry's own lock, or an unfinished build's build lock."""
    if path.name.startswith(".") and path.name.endswith(".tmp"):
        entry_name = path.name[1:].rsplit("-", 1)[0]  # .{name}-{random}.tmp (closure.new_build_dir)
        return _locked(path.parent / f".{entry_name}.lock")
    return path.is_dir() and _locked(path)


def _locked(path: Path) -> bool:
    """Whether some process holds a lock on this file or folder (asked without waiting)."""
    try:
        import fcntl
    except ImportError:  # no POSIX locks: nothing can be known to be in use
        return False
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:  # a file system without locks: nothing can be known to be in use
        return False
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def human_size(count: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if count < 1000 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000
    raise AssertionError("unreachable")


def render_info(found: list[Entry], cache: Path, fmt: str = "text", verbose: bool = False) -> str:
    """The cache's place and what it holds, by kind (every entry with ``verbose``, and always in json)."""
    if fmt == "json":
        return json.dumps({
            "cache": str(cache), "bytes": sum(e.bytes for e in found),
            "entries": [{"name": e.path.name, "kind": e.kind, "bytes": e.bytes,
                         "last_used": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(e.last_used)),
                         "in_use": e.in_use} for e in found]}, ensure_ascii=False, indent=2) + "\n"
    lines = [f"cache: {cache} (KGTOOL_CACHE_DIR moves it; every entry is rebuilt when needed)"]
    if not found:
        return "\n".join([*lines, "empty"]) + "\n"
    kinds: dict[str, list[Entry]] = {}
    for entry in found:
        kinds.setdefault(entry.kind, []).append(entry)
    width = max(len(kind) for kind in kinds)
    for kind, group in kinds.items():
        in_use = sum(e.in_use for e in group)
        note = f", {in_use} in use" if in_use else ""
        lines.append(f"  {kind:<{width}}  {len(group):>4} {'entry' if len(group) == 1 else 'entries':<7}"
                     f"  {human_size(sum(e.bytes for e in group)):>9}{note}")
        if verbose:
            lines += [f"      {e.path.name}  {human_size(e.bytes)}  last used "
                      f"{time.strftime('%Y-%m-%d %H:%M', time.localtime(e.last_used))}"
                      f"{'  in use' if e.in_use else ''}" for e in group]
    lines.append(f"total: {human_size(sum(e.bytes for e in found))} in {len(found)} "
                 f"{'entry' if len(found) == 1 else 'entries'}")
    return "\n".join(lines) + "\n"


def render_cleared(removed: list[Entry], kept: list[Entry], dry_run: bool) -> str:
    verb = "would remove" if dry_run else "removed"
    line = (f"{verb} {len(removed)} {'entry' if len(removed) == 1 else 'entries'}, "
            f"{human_size(sum(e.bytes for e in removed))}")
    for held, why in ((True, "in use by a running kgtool"), (False, "that could not be removed")):
        group = [e for e in kept if e.in_use is held]
        if group:
            names = ", ".join(e.path.name for e in group[:5]) + (" …" if len(group) > 5 else "")
            line += f"; kept {len(group)} {why} ({names})"
    return line + "\n"
