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
    import tempfile  # not at the top: the query path imports this module and never writes

    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp makes the file private (0600); give it the mode of the file it replaces, or rw-r--r--.
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
