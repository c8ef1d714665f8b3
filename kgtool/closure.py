"""The content-addressed cache outside the repository: closures, snapshots, parsed query headers.

Every entry's key hashes the bytes of every input file (and what else decides the content: the kgtool
version, the code that builds it), so an edit to ``ontology/`` or ``data/`` makes a new key and a stale
entry is never read. It lives outside the repository (``$KGTOOL_CACHE_DIR``, else
``$XDG_CACHE_HOME/kgtool``, else ``~/.cache/kgtool``).

Safe when processes start at once: files are written to a temporary name and renamed into place, whole
folders are built under a temporary name and renamed into place, and the builds of one key are
serialised by a lock file, so the second process waits and then reads what the first built. Readers take
no lock: an entry exists complete or not at all.

Large inputs (over 1 MiB) are not re-hashed on every run when their size, times and inode are those
recorded when they were last hashed, and the record is at least two seconds older than the file's last
change; any later write changes the file's ctime, which no tool can set back, so the digest cannot be stale.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from . import __version__
from .atomic import write_atomically

try:  # the C implementation alone: importing hashlib loads OpenSSL, ~2.5 ms of every cold start
    from _sha256 import sha256
except ImportError:  # pragma: no cover - other Pythons
    from hashlib import sha256

CACHE_FORMAT = "closure-v2"
MEMO_MIN_BYTES = 1 << 20
SETTLED_NS = 2_000_000_000


def cache_dir() -> Path:
    explicit = os.environ.get("KGTOOL_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "kgtool"


def inputs_key(files: Iterable[Path], salt: str = "") -> str:
    """A hash of the files' names and contents (independent of where the project lives)."""
    digest = sha256(f"{CACHE_FORMAT}|{__version__}|{salt}".encode())
    memo = _Memo()
    for path in sorted(files, key=lambda p: (p.parent.name, p.name)):
        digest.update(f"\0{path.parent.name}/{path.name}\0".encode())
        digest.update(memo.file_digest(path).encode())
    memo.save()
    return digest.hexdigest()


def code_digest(*modules: str) -> str:
    """A hash of kgtool's own source files, so a cache entry built by other code is never reused."""
    digest = sha256()
    here = Path(__file__).resolve().parent
    for name in modules:
        digest.update((here / f"{name}.py").read_bytes())
    return digest.hexdigest()[:16]


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
        return path.read_bytes()
    except OSError:
        return None


def write_cached(key: str, payload: bytes, suffix: str = ".nt") -> Path | None:
    """Store payload atomically; a read-only or missing cache location is not an error (just slower)."""
    try:
        return write_cached_file(cache_dir() / f"{key}{suffix}", payload)
    except OSError:
        return None


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


def prune(prefix: str, keep: int = 3, older_than: float = 24 * 3600) -> None:
    """Remove old entries named prefix*: all but the ``keep`` newest, and only those unused for a day."""
    import shutil

    try:
        entries = sorted((p for p in cache_dir().glob(f"{prefix}*") if p.is_dir()),
                         key=lambda p: p.stat().st_mtime, reverse=True)
    except OSError:
        return
    now = time.time()
    for entry in entries[keep:]:
        with contextlib.suppress(OSError):
            if now - entry.stat().st_mtime > older_than:
                shutil.rmtree(entry, ignore_errors=True)
