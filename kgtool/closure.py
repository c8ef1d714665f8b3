"""The content-addressed cache outside the repository: closures, snapshots, parsed query headers.

Every entry's key hashes the bytes of every input file (and what else decides the content: the kgtool
version, the code that builds it), so an edit to ``ontology/`` or ``data/`` makes a new key and a stale
entry is never read. It lives outside the repository (``$KGTOOL_CACHE_DIR``, else
``$XDG_CACHE_HOME/kgtool``, else ``~/.cache/kgtool``).

Safe when processes start at once: files are written to a temporary name and renamed into place, whole
folders are built under a temporary name and renamed into place, and the builds of one key are
serialised by a lock file, so the second process waits and then reads what the first built. An entry
exists complete or not at all.

Bounded, and safe while in use: a process that uses a folder entry (a store snapshot, a gate index) holds
a shared lock on the folder until it ends (:func:`hold`) and sets its time, so the time is when it was
last used. After each build, :func:`prune` removes all but the three most recently used entries of that
kind, except those a process holds (a running ``kgtool serve`` keeps its snapshot however old); a file
entry (a closure, parsed shapes) is read whole, so it is simply removed, the oldest first. ``kgtool cache``
shows the cache and clears it (:mod:`kgtool.cache_admin`).

Large inputs (over 64 KiB) are not re-hashed on every run when their size, times and inode are those
recorded when they were last hashed, and the record is at least two seconds older than the file's last
change; any later write changes the file's ctime, which no tool can set back, so the digest cannot be stale.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from . import __version__
from .atomic import write_atomically

try:  # the C implementation alone: importing hashlib loads OpenSSL, ~2.5 ms of every cold start
    from _sha256 import sha256
except ImportError:  # pragma: no cover - other Pythons
    from hashlib import sha256

CACHE_FORMAT = "closure-v2"
MEMO_MIN_BYTES = 64 << 10  # the bundled files are smaller: hashed, the memo never read
SETTLED_NS = 2_000_000_000
#: How many entries of each kind the cache keeps besides those in use (closures, snapshots, gate indexes).
KEEP = 3


def cache_dir() -> Path:
    explicit = os.environ.get("KGTOOL_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "kgtool"


def inputs_key(files: Iterable[Path], salt: str = "") -> str:
    """A hash of the files' names and contents (independent of where the project lives)."""
    return key_of(file_digests(files), salt)


def file_digests(files: Iterable[Path]) -> dict[Path, str]:
    """Each file's content digest, as :func:`inputs_key` hashes it."""
    memo = _Memo()
    digests = {path: memo.file_digest(path) for path in files}
    memo.save()
    return digests


def text_digest(data: bytes) -> str:
    """The digest :func:`file_digests` gives a file holding ``data``."""
    return sha256(data).hexdigest()


def key_of(digests: dict[Path, str], salt: str = "") -> str:
    """:func:`inputs_key` from the files' digests: what a writer that knows the bytes it wrote can predict."""
    digest = sha256(f"{CACHE_FORMAT}|{__version__}|{salt}".encode())
    for path in sorted(digests, key=lambda p: (p.parent.name, p.name)):
        digest.update(f"\0{input_name(path)}\0".encode())
        digest.update(digests[path].encode())
    return digest.hexdigest()


def input_name(path: Path) -> str:
    """An input file as keys name it, ``folder/file``: independent of where the project lives."""
    return f"{path.parent.name}/{path.name}"


def code_digest(*modules: str) -> str:
    """A hash of kgtool's own source files, so a cache entry built by other code is never reused."""
    digest = sha256()
    here = Path(__file__).resolve().parent
    for name in modules:
        digest.update((here / f"{name}.py").read_bytes())
    return digest.hexdigest()[:16]


def code_stamp(*modules: str) -> str:
    """Which code this is, from its files' stat instead of their bytes (microseconds, not a millisecond):
    for entries read on every start and cheap to make again (query answers, parsed query headers). Any
    edit or reinstall changes a file's ctime, which no tool can set back, so other code never matches;
    an unchanged reinstall only makes those entries again. (A snapshot is shared across checkouts and
    costly to build: :func:`code_digest`.)"""
    here = os.path.dirname(os.path.abspath(__file__))
    stats = [os.stat(os.path.join(here, f"{name}.py")) for name in modules]
    signature = "|".join(f"{name}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}:{st.st_dev}"
                         for name, st in zip(modules, stats, strict=True))
    return sha256(signature.encode()).hexdigest()[:16]


class _Memo:
    """Per-file content digests of large files, keyed by their stat (see the module docstring)."""

    def __init__(self) -> None:
        self.path = cache_dir() / "file-digests.json"
        self.entries: dict[str, list] | None = None
        self.changed = False

    def file_digest(self, path: Path) -> str:
        stat = path.stat()
        if stat.st_size < MEMO_MIN_BYTES:
            return sha256(path.read_bytes()).hexdigest()
        if self.entries is None:
            self.entries = self._load()
        name = str(path.resolve())
        signature = [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino, stat.st_dev]
        known = self.entries.get(name)
        if known and known[:5] == signature:
            return known[5]
        import hashlib

        with path.open("rb") as handle:
            digest = hashlib.file_digest(handle, "sha256").hexdigest()
        if time.time_ns() - max(stat.st_mtime_ns, stat.st_ctime_ns) > SETTLED_NS:
            self.entries[name] = [*signature, digest]
            self.changed = True
        return digest

    def _load(self) -> dict[str, list]:
        import json

        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def save(self) -> None:
        if self.changed and self.entries is not None:
            import json

            with contextlib.suppress(OSError):
                write_cached_file(self.path, json.dumps(self.entries).encode("utf-8"))


def read_cached(key: str, suffix: str = ".nt") -> bytes | None:
    path = cache_dir() / f"{key}{suffix}"
    try:
        data = path.read_bytes()
    except OSError:
        return None
    with contextlib.suppress(OSError):
        os.utime(path)  # last used: prune removes the least recently used
    return data


def write_cached(key: str, payload: bytes, suffix: str = ".nt", keep: int | None = KEEP) -> Path | None:
    """Store payload atomically; a read-only or missing cache location is not an error (just slower).
    The least recently used entries of the same suffix beyond ``keep`` are removed (None: none are)."""
    try:
        written = write_cached_file(cache_dir() / f"{key}{suffix}", payload)
    except OSError:
        return None
    if keep is not None:
        prune(f"*{suffix}", keep)
    return written


def write_cached_file(target: Path, payload: bytes) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(target, payload)
    return target


@contextlib.contextmanager
def build_lock(name: str) -> Iterator[None]:
    """Serialise the builds of one cache entry across processes (a no-op where locking is impossible)."""
    try:
        import fcntl
    except ImportError:  # no POSIX locks: concurrent builds still publish atomically
        yield
        return
    try:
        cache_dir().mkdir(parents=True, exist_ok=True)
        handle = (cache_dir() / f".{name}.lock").open("a+b")
    except OSError:
        yield
        return
    with handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def new_build_dir(name: str) -> Path:
    """A fresh folder to build an entry in: inside the cache (so publishing is a rename), else in /tmp."""
    import tempfile

    try:
        cache_dir().mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(dir=cache_dir(), prefix=f".{name}-", suffix=".tmp"))
    except OSError:
        return Path(tempfile.mkdtemp(prefix=f"kgtool-{name}-"))


def folder_entry(name: str, ready: Callable[[Path], bool], make: Callable[[Path], None]) -> tuple[Path, bool]:
    """The folder entry ``name``, held (:func:`hold`): as found if ``ready`` says it is whole, else made by
    ``make`` in a fresh folder and published by a rename, under the entry's build lock (a second process
    waits, then finds it), and the entries of its kind pruned. ``(path, made now)``; a ``make`` that raises
    leaves nothing behind."""
    final = cache_dir() / name
    if ready(final) and hold(final):  # held: no prune removes it while this process runs
        return final, False
    import shutil

    with build_lock(name):
        if ready(final) and hold(final):  # another process made it while this one waited
            return final, False
        if final.exists():  # damaged (entries are published whole): start again
            shutil.rmtree(final, ignore_errors=True)
        built = new_build_dir(name)
        try:
            make(built)
        except BaseException:
            shutil.rmtree(built, ignore_errors=True)
            raise
        path = publish_dir(built, name)
        hold(path)
    prune(name.rsplit("-", 1)[0] + "-*")
    return path, True


def publish_dir(built: Path, name: str) -> Path:
    """Rename a finished build folder to its entry name; if another process published first, use theirs."""
    import shutil

    final = cache_dir() / name
    try:
        os.rename(built, final)
    except OSError:
        if final.is_dir():
            shutil.rmtree(built, ignore_errors=True)
        else:
            return built  # the cache is not writable: use the build where it is
    return final


#: Folder entries this process uses: an open descriptor each, with a shared lock held until the process ends.
_held: dict[str, int] = {}
#: At most this many are held (a process that went through more, like a test suite, lets the oldest go).
MAX_HELD = 64


def hold(entry: Path) -> bool:
    """Mark a folder entry as used by this process until it ends, so that no prune removes it meanwhile
    (a shared lock on the folder), and as just used (its time). False if it is gone, or going (a prune
    removed it after the caller found it): then the caller finds or builds it again."""
    name = str(entry)
    if name in _held:
        _held[name] = _held.pop(name)  # the most recently used, the last to be let go
        return True
    fcntl = _fcntl()
    if fcntl is None:  # no POSIX locks (Windows): used unheld; a prune may remove it meanwhile
        with contextlib.suppress(OSError):
            os.utime(name)
        return os.path.isdir(name)
    try:
        fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return False
    with contextlib.suppress(OSError):  # a file system without locks (some NFS): used unheld
        fcntl.flock(fd, fcntl.LOCK_SH)  # waits while a prune holds it: then it is gone, and found so below
    try:
        same = os.path.samestat(os.fstat(fd), os.stat(name))
    except OSError:
        same = False
    if not same:
        os.close(fd)
        return False
    with contextlib.suppress(OSError):
        os.utime(name)
    _held[name] = fd
    while len(_held) > MAX_HELD:
        os.close(_held.pop(next(iter(_held))))
    return True


def let_go(entry: Path) -> None:
    """No longer hold a folder entry (:func:`hold`): a long-running process done with it (``kgtool serve``
    after serving a newer snapshot for a while) lets a prune remove it."""
    fd = _held.pop(str(entry), None)
    if fd is not None:
        os.close(fd)


def remove_entry(entry: Path) -> bool:
    """Remove a cache entry unless a process holds it (False then). A folder is locked exclusively and
    renamed first, so no process can start using it while it is removed."""
    import shutil

    if not entry.is_dir():
        try:
            entry.unlink()
        except FileNotFoundError:
            pass
        except OSError:
            return False
        return True
    if str(entry) in _held:
        return False
    fcntl = _fcntl()
    fd = None
    try:
        if fcntl is not None:
            try:
                fd = os.open(entry, os.O_RDONLY | os.O_DIRECTORY)
            except FileNotFoundError:
                return True
            except OSError:
                return False
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:  # held by a process: in use
                return False
            except OSError:  # a file system without locks: removed unlocked
                pass
        doomed = entry.with_name(f".{entry.name}.removing-{os.getpid()}")
        try:
            os.rename(entry, doomed)
        except OSError:
            return not entry.exists()
        shutil.rmtree(doomed, ignore_errors=True)
        with contextlib.suppress(OSError):
            (entry.parent / f".{entry.name}.lock").unlink()
        return True
    finally:
        if fd is not None:
            os.close(fd)


def _fcntl():
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        return None
    return fcntl


def _last_used(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def prune(pattern: str, keep: int = KEEP) -> None:
    """Remove the entries (folders or files) named like ``pattern`` but the ``keep`` most recently used
    and those in use."""
    try:
        entries = sorted(cache_dir().glob(pattern), key=_last_used, reverse=True)
    except OSError:
        return
    for entry in entries[keep:]:
        remove_entry(entry)
