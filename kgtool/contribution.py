"""The contribution gate: ``kgtool validate FILE`` (and the check ``kgtool add`` runs before merging).

Stages, in order (DESIGN section 4):

1. **hygiene** (:mod:`kgtool.hygiene`): a local regular UTF-8 text file of bounded size, nesting and
   literal length, not XML/JSON/binary under a .ttl name (and, once parsed, of bounded triple count).
   A file that fails is *unusable input*: :class:`~kgtool.errors.InputError`, exit 2.
2. **syntax** (:mod:`kgtool.strict_turtle`): strict Turtle (Oxigraph), FILE:LINE:COL and the reason.
3. **policy** (:mod:`kgtool.policy`): IRIs in the instance namespace, no blank nodes, no schema, no
   ``owl:imports``/``owl:sameAs``, no control characters.
4. **vocabulary** (:mod:`kgtool.vocabulary`): known classes, properties and datatypes ("did you mean"),
   valid typed values.
5. **in context** (:mod:`kgtool.domains`, :mod:`kgtool.context`, :mod:`kgtool.references`): every new
   link's subject and object in the property's domain and range by the classes they are given (not by
   the classes the link would infer); SHACL over data + contribution + OWL RL closure, only what the
   contribution causes; disjoint classes; links to entities that exist nowhere;
   entities with no class; likely duplicates by name. Triples already in ``data/`` cause nothing and are
   left out of this stage (so re-checking a data file is quick and finds nothing). The data is read from
   the project's snapshot (:mod:`kgtool.snapshot`), and only about what the contribution touches, so this
   stage takes about as long against a million triples as against a thousand.

From stage 2 on, problems are findings in a :class:`~kgtool.report.Report` (exit 1 when one is a
violation). A syntax error stops the check (the rest of the file is unknown); a policy violation stops it
before the data is consulted (the contribution would not be merged whatever the data says), with a note
saying so. Vocabulary problems do not: the triples with unknown terms are left out of the later stages, so
one run shows everything that can be known.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from rdflib import RDF, URIRef

from .context import Existing, load_existing, new_inferences, shacl_caused
from .domains import domain_range_findings
from .errors import UsageError
from .hygiene import check_term_sizes, check_triple_count, printable, read_contribution
from .policy import needs_known_kinds, policy_findings
from .project import Project
from .references import (
    citation_mismatches,
    duplicate_findings,
    figure_conflicts,
    label_language_conflicts,
    reference_findings,
)
from .report import SEVERITIES, Finding, Report
from .strict_turtle import Contribution, parse_contribution, quiet_rdflib
from .validate import label_of
from .vocabulary import vocabulary_findings


@dataclass
class Examination:
    """A check's report, with what it was made from (for ``kgtool add``)."""

    report: Report
    contribution: Contribution | None = None
    existing: Existing | None = None


def check_contribution(project: Project, paths: Sequence[Path]) -> Report:
    """Check contributed Turtle files against the project; see the module docstring for the stages."""
    return examine(project, paths).report


def examine(project: Project, paths: Sequence[Path], existing: Existing | None = None) -> Examination:
    if not paths:
        raise UsageError("no contribution file given", hint="kgtool validate FILE.ttl")
    with quiet_rdflib():
        sources = [read_contribution(Path(p)) for p in paths]
        contribution = Contribution([s.name for s in sources])
        subject = ", ".join(contribution.names)
        syntax = [finding for source in sources for finding in parse_contribution(source, contribution)]
        if syntax:
            return Examination(Report(printable(subject), [_safe(f) for f in syntax], 0))
        check_triple_count(subject, len(contribution.graph))
        check_term_sizes(contribution.origin)
        existing = existing or load_existing(project)
        findings = _findings(existing, contribution)
    report = Report(
        printable(subject), _ordered(_labelled(findings, existing, contribution)), len(contribution.graph)
    )
    return Examination(report, contribution, existing)


def _findings(existing: Existing, contribution: Contribution) -> list[Finding]:
    findings, offending = policy_findings(contribution, existing.kinds if needs_known_kinds(contribution) else set())
    vocabulary, unusable = vocabulary_findings(contribution, existing.vocabulary, skip=offending)
    findings += vocabulary
    if any(f.severity == "Violation" for f in findings if f.stage == "policy"):
        findings.append(
            Finding(
                "Info",
                "not yet checked against the data in data/: fix the policy problems above first",
                stage="policy",
                file=contribution.names[0],
            )
        )
        return findings
    # Triples already in data/ cause nothing: the context stages look at the new ones only.
    existing.prefetch({node for s, _p, o in contribution.graph for node in (s, o)})
    restated = {triple for triple in contribution.graph if triple in existing.asserted}
    usable = contribution.without(unusable | restated)
    typed_elsewhere = {str(s) for s, p, _o in unusable if p == RDF.type}
    misfits, outside = domain_range_findings(existing, usable, existing.signatures)
    misfits += citation_mismatches(existing, usable) + label_language_conflicts(existing, usable)
    usable = usable.without(outside)
    inferred = new_inferences(existing, usable.graph)
    references = reference_findings(existing, usable, inferred, typed_elsewhere)
    shacl = shacl_caused(existing, usable, inferred)
    ill_typed = {(f.focus, f.path, f.value) for f in findings if f.stage == "datatype"}
    return (
        findings
        + misfits
        + _without_echoes(shacl, references, typed_elsewhere, ill_typed)
        + duplicate_findings(existing, usable)
        + figure_conflicts(existing, usable)
    )


def _without_echoes(
    shacl: list[Finding], references: list[Finding], typed_elsewhere: set[str], ill_typed: set[tuple]
) -> list[Finding]:
    """Leave out what is only an echo of a problem reported already: shape results about an entity that
    exists nowhere (it has no label because it does not exist), "needs a class" for an entity whose class
    was unknown, shape results about a value already said to be invalid for its own datatype, and the
    reference stage's "no class" where a shape says the same."""
    nowhere = {f.value.strip("<>") for f in references if f.value}
    untyped = {f.focus for f in shacl if f.path == str(RDF.type)}
    kept = [
        f
        for f in shacl
        if f.focus not in nowhere
        and not (f.focus in typed_elsewhere and f.path == str(RDF.type))
        and (f.focus, f.path, f.value) not in ill_typed
    ]
    kept += [f for f in references if not (f.path == str(RDF.type) and f.focus in untyped)]
    return kept


def _labelled(findings: list[Finding], existing: Existing, contribution: Contribution) -> list[Finding]:
    """Give every finding about an entity the entity's label (from the contribution, else the data), and
    make every text in it safe to print."""
    out = []
    unnamed = [URIRef(f.focus) for f in findings if f.focus and not f.focus_label and not f.focus.startswith("_:")]
    if unnamed:
        existing.prefetch(unnamed)
    for finding in findings:
        if finding.focus and not finding.focus_label and not finding.focus.startswith("_:"):
            node = URIRef(finding.focus)
            label = label_of(contribution.graph, node) or label_of(existing.asserted, node)
            finding = replace(finding, focus_label=label)
        out.append(_safe(finding))
    return out


def _safe(finding: Finding) -> Finding:
    return replace(
        finding,
        message=printable(finding.message),
        focus_label=printable(finding.focus_label),
        value=printable(finding.value),
        focus=printable(finding.focus),
        file=printable(finding.file),
    )


_STAGES = (
    "syntax",
    "hygiene",
    "policy",
    "vocabulary",
    "datatype",
    "ontology",
    "shacl",
    "reference",
    "duplicate",
)


def _ordered(findings: list[Finding]) -> list[Finding]:
    def key(f: Finding) -> tuple:
        stage = _STAGES.index(f.stage) if f.stage in _STAGES else len(_STAGES)
        return (f.file, f.line or 0, SEVERITIES.index(f.severity), stage, f.focus, f.path, f.message, f.value)

    unique = list(dict.fromkeys(findings))
    return sorted(unique, key=key)
