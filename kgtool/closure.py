"""The OWL RL closure of ontology + data, computed once per change of the inputs and cached.

The cache is content-addressed: its key hashes the bytes of every input file, the kgtool version and the
reasoner, so an edit to ``ontology/`` or ``data/`` makes a new key and a stale closure is never read. It
lives outside the repository (``$KGTOOL_CACHE_DIR``, else ``$XDG_CACHE_HOME/kgtool``, else
``~/.cache/kgtool``). Writes go to a temporary file that is renamed into place, so two processes that
start at once both produce the same complete file and neither reads a half-written one.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from . import __version__

CACHE_FORMAT = "closure-v1"


def cache_dir() -> Path:
    explicit = os.environ.get("KGTOOL_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "kgtool"


def inputs_key(files: Iterable[Path], salt: str = "") -> str:
    """A hash of the files' names and contents (order-independent of where the project lives)."""
    digest = hashlib.sha256(f"{CACHE_FORMAT}|{__version__}|{salt}".encode())
    for path in sorted(files, key=lambda p: (p.parent.name, p.name)):
        digest.update(f"\0{path.parent.name}/{path.name}\0".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def read_cached(key: str, suffix: str = ".nt") -> bytes | None:
    path = cache_dir() / f"{key}{suffix}"
    try:
        return path.read_bytes()
    except OSError:
        return None


def write_cached(key: str, payload: bytes, suffix: str = ".nt") -> Path | None:
    """Store payload atomically; a read-only or missing cache location is not an error (just slower)."""
    directory = cache_dir()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{key[:16]}-", suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        target = directory / f"{key}{suffix}"
        os.replace(tmp, target)
        return target
    except OSError:
        return None
