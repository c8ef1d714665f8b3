"""Binding query parameters as RDF terms: ``VALUES`` rows written into the query where its variable is.

A canned query's parameters are typed RDF terms (checked by :mod:`kgtool.queries`). For Oxigraph and for
remote endpoints they are written into the query text as one-row ``VALUES`` blocks, never as syntax of
their own: each term is serialised by :func:`sparql_term`, which refuses anything that could leave its
token, and braces, variables and keywords are found on a copy of the query in which comments, strings
and IRIs are blanked out (:func:`masked`).

**Where the rows go.** A parameter means one value wherever the query's variable of that name is in
scope, as rdflib's ``initBindings`` bind it. SPARQL evaluates groups bottom-up, so one ``VALUES`` row at
the start of the ``WHERE`` clause is not enough: a ``FILTER`` in a nested group, or a sub-select,
would see the variable unbound and keep every row (the canned queries put a parameter's ``FILTER`` in a
group of its own, so that Oxigraph applies it before the group's ``OPTIONAL``\\ s). So a row goes at the
start of the ``WHERE`` clause and of every group whose own text names the parameter, down into the
sub-selects that project it; a sub-select that does not project it has a variable of its own by that
name, as SPARQL scopes it, and is left alone. (rdflib's ``initBindings`` binds that one too; it is the
only difference, and no canned query has it.) The row also tells Oxigraph's planner the value where
the patterns are: measured at 1M triples, as fast as pyoxigraph's ``substitutions`` or faster, which
besides leave the variable unbound in a ``BIND`` that reads it before a pattern binds it.
"""

from __future__ import annotations

import re

from .errors import QueryError, UsageError
from .terms import Term

#: Comments, strings and IRIs (what a keyword or a brace inside them must not count as; an IRI only where
#: the grammar's IRIREF could be one, so that ``FILTER(1<2)SERVICE…FILTER(3>2)`` hides nothing), and, outside them,
#: a backslash escape: ``kzcn:a\'`` and ``kzcn:a\#`` are prefixed names (PN_LOCAL_ESC), so that quote
#: opens no string and that ``#`` starts no comment.
MASK = re.compile(r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\''
                   r"|<[^<>\"{}|^`\\\x00-\x20]*>|#[^\n]*|\\[\s\S]")
_FORM = re.compile(r"(?i)(?<![\w:?$])(SELECT|ASK|CONSTRUCT|DESCRIBE)(?![\w:])")
_WHERE = re.compile(r"(?i)(?<![\w:?$])WHERE(?![\w:])")
_SUBSELECT = re.compile(r"(?i)\s*SELECT(?![\w:])")
_DATA_BLOCK = re.compile(r"(?i)(?<![\w:?$])VALUES\s*(?:[?$][A-Za-z_][A-Za-z0-9_]*|\([^()]*\))\s*$")
IRI_UNSAFE = re.compile(r'[\x00-\x20<>"{}|^`\\]')
_LANG = re.compile(r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$")


def masked(text: str) -> str:
    """The query with comments, strings and IRIs blanked out (same length, so offsets carry over)."""
    return MASK.sub(lambda m: " " * len(m.group(0)), text)


def closing_brace(masked_text: str, opening: int) -> int:
    """Offset of the brace that closes the one at ``opening``; -1 if none."""
    depth = 0
    for i in range(opening, len(masked_text)):
        if masked_text[i] == "{":
            depth += 1
        elif masked_text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
    return -1


def where_brace(text: str) -> int:
    """Offset of the opening brace of the WHERE clause (comments, strings and IRIs ignored)."""
    blank = masked(text)
    form = _FORM.search(blank)
    if not form:
        raise QueryError("cannot find SELECT, ASK, CONSTRUCT or DESCRIBE in the query")
    start = form.end()
    where = _WHERE.search(blank, start)
    if where:
        start = where.end()
    elif form.group(1).upper() in ("CONSTRUCT", "DESCRIBE"):
        raise QueryError(f"a {form.group(1).upper()} query without WHERE cannot take parameters")
    brace = blank.find("{", start)
    if brace < 0:
        raise QueryError("cannot find the WHERE clause of the query")
    return brace


def sparql_term(term: Term) -> str:
    """A term as SPARQL syntax, refusing anything that could escape its own token."""
    if term.kind == "iri":
        if IRI_UNSAFE.search(term.value):
            raise UsageError(f"IRI {term.value!r} contains characters not allowed in an IRI")
        return f"<{term.value}>"
    if term.kind != "literal":
        raise UsageError("blank nodes cannot be parameters")
    if term.lang and not _LANG.match(term.lang):
        raise UsageError(f"{term.lang!r} is not a language tag")
    if term.datatype and IRI_UNSAFE.search(term.datatype):
        raise UsageError(f"datatype {term.datatype!r} is not an IRI")
    return term.n3()


def projected(head: str) -> set[str] | None:
    """The variables a SELECT head lists as themselves (not ``(expr AS ?x)``); None for ``SELECT *``."""
    modifier = re.match(r"\s*(DISTINCT|REDUCED)?", head, re.I)
    if re.match(r"\s*\*", head[modifier.end():]):
        return None
    plain = head
    while (inner := re.sub(r"\([^()]*\)", " ", plain)) != plain:
        plain = inner
    return set(re.findall(r"[?$]([A-Za-z_][A-Za-z0-9_]*)", plain))


def bind_parameters(text: str, bindings: dict[str, Term]) -> str:
    """The query with a one-row ``VALUES`` block for the parameters at the start of its WHERE clause and
    of every group in their scope that names them (see the module docstring)."""
    if not bindings:
        return text
    outer = where_brace(text)
    blank = masked(text)
    if closing_brace(blank, outer) < 0:
        raise QueryError("the WHERE clause of the query is not closed")
    names_in = {name: re.compile(r"[?$]" + re.escape(name) + r"(?![A-Za-z0-9_])") for name in bindings}
    rows: dict[int, list[str]] = {}

    def visit(opening: int, scope: list[str]) -> None:
        closing = closing_brace(blank, opening)
        sub = _SUBSELECT.match(blank, opening + 1)
        if sub:  # a sub-select (alone in its group): its parameters are those it projects
            inner = blank.find("{", sub.end(), closing)
            if inner < 0:
                return  # no WHERE clause: not a query; the engine says so
            listed = projected(blank[sub.end():inner])
            visit(inner, [name for name in scope if listed is None or name in listed])
            return
        own, at = [], opening + 1
        while (brace := blank.find("{", at, closing)) >= 0:
            own.append(blank[at:brace])
            if not _DATA_BLOCK.search(blank, 0, brace):
                visit(brace, scope)
            at = closing_brace(blank, brace) + 1
        own.append(blank[at:closing])
        named = [name for name in scope if names_in[name].search("".join(own))]
        if named:
            rows[opening] = named

    visit(outer, list(bindings))
    if not _SUBSELECT.match(blank, outer + 1):
        rows[outer] = list(bindings)  # from the start, like initBindings (a BIND may read it first)
    for brace in sorted(rows, reverse=True):
        names = " ".join(f"?{name}" for name in rows[brace])
        row = " ".join(sparql_term(bindings[name]) for name in rows[brace])
        text = f"{text[:brace + 1]} VALUES ({names}) {{ ({row}) }} {text[brace + 1:]}"
    return text
