"""What ``kgtool add`` says it added: plain text after a merge, Markdown for ``--dry-run``.

Both list, per file, the entities that gain triples (by label, with their prefixed IRI; new ones marked)
and the added triples themselves as Turtle, then any warnings of the check.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rdflib import Graph, URIRef

from .namespaces import shorten
from .project import Project
from .report import Finding
from .turtle_writer import TermWriter, serialize_statements
from .validate import label_of

if TYPE_CHECKING:
    from .contribution import Examination
    from .merge import FileChange, MergePlan


def _plural(count: int, word: str) -> str:
    if count == 1:
        return f"1 {word}"
    return f"{count} {word[:-1]}ies" if word.endswith("y") else f"{count} {word}s"


def _name(exam: Examination, subject: URIRef) -> str:
    graphs: list[Graph] = [
        g
        for g in (exam.contribution and exam.contribution.graph, exam.existing and exam.existing.asserted)
        if g is not None
    ]
    label = next((found for g in graphs if (found := label_of(g, subject))), "")
    return f"{label} ({shorten(str(subject))})" if label else shorten(str(subject))


def _relative(project: Project, change: FileChange) -> str:
    try:
        return str(change.path.relative_to(project.root))
    except ValueError:
        return str(change.path)


def _rows(change: FileChange, exam: Examination) -> list[tuple[str, str, int]]:
    rows = []
    for subject in sorted(set(change.added.subjects()), key=str):
        status = "new" if subject in change.new_subjects else "more about"
        rows.append((_name(exam, subject), status, len(list(change.added.triples((subject, None, None))))))
    return rows


def _turtle(graph: Graph) -> str:
    return serialize_statements(graph, TermWriter())


def _headline(plan: MergePlan, exam: Examination, verb: str) -> str:
    subjects = len(set(plan.added.subjects()))
    present = (
        f" ({plan.already_present} of its triples were already in data/)" if plan.already_present else ""
    )
    return (
        f"{verb} {_plural(len(plan.added), 'triple')} about {_plural(subjects, 'entity')} to "
        f"{_plural(len(plan.changes), 'file')}{present}"
    )


def _warnings(exam: Examination) -> list[Finding]:
    return [f for f in exam.report.findings if f.severity != "Violation"]


def render_summary(project: Project, plan: MergePlan, exam: Examination) -> str:
    """Plain text, printed after a merge."""
    source = exam.report.subject
    if not plan.changes:
        return (
            f"kgtool add: nothing to add: all {_plural(plan.contributed, 'triple')} of {source} are already "
            "in data/\n"
        )
    lines = [f"kgtool add: merged {source}: " + _headline(plan, exam, "added")]
    for change in plan.changes:
        lines += ["", f"{_relative(project, change)} (+{len(change.added)})"]
        lines += [
            f"  + {name}: {status}, {_plural(count, 'triple')}" for name, status, count in _rows(change, exam)
        ]
        lines += [""] + [f"    {line}" if line else "" for line in _turtle(change.added).splitlines()]
    notes = _warnings(exam)
    if notes:
        lines += ["", f"{_plural(len(notes), 'warning')} from the check:"]
        lines += [f"  {f.severity.lower()}: {f.location()}: {f.message}" for f in notes]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(project: Project, plan: MergePlan, exam: Examination, finished: list[str] | None = None) -> str:
    """Markdown, for ``--dry-run``: nothing of the contribution is written (``finished``: the files of an
    interrupted merge that reading data/ completed first, as every command does)."""
    source = exam.report.subject
    written = (f"An interrupted earlier merge was completed first ({', '.join(finished)}); nothing else was "
               "written." if finished else "Nothing was written.")
    lines = [f"# Dry run: `kgtool add {source}`", "", written]
    if not plan.changes:
        lines += ["", f"Nothing to add: all {_plural(plan.contributed, 'triple')} are already in `data/`."]
        return "\n".join(lines) + "\n"
    lines += [
        "",
        _headline(plan, exam, "Merging would add") + ".",
        "",
        "| file | entity | status | triples |",
        "|---|---|---|---:|",
    ]
    for change in plan.changes:
        for name, status, count in _rows(change, exam):
            lines.append(f"| `{_relative(project, change)}` | {_cell(name)} | {status} | {count} |")
    for change in plan.changes:
        lines += [
            "",
            f"## `{_relative(project, change)}`",
            "",
            "```turtle",
            _turtle(change.added).rstrip("\n"),
            "```",
        ]
    notes = _warnings(exam)
    if notes:
        lines += ["", "## Warnings", ""]
        lines += [f"- **{f.severity.lower()}** `{f.location()}`: {_cell(f.message)}" for f in notes]
    return "\n".join(lines) + "\n"
