"""Crash-safe, locked replacement of several files in ``data/`` at once.

The lock: an exclusive :class:`filelock.FileLock` on ``data/.kgtool-merge.lock``, held for a whole merge
(the file stays between runs, as filelock requires so that waiters never split across inodes; ``*.lock``
is ignored by git). ``flock`` locks die with their process, so a killed merge never leaves a stale lock.

The commit: each new file text is written to a temporary file in ``data/`` (same file system, so
``os.replace`` is atomic) and flushed to disk, with the mode of the file it replaces. Then a journal listing
every (temporary, target) pair is written atomically: that is the commit point. Then each temporary file
replaces its target and the journal is removed.

After a crash: before the journal exists, ``data/`` holds the old data and stray temporary files, which
:func:`recover` removes; after it, :func:`recover` completes the renames (roll forward). ``kgtool add``
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
    temps: list[tuple[str, str]] = []
    try:
        for target, text in changes:
            temps.append((_write_temp(data_dir, target, text), target.name))
        _test_pause("temps")
        _write_journal(data_dir, temps)
    except BaseException:
        for temp, _target in temps:
            (data_dir / temp).unlink(missing_ok=True)
        raise
    _roll_forward(data_dir)


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


def _write_journal(data_dir: Path, temps: list[tuple[str, str]]) -> None:
    fd, name = tempfile.mkstemp(dir=data_dir, prefix=f"{TEMP_PREFIX}journal.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump({"version": 1, "replace": temps}, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(name, data_dir / JOURNAL_NAME)
    _fsync_dir(data_dir)


def _roll_forward(data_dir: Path) -> list[str]:
    """Complete the renames the journal lists; return the targets."""
    journal = data_dir / JOURNAL_NAME
    pairs = _read_journal(journal)
    for index, (temp, target) in enumerate(pairs):
        if (data_dir / temp).exists():
            os.replace(data_dir / temp, data_dir / target)
        if index == 0:
            _test_pause("replace")
    _fsync_dir(data_dir)
    journal.unlink(missing_ok=True)
    _fsync_dir(data_dir)
    return [target for _temp, target in pairs]


def _read_journal(journal: Path) -> list[tuple[str, str]]:
    try:
        doc = json.loads(journal.read_text(encoding="utf-8"))
        pairs = [(str(t), str(f)) for t, f in doc["replace"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ProjectError(
            f"{journal}: unreadable merge journal ({exc})",
            hint="restore data/ from git, then delete the journal",
        ) from None
    for temp, target in pairs:  # only our own temporary files, only plain names inside data/
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
