"""Refusing query features that reach outside the bundled graph, before any evaluation.

rdflib follows ``SERVICE`` to the network and ``FROM <file:...>`` to the local disk, and update
operations would change data. These are refused by keyword, after comments, strings and IRIs are blanked
so that ``?from``, ``ex:load`` or a literal "SERVICE" do not trigger it.
"""

from __future__ import annotations

import re

from .errors import UsageError
from .queries import strip_comments

_FORBIDDEN = {
    "SERVICE": "federated SERVICE calls reach the network",
    "FROM": "FROM / FROM NAMED would load other graphs from the web or the disk",
    "LOAD": "LOAD would fetch data from the web or the disk",
    "INSERT": "updates are not allowed: the graph is read-only here (use `kgtool add`)",
    "DELETE": "updates are not allowed: the graph is read-only here (use `kgtool add`)",
    "CLEAR": "updates are not allowed", "DROP": "updates are not allowed",
    "CREATE": "updates are not allowed", "COPY": "updates are not allowed",
    "MOVE": "updates are not allowed", "ADD": "updates are not allowed", "WITH": "updates are not allowed",
}
_KEYWORDS = re.compile(r"(?i)(?<![\w:?$\-])(" + "|".join(_FORBIDDEN) + r")(?![\w:\-])")


def check_query_safety(text: str, origin: str = "query") -> None:
    """Refuse a forbidden keyword in the query as written and as rdflib reads it: SPARQL lets ``\\uXXXX``
    escapes stand for any character anywhere in a query (``\\u0053ERVICE``), and rdflib decodes them all
    before parsing. The rdflib engine also refuses SERVICE when evaluating (:mod:`kgtool.store`)."""
    for view in (text, decode_escapes(text)):
        match = _KEYWORDS.search(strip_comments(view))
        if match:
            keyword = match.group(1).upper()
            raise UsageError(f"{origin}: {keyword} refused: {_FORBIDDEN[keyword]}")


_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


def decode_escapes(text: str) -> str:
    """The query with its codepoint escapes replaced by the characters they stand for."""

    def char(match: re.Match) -> str:
        code = int(match.group(1) or match.group(2), 16)
        return chr(code) if code < 0x110000 and not 0xD800 <= code < 0xE000 else " "

    return _ESCAPE.sub(char, text)
