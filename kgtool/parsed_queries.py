"""Each SPARQL text parsed once while pySHACL validates, instead of once per focus node.

pySHACL evaluates a SPARQL-based constraint once per focus node: the same text each time, the focus node
given as a binding. rdflib parses and translates a query text at every call (it has no cache), so on the
bundled data a full validation spent 64 of its 76 s parsing one text 1,101 times (cProfile, 2026-12-06).
Within :func:`parsed_once`, rdflib's SPARQL processor keeps each text's translated query, by text, base and
namespaces, and evaluates it with the call's bindings: what rdflib's own ``prepareQuery`` is for. The rows
are the same; tests/test_core.py checks that a validation gives the same findings with and without.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

_lock = threading.Lock()
_users = 0
_original = None


@contextmanager
def parsed_once() -> Iterator[None]:
    """rdflib parses each query text once until the last of the nested or concurrent ``with`` ends."""
    global _users, _original
    from rdflib.plugins.sparql import processor

    with _lock:
        if _users == 0:
            _original = processor.SPARQLProcessor.query
            processor.SPARQLProcessor.query = _query
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0:
                processor.SPARQLProcessor.query = _original
                _prepared.cache_clear()


def _query(self, strOrQuery, initBindings=None, initNs=None, base=None, DEBUG=False):  # rdflib's names
    if isinstance(strOrQuery, str):
        strOrQuery = _prepared(strOrQuery, base, tuple(sorted((initNs or {}).items())))
    return _original(self, strOrQuery, initBindings, initNs, base, DEBUG)


@lru_cache(maxsize=256)
def _prepared(text: str, base: str | None, namespaces: tuple):
    from rdflib.plugins.sparql.algebra import translateQuery
    from rdflib.plugins.sparql.parser import parseQuery

    return translateQuery(parseQuery(text), base, dict(namespaces))
