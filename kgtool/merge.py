"""``kgtool add``: merge a conforming contribution into ``data/``, under a lock, crash-safe, idempotent.

**Where triples go.** A subject already described in ``data/`` gets its new triples in the file that
describes it (the one with its ``rdf:type``); a new subject goes to the theme file of its class
(:data:`THEMES`, after data/MODELLING.md); anything else to ``data/contributions.ttl``.

**How files change.** The hand-written part of a theme file (its comments, sections and order) is never
touched. Below it, after the :data:`MARKER` line, is the *merged section*: every triple ``kgtool add`` ever
put in that file, written anew by :mod:`kgtool.turtle_writer` on each merge (sorted, so a diff shows just
the new lines). Only files that gain triples are written; triples already in ``data/`` are not added
again, so the same contribution twice adds nothing the second time.

**Concurrency and crashes** (:mod:`kgtool.commit`). The check runs first, without the lock. To write,
``add`` takes an exclusive lock on ``data/``; under it, it first completes or discards a merge a crash
interrupted, and if ``data/`` changed since the check (another merge landed), checks the contribution
again against the new data: two merges at once both land, or the second is refused with a report, and
nothing is lost either way. The changed files are then replaced through a journal: a kill at any moment
leaves the old data or (once the next ``add`` has rolled the journal forward) the new, never a mix.

**Re-check after merge.** Before the commit, each new file text is parsed back and must hold exactly its
old triples plus the added ones; after the commit, every changed file must hold the bytes written and,
parsed again, every added triple.

**At scale.** Nothing here loads ``data/`` whole: the check's snapshot (:class:`kgtool.context.Existing`)
says which of the contribution's subjects ``data/`` already describes; only then are the data files read,
by Oxigraph's parser, keeping just those subjects' triples (to find the triples already there and each
subject's file). Files are parsed by Oxigraph and compared as N-Triples terms; rdflib only writes the merged
section. After the commit, still under the lock, the snapshot of the merged data is made from the check's
(:mod:`kgtool.incremental`), so the next command does not spend 20 s rebuilding it at a million triples;
when that cannot be done exactly, the summary says why and the next command builds it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rdflib import RDF, RDFS, Graph, URIRef
from rdflib.namespace import SKOS
from rdflib.term import Node

from .closure import file_digests
from .commit import commit, merge_lock, needs_recovery, recover
from .context import Existing, Terms, nt, project_digest
from .contribution import Examination, examine
from .errors import KgtoolError, ProjectError
from .incremental import Extended, after_merge
from .loading import new_graph
from .merge_render import render_markdown, render_summary
from .namespaces import ONTOLOGY
from .project import JOURNAL_NAME, Project
from .report import Report
from .turtle_writer import TermWriter, serialize_statements

FALLBACK_FILE = "contributions.ttl"
MARKER = "# ------------------------------------------------------------------ merged by kgtool add"
MARKER_NOTE = "# Rewritten in sorted order by every `kgtool add`: comments below this line are not kept."
FALLBACK_HEADER = (
    "# Contributions merged by `kgtool add` that fit none of the theme files (data/MODELLING.md).\n"
)
THEME_HEADER = (
    "# {name}: created by `kgtool add` for a theme file that did not exist yet (data/MODELLING.md).\n"
)

_K = ONTOLOGY
THEMES: tuple[tuple[str, str], ...] = (
    (_K + "ConfuciusInstitute", "confucius-institutes.ttl"),
    (_K + "ConfuciusInstitutePartnership", "confucius-institutes.ttl"),
    (_K + "Alliance", "alliances.ttl"),
    (_K + "Article", "sources.ttl"),
    (_K + "Reference", "sources.ttl"),
    (_K + "Archive", "sources.ttl"),
    (_K + "Figure", "figures.ttl"),
    (_K + "CulturalEvent", "events.ttl"),
    (_K + "EventSeries", "events.ttl"),
    (_K + "Anniversary", "events.ttl"),
    (_K + "Agreement", "agreements.ttl"),
    (_K + "Partnership", "agreements.ttl"),
    (_K + "EducationProgram", "education.ttl"),
    (_K + "Work", "publications.ttl"),
    (_K + "Award", "publications.ttl"),
    (_K + "BookSeries", "publications.ttl"),
    (_K + "Initiative", "initiatives.ttl"),
    (_K + "Place", "places.ttl"),
    (_K + "Field", "concepts.ttl"),
    (_K + "Measure", "concepts.ttl"),
    (_K + "Qualifier", "concepts.ttl"),
    (str(SKOS.Concept), "concepts.ttl"),
    (str(SKOS.ConceptScheme), "concepts.ttl"),
    (_K + "Actor", "actors.ttl"),
    (_K + "Position", "actors.ttl"),
)


@dataclass
class FileChange:
    path: Path
    old_text: str | None  # None: a new file
    new_text: str
    added: Graph
    new_subjects: set[URIRef] = field(default_factory=set)


@dataclass
class MergePlan:
    changes: list[FileChange]
    added: Graph
    already_present: int
    contributed: int


@dataclass
class MergeOutcome:
    """What ``kgtool add`` did (or, with ``--dry-run``, would do): the check's report and a summary."""

    report: Report
    summary: str = ""
    plan: MergePlan | None = None
    dry_run: bool = False
    merged: bool = False
    #: the snapshot of the merged data, made from the check's, or why the next command builds it
    snapshot: Extended | str | None = None


def add_contribution(project: Project, path: Path, dry_run: bool = False) -> MergeOutcome:
    """Check ``path`` and, if it conforms, merge its new triples into ``data/`` (see the module docstring)."""
    if not dry_run and not project.writable:
        raise ProjectError(
            f"{project.data_dir}: read-only data", hint="run kgtool add in a writable checkout"
        )
    finished: list[str] = []
    snapshot: Extended | str | None = None
    pending = (project.data_dir / JOURNAL_NAME).exists() or (not dry_run and needs_recovery(project))
    if pending and project.writable:
        with merge_lock(project):  # finish an interrupted merge before reading data/ (readers do it too)
            finished = recover(project)
    exam = examine(project, [path])
    if not exam.report.conforms:
        return MergeOutcome(exam.report, dry_run=dry_run)
    plan = plan_merge(project, exam)
    if dry_run:
        return MergeOutcome(exam.report, render_markdown(project, plan, exam, finished), plan, dry_run=True)
    if plan.changes:
        with merge_lock(project):
            recovered = recover(project)
            if recovered or project_digest(project) != _existing(exam).digest:
                exam = examine(project, [path])  # data/ moved while this waited: check again
                if not exam.report.conforms:
                    return MergeOutcome(exam.report)
                plan = plan_merge(project, exam)
            if plan.changes:
                before = file_digests(project.source_files)
                commit(project.data_dir, [(change.path, change.new_text) for change in plan.changes])
                verify_merge(project, plan)
                snapshot = _next_snapshot(exam, before, plan)
    summary = render_summary(project, plan, exam)
    if snapshot is not None:
        summary += _snapshot_line(snapshot)
    return MergeOutcome(exam.report, summary, plan, merged=bool(plan.changes), snapshot=snapshot)


def _next_snapshot(exam: Examination, before: dict[Path, str], plan: MergePlan) -> Extended | str:
    """The snapshot of the merged data, from the check's (:mod:`kgtool.incremental`), or why not. The
    merge has landed whatever happens here: a failure only means the next command builds it."""
    added = {(nt(s), nt(p), nt(o)) for s, p, o in plan.added}
    try:
        return after_merge(_existing(exam), before, {c.path: c.new_text for c in plan.changes}, added)
    except (OSError, RuntimeError, ValueError, KgtoolError) as exc:
        return f"it could not be made from the previous one ({exc})"


def _snapshot_line(snapshot: Extended | str) -> str:
    if isinstance(snapshot, str):
        return f"\nThe next command rebuilds the snapshot: {snapshot}.\n"
    if not snapshot.made:
        return "\nThe snapshot of the merged data was in the cache already: no rebuild needed.\n"
    return (f"\nSnapshot updated in {snapshot.seconds:.2f} s (+{snapshot.added} asserted, "
            f"+{snapshot.inferred} inferred triples): no rebuild needed.\n")


def _existing(exam: Examination) -> Existing:
    if exam.existing is None or exam.contribution is None:
        raise KgtoolError("internal: a conforming check without its graphs")
    return exam.existing


# ------------------------------------------------------------------ planning


def plan_merge(project: Project, exam: Examination) -> MergePlan:
    """Which new triples go to which file, and the new text of every file that changes."""
    existing = _existing(exam)
    contribution = exam.contribution.graph if exam.contribution else new_graph()
    described = _described(project, existing, set(contribution.subjects()))
    present = {t for about in described.values() for triples in about.values() for t in triples}
    added = new_graph()
    for triple in contribution:
        if triple not in present:
            added.add(triple)
    homes = _homes(described)
    targets: dict[Path, Graph] = {}
    new_subjects: dict[Path, set[URIRef]] = {}
    for subject in sorted(set(added.subjects()), key=str):
        home = homes.get(subject) or project.data_dir / _theme(existing, contribution, subject)
        graph = targets.setdefault(home, new_graph())
        for triple in added.triples((subject, None, None)):
            graph.add(triple)
        if subject not in homes:
            new_subjects.setdefault(home, set()).add(subject)
    data_files = set(project.data_files)
    changes = [
        _change(path, path in data_files, graph, new_subjects.get(path, set()))
        for path, graph in sorted(targets.items())
    ]
    return MergePlan(changes, added, len(contribution) - len(added), len(contribution))


def _described(project: Project, existing: Existing, subjects: set) -> dict[Path, dict[Node, list]]:
    """For each data file, the triples it holds about those of ``subjects`` that data/ describes (asked of
    the check's snapshot first: the files are read only when there are some)."""
    existing.prefetch(subjects)
    known = {s for s in subjects if existing.described(s)}
    if not known:
        return {}
    from .fastvalidate import to_term

    terms = Terms()
    wanted = {to_term(nt(s)) for s in known}
    out: dict[Path, dict[Node, list]] = {}
    for path in project.data_files:
        for triple in _parse(path, read_exactly(path), subjects=wanted):
            rdflib_triple = terms.rdflib_triple(triple)
            out.setdefault(path, {}).setdefault(rdflib_triple[0], []).append(rdflib_triple)
    return out


def read_exactly(path: Path) -> str:
    """A data file's text as it is: ``read_text`` turns CRLF into LF, which rewrote every line of a CRLF
    file and changed the value of its multi-line literals."""
    return path.read_bytes().decode("utf-8")


def ground(triples: set[tuple[str, str, str]]) -> set[tuple[str, str, str]]:
    return {t for t in triples if not (t[0].startswith("_:") or t[2].startswith("_:"))}


def same_triples(a: set[tuple[str, str, str]], b: set[tuple[str, str, str]]) -> bool:
    """The same triples, blank nodes up to their labels (each parse names them anew)."""
    if ground(a) != ground(b):
        return False
    from .fastexport import canonical_labels

    def blank(triples: set) -> list[bytes]:
        return canonical_labels([" ".join(t).encode("utf-8") for t in triples - ground(triples)])

    return blank(a) == blank(b)


def _parse(path: Path, text: str, subjects: set | None = None) -> list[tuple[str, str, str]]:
    """The triples of a Turtle text (those of ``subjects`` only, if given: pyoxigraph terms) as N-Triples
    terms (Oxigraph's parser, the file's URL as base)."""
    import pyoxigraph as ox

    try:
        return [(str(t.subject), str(t.predicate), str(t.object))
                for t in ox.parse(text.encode("utf-8"), format=ox.RdfFormat.TURTLE, base_iri=path.resolve().as_uri())
                if subjects is None or t.subject in subjects]
    except (SyntaxError, ValueError) as exc:
        raise ProjectError(f"{path}: cannot be parsed, so nothing is merged into it ({exc})") from None


def _homes(described: dict[Path, dict[Node, list]]) -> dict[URIRef, Path]:
    """Each described subject's file: the one with its rdf:type, else the one saying most about it."""
    homes: dict[URIRef, Path] = {}
    weight: dict[URIRef, tuple[int, int]] = {}
    for path, about in sorted(described.items()):
        for subject, triples in about.items():
            if not isinstance(subject, URIRef):
                continue
            score = (1 if any(p == RDF.type for _s, p, _o in triples) else 0, len(set(triples)))
            if subject not in weight or score > weight[subject]:
                homes[subject], weight[subject] = path, score
    return homes


def _theme(existing: Existing, contribution: Graph, subject: URIRef) -> str:
    classes = set(contribution.objects(subject, RDF.type)) | set(existing.asserted.objects(subject, RDF.type))
    for cls in list(classes):
        classes |= set(existing.ontology.transitive_objects(cls, RDFS.subClassOf))
    names = {str(c) for c in classes}
    return next((file for cls, file in THEMES if cls in names), FALLBACK_FILE)


def _change(path: Path, exists: bool, added: Graph, new_subjects: set[URIRef]) -> FileChange:
    old_text = read_exactly(path) if exists else None
    old = set(_parse(path, old_text)) if old_text is not None else set()
    head, kept, merged = _split(path, old_text, old)
    for triple in added:
        merged.add(triple)
    writer = TermWriter()
    body = serialize_statements(merged, writer)
    new_text = f"{head}{MARKER}\n{MARKER_NOTE}\n{writer.prefix_lines()}\n{body}"
    expected = kept | {(nt(s), nt(p), nt(o)) for s, p, o in merged}
    if not same_triples(set(_parse(path, new_text)), expected):
        raise KgtoolError(
            f"internal: the new text of {path.name} does not hold exactly the old and the new "
            "triples; nothing was written"
        )
    return FileChange(path, old_text, new_text, added, new_subjects)


def _split(path: Path, text: str | None, triples: set) -> tuple[str, set, Graph]:
    """The hand-written head (kept byte for byte), its triples, and the triples of the merged section."""
    if text is None:
        header = FALLBACK_HEADER if path.name == FALLBACK_FILE else THEME_HEADER.format(name=path.name)
        return header + "\n", set(), new_graph()
    lines = text.splitlines(keepends=True)
    for index, line in enumerate(lines):
        if line.rstrip("\r\n") == MARKER:
            head = "".join(lines[:index])
            head_triples = set(_parse(path, head))
            terms = Terms()
            merged = new_graph()
            # the merged section holds no blank nodes (contributions may not have them): those of the file
            # are the head's, whose labels differ from one parse to the next
            for triple in ground(triples) - ground(head_triples):
                merged.add(terms.rdflib_triple(triple))
            return head, head_triples, merged
    return (text if text.endswith("\n") else text + "\n") + "\n", triples, new_graph()


def verify_merge(project: Project, plan: MergePlan) -> None:
    """After the renames: every changed file holds exactly the bytes written (each was checked before the
    commit to hold its old triples plus the new ones) and, parsed again, every added triple."""
    for change in plan.changes:
        if read_exactly(change.path) != change.new_text:
            raise KgtoolError(
                f"{change.path}: changed by someone else during the merge; check it with git diff"
            )
    merged: set[tuple[str, str, str]] = set()
    for change in plan.changes:
        merged |= set(_parse(change.path, read_exactly(change.path)))
    missing = [t for t in plan.added if (nt(t[0]), nt(t[1]), nt(t[2])) not in merged]
    if missing:
        raise KgtoolError(
            f"after the merge, {len(missing)} added triples are not in data/; check it with git diff"
        )
