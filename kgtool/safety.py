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
#: A keyword not inside a name: not after a name character, ``:``, ``?``/``$`` or ``-``, and not before a
#: name character or ``-``. A ``:`` after it does not make it a name: ``SERVICE:x`` is read by the engines
#: as SERVICE followed by the prefixed name ``:x`` (so a prefix called ``service:`` is refused too).
_KEYWORDS = re.compile(r"(?i)(?<![\w:?$\-])(" + "|".join(_FORBIDDEN) + r")(?![\w\-])")


def check_query_safety(text: str, origin: str = "query") -> None:
    """Refuse a forbidden keyword in the query as written and as rdflib reads it: SPARQL lets ``\\uXXXX``
    escapes stand for any character anywhere in a query (``\\u0053ERVICE``), and rdflib decodes them all
    before parsing. The rdflib engine also refuses SERVICE when evaluating (:mod:`kgtool.store`)."""
    for view in (text, decode_escapes(text)):
        stripped = strip_comments(view)
        match = _KEYWORDS.search(stripped)
        if match:
            keyword = match.group(1).upper()
            after = stripped[match.end():match.end() + 1]
            hint = f"a prefix named {match.group(1)}: reads as the keyword; rename it" if after == ":" else None
            raise UsageError(f"{origin}: {keyword} refused: {_FORBIDDEN[keyword]}", hint=hint)


_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


def decode_escapes(text: str) -> str:
    """The query with its codepoint escapes replaced by the characters they stand for."""

    def char(match: re.Match) -> str:
        code = int(match.group(1) or match.group(2), 16)
        return chr(code) if code < 0x110000 and not 0xD800 <= code < 0xE000 else " "

    return _ESCAPE.sub(char, text)
