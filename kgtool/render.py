"""Rendering query results as a table, CSV, TSV, JSON or XML (SPARQL 1.1 results) or Markdown; graphs as
Turtle, N-Triples, JSON-LD or RDF/XML.

Works on engine-neutral :mod:`kgtool.terms` values only, so it serves every engine alike.
"""

from __future__ import annotations

import os
import re
import sys

from .errors import UsageError
from .namespaces import shorten
from .terms import XSD, AskResult, GraphResult, QueryResult, SelectResult, Term

SELECT_FORMATS = ("table", "csv", "tsv", "json", "xml", "md")
#: ``xml`` is RDF/XML for a graph (as Jena's ``arq --results=XML``), SPARQL XML results for a table.
GRAPH_FORMATS = ("ttl", "nt", "jsonld", "xml")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def display(term: Term | None) -> str:
    """How a human reads a term: prefixed IRIs, the literal's text."""
    if term is None:
        return ""
    if term.kind == "iri":
        return shorten(term.value)
    if term.kind == "bnode":
        return f"_:{term.value}"
    return term.value


def render(result: QueryResult, fmt: str | None = None, width: int | None = None) -> str:
    """The result in ``fmt``; None is the form's own default (a table, Turtle for a graph, yes/no). A
    format the result cannot take is refused, never swapped for another one."""
    if isinstance(result, GraphResult):
        if fmt not in (None, *GRAPH_FORMATS):
            raise UsageError(f"a CONSTRUCT or DESCRIBE result is a graph, not a {fmt} table",
                             hint=f"use -f {', '.join(GRAPH_FORMATS)}")
        return render_graph(result, fmt or "ttl")
    if isinstance(result, AskResult):
        if fmt == "json":
            import json

            return json.dumps({"head": {}, "boolean": result.value}) + "\n"
        if fmt in ("csv", "tsv"):  # as SPARQL endpoints write a boolean in CSV/TSV
            return ask_table(result)
        if fmt == "xml":
            return results_xml(result)
        if fmt not in (None, "table", "md"):
            raise UsageError(f"an ASK result is true or false, not a {fmt} graph",
                             hint="use -f table, json, xml or csv")
        return ("yes" if result.value else "no") + "\n"
    if fmt is None:
        fmt = "table"
    if fmt not in SELECT_FORMATS:
        raise UsageError(f"a SELECT result is a table, not a {fmt} graph",
                         hint=f"choose one of: {', '.join(SELECT_FORMATS)}")
    return _SELECT_RENDERERS[fmt](result, width)


def ask_table(result: AskResult) -> str:
    return f"_askResult\r\n{'true' if result.value else 'false'}\r\n"


def _table(result: SelectResult, width: int | None) -> str:
    cells = [[display(t) for t in row] for row in result.rows]
    headers = list(result.variables)
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    limit = width or terminal_columns()
    widths = _fit(widths, limit)

    def line(values: list[str]) -> str:
        return " | ".join(_clip(v, w).ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()

    out = [line(headers), "-+-".join("-" * w for w in widths)]
    out += [line(r) for r in cells]
    out.append(f"({len(cells)} row{'s' if len(cells) != 1 else ''})")
    return "\n".join(out) + "\n"


def terminal_columns(fallback: int = 200) -> int:
    """``shutil.get_terminal_size`` without importing shutil (and bz2, lzma with it) on every query."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns if columns > 0 else fallback


def _fit(widths: list[int], limit: int) -> list[int]:
    """Shrink the widest columns until the table fits the terminal (never below 12 characters)."""
    widths = list(widths)
    while sum(widths) + 3 * (len(widths) - 1) > limit and max(widths) > 12:
        widest = widths.index(max(widths))
        widths[widest] -= 1
    return widths


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def _csv(result: SelectResult, _width: int | None) -> str:
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(result.variables)
    writer.writerows([_csv_cell(t) for t in row] for row in result.rows)
    return buffer.getvalue()


def _csv_cell(term: Term | None) -> str:
    """A cell as SPARQL 1.1 CSV writes it (a blank node as ``_:label``), made safe for spreadsheets."""
    if term is None:
        return ""
    return "_:" + term.value if term.kind == "bnode" else _spreadsheet_safe(term.value)


def _spreadsheet_safe(text: str) -> str:
    """Neutralise formula injection: a cell a spreadsheet would evaluate gets a leading quote. A plain
    number ("-5", "+1.5e3") is left alone: a spreadsheet reads it as the number it is, nothing runs."""
    if text.startswith(_FORMULA_START) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def _tsv(result: SelectResult, _width: int | None) -> str:
    lines = ["\t".join("?" + v for v in result.variables)]
    lines += ["\t".join(["" if t is None else t.n3() for t in row]) for row in result.rows]
    return "\n".join(lines) + "\n"


def _json(result: SelectResult, _width: int | None) -> str:
    def encode(term: Term) -> dict[str, str]:
        if term.kind == "iri":
            return {"type": "uri", "value": term.value}
        if term.kind == "bnode":
            return {"type": "bnode", "value": term.value}
        out = {"type": "literal", "value": term.value}
        if term.lang:
            out["xml:lang"] = term.lang
        elif term.datatype and term.datatype != XSD + "string":
            out["datatype"] = term.datatype
        return out

    import json

    # One binding per line: readable and diffable, and written by json's C encoder (indent= would use the
    # pure-Python one: 5x slower, 0.1 s for 4,000 rows).
    lines = [json.dumps({v: encode(t) for v, t in zip(result.variables, row, strict=True) if t is not None},
                        ensure_ascii=False) for row in result.rows]
    bindings = "[\n    " + ",\n    ".join(lines) + "\n  ]" if lines else "[]"
    head = json.dumps({"vars": result.variables}, ensure_ascii=False)
    return f'{{\n  "head": {head},\n  "results": {{"bindings": {bindings}}}\n}}\n'


def _md(result: SelectResult, _width: int | None) -> str:
    def cell(term: Term | None) -> str:
        return display(term).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(result.variables) + " |", "|" + "---|" * len(result.variables)]
    lines += ["| " + " | ".join(cell(t) for t in row) + " |" for row in result.rows]
    return "\n".join(lines) + "\n"


_SELECT_RENDERERS = {"table": _table, "csv": _csv, "tsv": _tsv, "json": _json, "md": _md,
                     "xml": lambda result, _width: results_xml(result)}


def render_graph(result: GraphResult, fmt: str = "ttl") -> str:
    """N-Triples as the engine gave them; Turtle by kgtool's own writer, JSON-LD through rdflib, both from
    those lines with every literal as it is (rdflib's parser would normalise them, see
    :func:`kgtool.export.graph_of_lines`)."""
    if fmt == "nt":
        return "".join(line + "\n" for line in result.ntriples)
    lines = [line.encode("utf-8") for line in result.ntriples]
    if fmt == "ttl":
        from .fastexport import Lines, turtle

        return turtle(Lines.of(_oxigraph_lines(lines))).decode("utf-8")
    from .export import graph_of_lines, serialize

    return serialize(graph_of_lines(lines), fmt)


def _oxigraph_lines(lines: list[bytes]) -> list[bytes]:
    """The lines as pyoxigraph writes them (``s p o``), the form kgtool's Turtle writer reads: results of
    rdflib or of a remote endpoint may escape or space differently."""
    import pyoxigraph as ox

    return [str(t).encode("utf-8") for t in ox.parse(b"\n".join(lines), format=ox.RdfFormat.N_TRIPLES)]


def results_xml(result: SelectResult | AskResult) -> str:
    """SPARQL Query Results XML Format (https://www.w3.org/TR/rdf-sparql-XMLres/)."""
    from xml.sax.saxutils import quoteattr  # here: it imports urllib.request, which every start would pay

    out = ['<?xml version="1.0" encoding="utf-8"?>',
           '<sparql xmlns="http://www.w3.org/2005/sparql-results#">']
    if isinstance(result, AskResult):
        out += ["  <head/>", f"  <boolean>{'true' if result.value else 'false'}</boolean>", "</sparql>"]
        return "\n".join(out) + "\n"
    out.append("  <head>")
    out += [f"    <variable name={quoteattr(v)}/>" for v in result.variables]
    out += ["  </head>", "  <results>"]
    names = [quoteattr(v) for v in result.variables]
    for row in result.rows:
        out.append("    <result>")
        out += [f"      <binding name={name}>{_xml_term(term)}</binding>"
                for name, term in zip(names, row, strict=True) if term is not None]
        out.append("    </result>")
    out += ["  </results>", "</sparql>"]
    return "\n".join(out) + "\n"


def _xml_term(term: Term) -> str:
    from xml.sax.saxutils import escape, quoteattr

    value = escape(_xml_chars(term.value))
    if term.kind == "iri":
        return f"<uri>{value}</uri>"
    if term.kind == "bnode":
        return f"<bnode>{value}</bnode>"
    if term.lang:
        return f"<literal xml:lang={quoteattr(term.lang)}>{value}</literal>"
    if term.datatype and term.datatype != XSD + "string":
        return f"<literal datatype={quoteattr(term.datatype)}>{value}</literal>"
    return f"<literal>{value}</literal>"


def _xml_chars(text: str) -> str:
    """XML 1.0 cannot hold most control characters: they become U+FFFD."""
    return text.translate(_XML_CONTROL)


_XML_CONTROL = {code: "\ufffd" for code in range(0x20) if chr(code) not in "\t\n\r"}
