"""Validation findings and reports, and their text, JSON and Turtle (sh:ValidationReport) forms."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import asdict, dataclass, field

from .namespaces import shorten

SEVERITIES = ("Violation", "Warning", "Info")


@dataclass(frozen=True)
class Finding:
    """One problem, said in the contributor's terms."""

    severity: str  # Violation | Warning | Info
    message: str
    focus: str = ""  # IRI (or blank-node label) of the entity concerned
    focus_label: str = ""
    path: str = ""  # property IRI
    value: str = ""  # offending value, in N-Triples form
    source_shape: str = ""
    stage: str = "shacl"  # syntax | hygiene | policy | vocabulary | shacl | reference | duplicate
    file: str = ""
    line: int | None = None
    column: int | None = None
    detail: str = ""  # what the data says besides the shape's message (the value already there), for people

    def location(self) -> str:
        if not self.file:
            return ""
        parts = [self.file]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)


@dataclass
class Report:
    subject: str  # what was validated, e.g. "data/ and ontology/" or a file name
    findings: list[Finding] = field(default_factory=list)
    checked_triples: int = 0

    @property
    def violations(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "Violation"]

    @property
    def conforms(self) -> bool:
        return not self.violations

    def counts(self) -> dict[str, int]:
        return {s: sum(1 for f in self.findings if f.severity == s) for s in SEVERITIES}


def render_text(report: Report) -> str:
    counts = report.counts()
    verdict = "conforms" if report.conforms else "does not conform"
    head = (f"{report.subject}: {verdict} ({_count(counts['Violation'], 'violation')}, "
            f"{_count(counts['Warning'], 'warning')}, {_count(counts['Info'], 'note')}; "
            f"{_count(report.checked_triples, 'triple')} checked)")
    groups: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    for finding in report.findings:
        groups[(finding.focus, finding.focus_label)].append(finding)
    lines = [head]
    order = {s: i for i, s in enumerate(SEVERITIES)}
    for (focus, label), findings in sorted(groups.items(), key=lambda kv: (kv[0][1] or kv[0][0])):
        name = f"{label} ({shorten(focus)})" if label and focus else (label or (shorten(focus) if focus else "(file)"))
        lines.append("")
        lines.append(name)
        for f in sorted(findings, key=lambda f: (order.get(f.severity, 9), f.line or 0, f.message)):
            where = f"{f.location()}: " if f.location() else ""
            what = f" [{shorten(f.path)}]" if f.path else ""
            value = f" value {_display_value(f.value)}" if f.value else ""
            detail = f" {f.detail}" if f.detail else ""
            lines.append(f"  {f.severity.lower()}: {where}{f.message}{detail}{what}{value}")
    return "\n".join(lines) + "\n"


def _display_value(value: str) -> str:
    """A value in N-Triples form, its IRI (or a literal's datatype) shortened by the project prefixes."""
    if value.startswith("<") and value.endswith(">"):
        return shorten(value[1:-1])
    text, marker, datatype = value.rpartition("^^<")
    if marker and datatype.endswith(">"):
        return f"{text}^^{shorten(datatype[:-1])}"
    return value


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def render_json(report: Report) -> str:
    doc = {
        "subject": report.subject,
        "conforms": report.conforms,
        "counts": report.counts(),
        "checked_triples": report.checked_triples,
        "findings": [_json_finding(f) for f in report.findings],
    }
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def _json_finding(finding: Finding) -> dict:
    """A finding's fields; a shape that is a blank node is left unnamed (as in Turtle): its label is new at
    every parse, and the same data must give the same report."""
    fields = asdict(finding)
    if fields["source_shape"].startswith("_:"):
        fields["source_shape"] = ""
    return fields


def render_turtle(report: Report) -> str:
    """The report as a SHACL sh:ValidationReport, so SHACL tools can read it."""
    from rdflib import BNode, Literal, URIRef
    from rdflib.namespace import RDF, RDFS, SH

    from .export import canonical
    from .loading import new_graph

    graph = new_graph()
    root = BNode()
    graph.add((root, RDF.type, SH.ValidationReport))
    graph.add((root, SH.conforms, Literal(report.conforms)))
    for f in report.findings:
        node = BNode()
        graph.add((root, SH.result, node))
        graph.add((node, RDF.type, SH.ValidationResult))
        graph.add((node, SH.resultSeverity, SH[f.severity]))
        graph.add((node, SH.resultMessage, Literal(f.message)))
        if f.focus and not f.focus.startswith("_:"):
            graph.add((node, SH.focusNode, URIRef(f.focus)))
        if f.path:
            graph.add((node, SH.resultPath, URIRef(f.path)))
        if f.value:
            graph.add((node, SH.value, Literal(f.value)))
        if f.source_shape and not f.source_shape.startswith("_:"):
            graph.add((node, SH.sourceShape, URIRef(f.source_shape)))
        if f.detail:
            graph.add((node, RDFS.comment, Literal(f.detail)))
        if f.location():  # where in the contribution, for people (SHACL has no term for it)
            graph.add((node, RDFS.comment, Literal(f"{f.stage} stage, at {f.location()}")))
    return canonical(graph).serialize(format="turtle")


RENDERERS = {"text": render_text, "json": render_json, "ttl": render_turtle}
