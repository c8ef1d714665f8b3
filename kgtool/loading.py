"""Parsing Turtle into rdflib graphs, with errors that name the file and line."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from rdflib import Graph

from .errors import InputError, InvalidTurtle
from .namespaces import PREFIXES


def new_graph() -> Graph:
    graph = Graph()
    for prefix, ns in PREFIXES.items():
        graph.bind(prefix, ns, override=True, replace=True)
    return graph


def parse_turtle(path: Path, into: Graph | None = None) -> Graph:
    """Parse one Turtle file; a syntax error becomes an InputError naming file and line."""
    graph = into if into is not None else new_graph()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start})", hint="save the file as UTF-8") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        graph.parse(data=text, format="turtle", publicID=path.resolve().as_uri())
    except Exception as exc:  # rdflib raises many types for bad syntax
        raise InvalidTurtle(path, _line_of(exc), None, _reason(exc)) from None
    return graph


def parse_files(paths: Iterable[Path], into: Graph | None = None) -> Graph:
    graph = into if into is not None else new_graph()
    for path in paths:
        parse_turtle(path, graph)
    return graph


def _line_of(exc: Exception) -> int | None:
    match = re.search(r"line (\d+)", str(exc))
    return int(match.group(1)) if match else None


def _reason(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    match = re.search(r"(?:line \d+:?\s*)(.*)", text)
    reason = match.group(1) if match else text
    return reason[:300] or type(exc).__name__
