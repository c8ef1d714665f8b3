"""Answers the server already computed, kept in memory for the next identical request.

``kgtool serve`` holds one snapshot of the graph per cache: when the project changes it serves the new
snapshot with a new cache (:meth:`kgtool.webapp.App.refresh`), and the store itself is part of every key.
So an answer depends only on what was asked (the function, the query text, the bound parameters, the row
cap) and can never go stale.
At 1M triples a list query takes seconds; a web page visited again, or the same query sent by a second
client, is then answered without a worker. Only successful answers are kept, within a memory budget,
least recently used first out; an answer's memory is estimated from its pickled size (what the worker
sent back): rows of terms take about four times as much once unpickled (measured: 8.6 MB for 2.2 MB).
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

#: Bytes of memory per byte of a pickled answer, about.
MEMORY_PER_PICKLED_BYTE = 4


class ResultCache:
    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.used = 0
        self.hits = self.misses = self.evictions = 0
        self._entries: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable | None) -> tuple[bool, Any]:
        """(True, answer) when the answer is kept, else (False, None)."""
        if key is None or not self.max_bytes:
            return False, None
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                self.misses += 1
                return False, None
            self._entries.move_to_end(key)
            self.hits += 1
            return True, entry[0]

    def put(self, key: Hashable | None, value: Any, pickled_size: int, memory: int | None = None) -> None:
        """Keep ``value``, evicting the least recently used; over a quarter of the budget or unsized (0): not kept.
        Its memory is estimated from its pickled size, unless known (``memory``: a written body's length)."""
        size = pickled_size * MEMORY_PER_PICKLED_BYTE if memory is None else memory
        if key is None or size <= 0 or size > self.max_bytes // 4:
            return
        with self._lock:
            if key in self._entries:
                return
            self._entries[key] = (value, size)
            self.used += size
            while self.used > self.max_bytes:
                _, (_, dropped) = self._entries.popitem(last=False)
                self.used -= dropped
                self.evictions += 1

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: Hashable | None) -> bool:
        with self._lock:
            return key in self._entries


#: SPARQL functions whose value changes from one evaluation to the next: such queries are run every time.
VOLATILE = re.compile(r"\b(?:RAND|NOW|UUID|STRUUID|BNODE)\s*\(", re.IGNORECASE)


def request_key(fn: Any, args: tuple, max_rows: int | None) -> Hashable | None:
    """What identifies a computation: the function and its arguments (dicts as sorted items). None (the
    answer is not kept) when an argument cannot be hashed or a query text calls a volatile function."""
    if any(isinstance(a, str) and VOLATILE.search(a) for a in args):
        return None
    try:
        parts = tuple(tuple(sorted(a.items())) if isinstance(a, dict) else a for a in args)
        key = (fn, parts, max_rows)
        hash(key)
    except TypeError:
        return None
    return key
