"""Writing a file so that readers see the old content or the new, never half of it.

Kept free of rdflib so that the fast query path (the closure cache) can use it too.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import InputError

if TYPE_CHECKING:
    from collections.abc import Iterable


def write_output(path: Path, text: str | bytes | Iterable[bytes]) -> None:
    """:func:`write_atomically` for an output file the user named (``-o``): a folder that does not exist, a
    read-only place or a full disk is a one-line error, and nothing is left behind."""
    try:
        if path.is_dir():
            raise InputError(f"{path}: is a folder", hint="give a file name")
        write_atomically(path, text)
    except OSError as exc:
        raise InputError(f"{path}: cannot write ({exc.strerror or exc})") from None


def write_atomically(path: Path, text: str | bytes | Iterable[bytes]) -> None:
    """Write via a temporary file in the same folder and rename: readers see old or new, never half.

    ``text`` is written as UTF-8; ``bytes`` (a PNG picture), or pieces of bytes (a large export), as they
    are. A device or a pipe
    (``/dev/null``, ``/dev/stdout``, a FIFO) is written directly: a rename would replace the device node
    with a regular file (as root, even /dev/null). A symbolic link is followed: the file it points to is
    replaced, and the link stays.
    """
    pieces = [text.encode("utf-8")] if isinstance(text, str) else [text] if isinstance(text, bytes) else text
    if path.exists() and not path.is_file() and not path.is_dir():  # both follow links, /dev/stdout's too
        with open(path, "wb") as handle:
            for piece in pieces:
                handle.write(piece)
        return
    path = path.resolve() if path.is_symlink() else path
    directory = path.resolve().parent
    if not directory.is_dir():
        raise InputError(f"{path}: folder {directory} does not exist")
    fd, tmp = _new_temporary(directory, path.name)
    try:
        # made private (0600); give it the mode of the file it replaces, or rw-r--r--.
        os.fchmod(fd, path.stat().st_mode & 0o777 if path.exists() else 0o644)
        with os.fdopen(fd, "wb") as handle:
            for piece in pieces:
                handle.write(piece)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _new_temporary(directory: Path, name: str) -> tuple[int, str]:
    """A new private file ``.NAME.RANDOM.tmp`` in ``directory``, as ``tempfile.mkstemp`` makes one, without
    importing tempfile (and the shutil, bz2 and lzma it brings: ~4 ms of a `kgtool query -o FILE`)."""
    while True:
        tmp = str(directory / f".{name}.{os.urandom(6).hex()}.tmp")
        try:
            return os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600), tmp
        except FileExistsError:
            continue
