"""Query answers kept on disk, so that asking ``kgtool query`` or ``kgtool sparql`` the same again is quick.

At 1M triples a list query takes seconds in Oxigraph, every time: researchers run the same canned query
again and again (with another ``--format``, in a script, after a look at the table). An answer depends
only on the snapshot it was computed on (content-addressed: :mod:`kgtool.snapshot`, whose key hashes every
input file, the code that builds it and the pyoxigraph version), on inference being on or off, on the
query text and its bound parameters, and on the code that binds and reads them (its files stamped into the
key too: :func:`kgtool.closure.code_stamp`).
So a kept answer is never stale: an edit of ``data/``, ``ontology/`` or the query makes a new key.

What is kept is the result (terms), not the output, so another ``--format`` or terminal width is answered
from it as well. Only whole answers of the Oxigraph engine are kept (a query stopped by its time or memory
limit never reaches :func:`keep`); never those of a query calling a function whose value changes between
evaluations (``RAND``, ``NOW``, ``UUID``, ``STRUUID``, ``BNODE``); never one over :data:`MAX_ENTRY_BYTES`.
The folder stays within :data:`BUDGET_BYTES`, the least recently used answers out first. ``--no-cache``
evaluates the query (and keeps nothing); ``kgtool cache clear`` removes every answer.

``kgtool serve`` keeps its answers in memory first (:mod:`kgtool.resultcache`) and reads and keeps these
too (:meth:`kgtool.webapp.App.run`), so the server and the command line share them.
"""

from __future__ import annotations

import contextlib
import json
import os

from .closure import cache_dir, code_stamp, sha256, write_cached_file
from .errors import InputError
from .terms import AskResult, GraphResult, QueryResult, SelectResult, Term, collector_paused

#: The folder in the cache (a kind of its own in ``kgtool cache info``).
FOLDER = "answers"
#: Bytes of answers kept in all, and the largest answer kept (as written: JSON, UTF-8).
BUDGET_BYTES = 256 << 20
MAX_ENTRY_BYTES = 32 << 20
ANSWER_FORMAT = "answer-v1"
#: The modules an answer's content depends on besides the snapshot: how parameters are bound and prefixes
#: declared, how Oxigraph's results become terms (and graph results get their exact literals back), and
#: this file's own format.
_CODE = ("answers", "binding", "namespaces", "run", "store", "terms", "fastvalidate", "shapes_fast")


def answer_key(snapshot_key: str, inference: bool, text: str, bindings: dict[str, Term]) -> str | None:
    """The answer's name in the cache; None when it must be evaluated every time (a volatile function)."""
    from .resultcache import VOLATILE

    if VOLATILE.search(text):
        return None
    bound = json.dumps(sorted([name, list(term)] for name, term in bindings.items()), ensure_ascii=False)
    parts = (ANSWER_FORMAT, code_stamp(*_CODE), snapshot_key, "inferred" if inference else "asserted", bound, text)
    return sha256("\0".join(parts).encode("utf-8")).hexdigest()[:40]


def _path(key: str):
    return cache_dir() / FOLDER / f"{key}.json"


def is_kept(key: str) -> bool:
    return _path(key).is_file()


def load(key: str) -> QueryResult | None:
    """The kept answer, or None (none kept, or unreadable: it is then computed and written again)."""
    path = _path(key)
    try:
        with collector_paused():
            kept = json.loads(path.read_bytes())
            if kept.get("format") != ANSWER_FORMAT:
                return None
            if "ask" in kept:
                result: QueryResult = AskResult(bool(kept["ask"]))
            elif "graph" in kept:
                result = GraphResult([str(line) for line in kept["graph"]])
            else:
                result = SelectResult([str(name) for name in kept["variables"]], _rows(kept))
    except (OSError, ValueError, TypeError, KeyError, IndexError, AttributeError):
        return None
    with contextlib.suppress(OSError):
        os.utime(path)  # just used: the last to go when the folder is over its budget
    return result


def _rows(kept: dict) -> list[tuple]:
    """Rows from the kept table: each distinct term is made once (its value, and the index of its kind,
    datatype and language among the few such shapes); a cell is a term's index, -1 when unbound."""
    shapes = [tuple(shape) for shape in kept["shapes"]]
    if not all(len(shape) == 3 and shape[0] in _KINDS and all(isinstance(x, str | None) for x in shape[1:])
               for shape in shapes):
        raise ValueError("not a term's kind, datatype and language")
    flat = kept["terms"]
    values = flat[0::2]
    if not all(isinstance(value, str) for value in values):
        raise ValueError("not a term's value")
    table = [Term(kind, value, datatype, lang)
             for value, (kind, datatype, lang) in zip(values, map(shapes.__getitem__, flat[1::2]), strict=True)]
    table.append(None)
    return [tuple([table[i] for i in row]) for row in kept["rows"]]


_KINDS = ("iri", "literal", "bnode")


def keep(key: str, result: QueryResult) -> None:
    """Write the answer (atomically), then trim the folder to its budget. Failures are ignored: the answer
    is then computed again next time."""
    if isinstance(result, AskResult):
        kept: dict = {"ask": result.value}
    elif isinstance(result, GraphResult):
        kept = {"graph": result.ntriples}
    else:
        index: dict = {None: -1}
        rows = [[index.setdefault(cell, len(index) - 1) for cell in row] for row in result.rows]
        shapes: dict = {}
        terms: list = []
        for term in index:
            if term is not None:
                terms += (term.value, shapes.setdefault((term.kind, term.datatype, term.lang), len(shapes)))
        kept = {"variables": result.variables, "shapes": list(shapes), "terms": terms, "rows": rows}
    payload = json.dumps({"format": ANSWER_FORMAT, **kept}, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if len(payload) > MAX_ENTRY_BYTES:
        return
    with contextlib.suppress(OSError, InputError):  # a read-only cache: answered again next time
        write_cached_file(_path(key), payload)
        trim(BUDGET_BYTES)


def trim(budget: int) -> None:
    """Remove the least recently used answers until the folder holds at most ``budget`` bytes."""
    import time

    folder = cache_dir() / FOLDER
    found = []
    writing = time.time() - 3600  # a newer temporary file (".…tmp") is another process's answer being written
    with os.scandir(folder) as listing:
        for entry in listing:
            with contextlib.suppress(OSError):  # removed meanwhile by another process
                stat = entry.stat()
                if not (entry.name.startswith(".") and stat.st_mtime > writing):
                    found.append((stat.st_mtime, stat.st_size, entry.path))
    total = sum(size for _used, size, _path in found)
    for _used, size, path in sorted(found):
        if total <= budget:
            break
        with contextlib.suppress(OSError):
            os.remove(path)
            total -= size
