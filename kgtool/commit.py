"""Crash-safe, locked replacement of several files in ``data/`` at once.

The lock: an exclusive :class:`filelock.FileLock` on ``data/.kgtool-merge.lock``, held for a whole merge
(the file stays between runs, as filelock requires so that waiters never split across inodes; ``*.lock``
is ignored by git). ``flock`` locks die with their process, so a killed merge never leaves a stale lock.

The commit: each new file text is written to a temporary file in ``data/`` (same file system, so
``os.replace`` is atomic) and flushed to disk, with the mode of the file it replaces. Then a journal listing
every (temporary, target) pair is written atomically: that is the commit point. Then each temporary file
replaces its target and the journal is removed.

After a crash: before the journal exists, ``data/`` holds the old data and stray temporary files, which
:func:`recover` removes; after it, :func:`recover` completes the renames (roll forward), if every file is
as the crash left it (the journal records each file's old and new digest): a file edited or checked out
since is never overwritten, the recovery stops and says so. ``kgtool add``
recovers, under the lock, before it reads ``data/``. So a crash leaves the old data or the new, never a mix;
the one exception is a reader that runs between a crash in the middle of the renames and the next
``kgtool add``: it can see some files new and some old (each file on its own is always complete).

Tests can stop a merge at a chosen point with ``KGTOOL_TEST_PAUSE_MERGE`` (see :func:`_test_pause`).
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import ProjectError
from .project import JOURNAL_NAME, Project

LOCK_NAME = ".kgtool-merge.lock"
TEMP_PREFIX = ".kgtool-merge."
LOCK_TIMEOUT = 300.0  # seconds to wait for another merge


@contextmanager
def merge_lock(project: Project) -> Iterator[None]:
    """An exclusive lock on data/ for the whole merge (waits up to LOCK_TIMEOUT seconds)."""
    from filelock import FileLock, Timeout

    lock = FileLock(project.data_dir / LOCK_NAME, timeout=LOCK_TIMEOUT)
    try:
        lock.acquire()
    except Timeout:
        raise ProjectError(
            f"another `kgtool add` has held {lock.lock_file} for {LOCK_TIMEOUT:.0f} s",
            hint="wait for it to finish and try again",
        ) from None
    except OSError as exc:
        raise ProjectError(f"cannot lock {project.data_dir} ({exc.strerror})") from None
    try:
        yield
    finally:
        lock.release()


def commit(data_dir: Path, changes: list[tuple[Path, str]]) -> None:
    """Write every new file text to a temporary file, write the journal (the commit point), rename."""
    for target, _text in changes:
        if target.is_symlink():  # a rename would put a file in the link's place, and the linked file keep the old text
            raise ProjectError(f"{target}: is a symbolic link; kgtool add replaces data files whole",
                               hint="merge into the file it points to by hand, or replace the link by the file")
    temps: list[dict] = []
    try:
        for target, text in changes:
            old = _digest(target.read_bytes()) if target.exists() else None
            temps.append({"temp": _write_temp(data_dir, target, text), "target": target.name, "old": old,
                          "new": _digest(text.encode("utf-8"))})
        _test_pause("temps")
        _write_journal(data_dir, temps)
    except BaseException:
        for entry in temps:
            (data_dir / entry["temp"]).unlink(missing_ok=True)
        raise
    _roll_forward(data_dir)


def _digest(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def _write_temp(data_dir: Path, target: Path, text: str) -> str:
    fd, name = tempfile.mkstemp(dir=data_dir, prefix=f"{TEMP_PREFIX}{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        mode = stat.S_IMODE(target.stat().st_mode) if target.exists() else 0o666 & ~_umask()
        os.chmod(name, mode)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name).name


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _write_journal(data_dir: Path, temps: list[dict]) -> None:
    fd, name = tempfile.mkstemp(dir=data_dir, prefix=f"{TEMP_PREFIX}journal.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump({"version": 2, "replace": temps}, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(name, data_dir / JOURNAL_NAME)
    _fsync_dir(data_dir)


def _roll_forward(data_dir: Path) -> list[str]:
    """Complete the renames the journal lists; return the targets.

    Only if every target is as the interrupted merge left it: the old text where its temporary file still
    waits, the new text where it was renamed already. Otherwise someone changed data/ since (an edit, a
    ``git checkout``), and finishing the merge would overwrite that or mix old and new files: nothing is
    renamed, and the journal and the temporary files stay for a person to look at."""
    journal = data_dir / JOURNAL_NAME
    pairs = _read_journal(journal)
    changed = [entry["target"] for entry in pairs if not _as_left(data_dir, entry)]
    if changed:
        raise ProjectError(
            f"{data_dir}: an interrupted merge cannot be finished: {', '.join(changed)} changed since it was "
            "interrupted; its new texts are the .kgtool-merge.*.tmp files next to them",
            hint=f"compare them with git diff, keep what you want, then delete {JOURNAL_NAME} and the .tmp files")
    for index, entry in enumerate(pairs):
        temp, target = entry["temp"], entry["target"]
        if (data_dir / temp).exists():
            os.replace(data_dir / temp, data_dir / target)
        if index == 0:
            _test_pause("replace")
    _fsync_dir(data_dir)
    journal.unlink(missing_ok=True)
    _fsync_dir(data_dir)
    return [entry["target"] for entry in pairs]


def _as_left(data_dir: Path, entry: dict) -> bool:
    """The target holds what the journal says it held when the merge stopped (journals of version 1 say
    nothing: trusted, as before)."""
    if "new" not in entry:
        return True
    target = data_dir / entry["target"]
    current = _digest(target.read_bytes()) if target.exists() else None
    waiting = (data_dir / entry["temp"]).exists()
    return current == (entry["old"] if waiting else entry["new"])


def _read_journal(journal: Path) -> list[dict]:
    try:
        doc = json.loads(journal.read_text(encoding="utf-8"))
        pairs = [dict(entry) if isinstance(entry, dict) else {"temp": str(entry[0]), "target": str(entry[1])}
                 for entry in doc["replace"]]
        for entry in pairs:
            entry["temp"], entry["target"] = str(entry["temp"]), str(entry["target"])
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise ProjectError(
            f"{journal}: unreadable merge journal ({exc})",
            hint="restore data/ from git, then delete the journal",
        ) from None
    for temp, target in ((e["temp"], e["target"]) for e in pairs):  # our own temporary files, plain names in data/
        if (
            "/" in temp + target
            or os.sep in temp + target
            or not temp.startswith(TEMP_PREFIX)
            or not target.endswith(".ttl")
        ):
            raise ProjectError(f"{journal}: unexpected entry {temp!r} -> {target!r}; nothing was renamed")
    return pairs


def needs_recovery(project: Project) -> bool:
    data_dir = project.data_dir
    return (data_dir / JOURNAL_NAME).exists() or any(data_dir.glob(f"{TEMP_PREFIX}*.tmp"))


def recover(project: Project) -> list[str]:
    """Under the lock: finish a merge a crash interrupted, remove its stray temporary files."""
    data_dir = project.data_dir
    done = _roll_forward(data_dir) if (data_dir / JOURNAL_NAME).exists() else []
    for stray in sorted(data_dir.glob(f"{TEMP_PREFIX}*.tmp")):
        stray.unlink(missing_ok=True)
    return done


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _test_pause(stage: str) -> None:
    """Test hook: ``KGTOOL_TEST_PAUSE_MERGE=stage:seconds[:sentinel]`` sleeps at ``stage`` ("temps": temporary
    files written, no journal yet; "replace": journal written, first file renamed), touching ``sentinel``
    first so a test knows when to kill the process."""
    setting = os.environ.get("KGTOOL_TEST_PAUSE_MERGE", "")
    wanted, _, rest = setting.partition(":")
    if wanted != stage:
        return
    seconds, _, sentinel = rest.partition(":")
    if sentinel:
        Path(sentinel).touch()
    time.sleep(float(seconds or 0))
