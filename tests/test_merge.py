"""`kgtool add`: merges only what conforms, under a lock, atomically, idempotently, deterministically.

Every test that merges works on its own copy of the project (never the real data/); the concurrency and
crash tests run kgtool in separate processes.
"""

from __future__ import annotations

import os
import random
import signal
import time
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic

from gate_helpers import (
    CONTRIBUTIONS,
    copy_project,
    data_digest,
    fixture_files,
    run_kgtool,
    shared_project,
    spawn_kgtool,
)
from helpers import run_cli
from kgtool import commit as commit_module
from kgtool.loading import parse_files
from kgtool.merge import MARKER
from kgtool.project import Project
from kgtool.turtle_writer import serialize_turtle

CONCERT = CONTRIBUTIONS / "valid-concert.ttl"
VISIT = CONTRIBUTIONS / "valid-visit-and-person.ttl"
NOTE = CONTRIBUTIONS / "valid-note-on-almaty.ttl"


def _data(project: Project) -> Graph:
    return parse_files(project.data_files)


def _texts(project: Project) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(project.data_dir.glob("*.ttl"))}


def _union(*graphs: Graph) -> Graph:
    merged = Graph()
    for graph in graphs:
        for triple in graph:
            merged.add(triple)
    return merged


def _leftovers(project: Project) -> list[str]:
    return sorted(
        p.name
        for p in project.data_dir.iterdir()
        if p.name.startswith(".kgtool-merge.") and not p.name.endswith(".lock")
    )


def test_add_merges_into_the_theme_file_once_and_the_second_time_adds_nothing(tmp_path):
    project = copy_project(tmp_path)
    before, texts = _data(project), _texts(project)
    out = run_cli("--project", str(project.root), "add", str(CONCERT)).stdout
    assert out.startswith(f"kgtool add: merged {CONCERT}: added 5 triples about 1 entity to 1 file\n")
    assert "data/events.ttl (+5)" in out and "Gate test friendship concert in Almaty" in out
    after = _texts(project)
    assert {name for name in after if after[name] != texts.get(name)} == {"events.ttl"}
    assert after["events.ttl"].startswith(texts["events.ttl"])  # the hand-written part is untouched
    assert MARKER.encode() in after["events.ttl"][len(texts["events.ttl"]) :]
    assert isomorphic(_data(project), _union(before, Graph().parse(CONCERT)))
    digest = data_digest(project)
    again = run_cli("--project", str(project.root), "add", str(CONCERT)).stdout
    assert again == f"kgtool add: nothing to add: all 5 triples of {CONCERT} are already in data/\n"
    assert data_digest(project) == digest
    assert _leftovers(project) == []


def test_an_existing_entity_gets_its_new_triples_in_the_file_that_describes_it(tmp_path):
    project = copy_project(tmp_path)
    texts = _texts(project)
    out = run_cli("--project", str(project.root), "add", str(NOTE)).stdout
    assert "data/places.ttl (+1)" in out and "Almaty (place:almaty): more about, 1 triple" in out
    after = _texts(project)
    assert {name for name in after if after[name] != texts.get(name)} == {"places.ttl"}


def test_dry_run_shows_markdown_and_writes_nothing():
    project = shared_project()
    before = data_digest(project)
    out = run_cli("--project", str(project.root), "add", str(VISIT), "--dry-run").stdout
    assert out.startswith(f"# Dry run: `kgtool add {VISIT}`\n\nNothing was written.\n")
    assert "Merging would add 8 triples about 2 entities to 2 files." in out
    assert "| `data/actors.ttl` | Gate Test Visitor (person:gate-test-visitor) | new | 2 |" in out
    assert (
        "## `data/events.ttl`\n\n```turtle\nevent:2019-10-gate-test-visit-to-almaty a kzcn:Visit ;\n" in out
    )
    assert data_digest(project) == before


@pytest.mark.parametrize("path", fixture_files("invalid-context-*.ttl"), ids=lambda p: p.stem)
def test_a_refused_contribution_leaves_data_unchanged_byte_for_byte(path: Path):
    project = shared_project()
    before = data_digest(project)
    out = run_cli("--project", str(project.root), "add", str(path), exit_code=1).stdout
    assert "does not conform" in out
    assert data_digest(project) == before


def test_refusal_report_can_be_json():
    path = CONTRIBUTIONS / "invalid-context-second-value.ttl"
    out = run_cli(
        "--project", str(shared_project().root), "add", str(path), "--format", "json", exit_code=1
    ).stdout
    assert '"conforms": false' in out and "A birth year is one xsd:gYear." in out


def test_two_merges_at_once_both_land(tmp_path):
    project = copy_project(tmp_path)
    before = _data(project)
    procs = [spawn_kgtool(project, "add", str(path)) for path in (CONCERT, VISIT)]
    results = [(p.wait(timeout=300), *p.communicate()) for p in procs]
    assert [code for code, _out, _err in results] == [0, 0], results
    expected = _union(before, Graph().parse(CONCERT), Graph().parse(VISIT))
    assert isomorphic(_data(project), expected)
    events = (project.data_dir / "events.ttl").read_text(encoding="utf-8")
    assert events.count(MARKER) == 1  # one merged section, rewritten by the second merge, sorted
    assert events.index("event:2019-09-01-gate-test") < events.index("event:2019-10-gate-test")
    assert _leftovers(project) == []


def test_two_conflicting_merges_at_once_one_lands_the_other_is_refused_cleanly(tmp_path):
    project = copy_project(tmp_path)
    before = _data(project)
    races = [CONTRIBUTIONS / "valid-race-a.ttl", CONTRIBUTIONS / "valid-race-b.ttl"]
    procs = [spawn_kgtool(project, "add", str(path)) for path in races]
    results = [(p.wait(timeout=300), *p.communicate()) for p in procs]
    codes = sorted(code for code, _out, _err in results)
    assert codes == [0, 1], results
    winner = races[[code for code, _o, _e in results].index(0)]
    loser_out = next(out for code, out, _err in results if code == 1)
    assert "does not conform" in loser_out and "A date is one xsd:date" in loser_out
    assert isomorphic(_data(project), _union(before, Graph().parse(winner)))
    assert _leftovers(project) == []


def _wait_for(path: Path, proc, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"kgtool ended before pausing: {proc.communicate()}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("kgtool never reached the pause")
        time.sleep(0.05)


def test_a_merge_killed_before_the_commit_leaves_the_old_data(tmp_path):
    project = copy_project(tmp_path / "p")
    texts, before = _texts(project), _data(project)
    sentinel = tmp_path / "paused"
    proc = spawn_kgtool(project, "add", str(VISIT), env={"KGTOOL_TEST_PAUSE_MERGE": f"temps:120:{sentinel}"})
    _wait_for(sentinel, proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert _texts(project) == texts, "a kill before the journal changed data/"
    assert _leftovers(project), "the temporary files should still be there (the process was killed)"
    out = run_cli("--project", str(project.root), "add", str(VISIT)).stdout  # cleans up, then merges
    assert "added 8 triples" in out
    assert _leftovers(project) == []
    assert isomorphic(_data(project), _union(before, Graph().parse(VISIT)))


def _kill_a_merge_during_the_renames(tmp_path: Path) -> Project:
    """Start `kgtool add VISIT` on a project copy, stop it after its commit point, and kill -9 it."""
    project = copy_project(tmp_path / "p")
    sentinel = tmp_path / "paused"
    proc = spawn_kgtool(
        project, "add", str(VISIT), env={"KGTOOL_TEST_PAUSE_MERGE": f"replace:120:{sentinel}"}
    )
    _wait_for(sentinel, proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    return project


def test_a_merge_killed_during_the_renames_is_completed_by_the_next_add(tmp_path):
    before_project = copy_project(tmp_path / "before")
    texts, before = _texts(before_project), _data(before_project)
    project = _kill_a_merge_during_the_renames(tmp_path)
    changed = {name for name, text in _texts(project).items() if text != texts[name]}
    assert len(changed) == 1 and (project.data_dir / commit_module.JOURNAL_NAME).exists()
    out = run_cli("--project", str(project.root), "add", str(VISIT)).stdout  # rolls the journal forward
    assert "nothing to add" in out
    assert _leftovers(project) == []
    assert isomorphic(_data(project), _union(before, Graph().parse(VISIT)))


def test_a_reader_after_a_merge_killed_during_the_renames_sees_the_whole_new_data(tmp_path):
    """Readers finish a committed merge first, so no query ever sees half-renamed theme files."""
    before = _data(copy_project(tmp_path / "before"))
    project = _kill_a_merge_during_the_renames(tmp_path)
    assert (project.data_dir / commit_module.JOURNAL_NAME).exists()
    run_cli("--project", str(project.root), "export", "--format", "nt")  # a reader, not a merge
    assert not (project.data_dir / commit_module.JOURNAL_NAME).exists()
    assert _leftovers(project) == []
    assert isomorphic(_data(project), _union(before, Graph().parse(VISIT)))


def test_the_lock_makes_a_second_merge_wait_and_says_so_when_it_gives_up(tmp_path, monkeypatch):
    from filelock import FileLock

    project = copy_project(tmp_path)
    monkeypatch.setattr(commit_module, "LOCK_TIMEOUT", 0.5)
    with FileLock(project.data_dir / commit_module.LOCK_NAME):
        result = run_cli("--project", str(project.root), "add", str(CONCERT), exit_code=2)
    assert "another `kgtool add` has held" in result.stderr


def test_merges_are_byte_for_byte_deterministic_across_processes(tmp_path):
    projects = [copy_project(tmp_path / f"p{seed}", with_gate_data=False) for seed in (1, 2)]
    procs = [
        spawn_kgtool(p, "add", str(VISIT), env={"PYTHONHASHSEED": str(seed)})
        for seed, p in zip((1, 2), projects, strict=True)
    ]
    assert [p.wait(timeout=300) for p in procs] == [0, 0], [p.communicate() for p in procs]
    assert _texts(projects[0]) == _texts(projects[1])


def test_the_writer_is_deterministic_and_round_trips():
    graph = Graph().parse(VISIT)
    graph.add(
        (
            URIRef("https://w3id.org/kzcn/id/place/almaty"),
            URIRef("https://w3id.org/kzcn/ontology#note"),
            Literal('quote " backslash \\ tab \t newline \n done', lang="en"),
        )
    )
    triples = list(graph)
    texts = set()
    for seed in range(5):
        random.Random(seed).shuffle(triples)
        shuffled = Graph()
        for triple in triples:
            shuffled.add(triple)
        texts.add(serialize_turtle(shuffled))
    [text] = texts
    assert isomorphic(Graph().parse(data=text, format="turtle"), graph)
    assert text.index(" a kzcn:Visit ;\n    rdfs:label ") > 0  # rdf:type, then the label, then the rest
    assert "@prefix person: <https://w3id.org/kzcn/id/person/> .\n" in text and "@prefix owl" not in text
    import pyoxigraph

    assert len(list(pyoxigraph.parse(text.encode(), format=pyoxigraph.RdfFormat.TURTLE))) == len(graph)


def test_run_kgtool_helper_reports_exit_codes(tmp_path):
    result = run_kgtool(shared_project(), "validate", str(tmp_path / "missing.ttl"))
    assert result.returncode == 2 and "no such file" in result.stderr


def test_every_class_of_the_ontology_has_a_theme_file():
    from rdflib import OWL, RDF, RDFS

    from gate_helpers import shared_existing
    from kgtool.merge import THEMES
    from kgtool.namespaces import ONTOLOGY

    ontology = shared_existing().ontology
    themed = {URIRef(cls) for cls, _file in THEMES}
    # the ontology's own classes: it declares those of the vocabularies it aligns to as well (for OWL 2 DL)
    classes = {c for c in ontology.subjects(RDF.type, OWL.Class) if str(c).startswith(ONTOLOGY)}
    assert classes, "no classes in the ontology"
    missing = sorted(c for c in classes if not themed & set(ontology.transitive_objects(c, RDFS.subClassOf)))
    assert not missing, f"add these classes to kgtool.merge.THEMES (data/MODELLING.md): {missing}"


def test_what_fits_no_theme_file_goes_to_contributions_ttl(tmp_path, monkeypatch):
    from kgtool import merge

    project = copy_project(tmp_path)
    monkeypatch.setattr(merge, "THEMES", ())
    out = run_cli("--project", str(project.root), "add", str(CONCERT)).stdout
    assert "data/contributions.ttl (+5)" in out
    text = (project.data_dir / "contributions.ttl").read_text(encoding="utf-8")
    assert text.startswith(merge.FALLBACK_HEADER + "\n" + MARKER + "\n")
    assert isomorphic(Graph().parse(data=text, format="turtle"), Graph().parse(CONCERT))


@pytest.mark.parametrize("meddle", ["edit-the-waiting-file", "check-out-the-renamed-file"])
def test_an_interrupted_merge_is_not_finished_over_later_changes(tmp_path, meddle):
    """The journal was replayed blindly: an edit made after the crash was overwritten, and after a
    `git checkout -- data/` the roll-forward left one file old and another new."""
    before_texts = _texts(copy_project(tmp_path / "before"))
    project = _kill_a_merge_during_the_renames(tmp_path)
    after_crash = _texts(project)
    renamed = {name for name in after_crash if after_crash[name] != before_texts[name]}
    if meddle == "edit-the-waiting-file":
        waiting = next(name for name in ("places.ttl", "actors.ttl", "events.ttl")
                       if name not in renamed and any(project.data_dir.glob(f".kgtool-merge.{name}.*.tmp")))
        target = project.data_dir / waiting
        target.write_bytes(target.read_bytes() + b"\n# a hand edit made after the crash\n")
    else:
        for name in renamed:  # as `git checkout -- data/` would
            (project.data_dir / name).write_bytes(before_texts[name])
    meddled = _texts(project)
    result = run_cli("--project", str(project.root), "query", "ci-partners", exit_code=2)
    assert "an interrupted merge cannot be finished" in result.stderr and "changed since" in result.stderr
    assert _texts(project) == meddled, "nothing may be renamed over the later change"
    assert (project.data_dir / commit_module.JOURNAL_NAME).exists()


def test_a_crlf_data_file_keeps_its_bytes_and_its_literals(tmp_path):
    project = copy_project(tmp_path / "p")
    events = project.data_dir / "events.ttl"
    crlf = events.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    crlf += b'<https://w3id.org/kzcn/id/event/x-crlf> <https://w3id.org/kzcn/ontology#note> """two\r\nlines"""@en .\r\n'
    events.write_bytes(crlf)
    run_cli("--project", str(project.root), "add", str(CONCERT))
    after = events.read_bytes()
    assert after.startswith(crlf), "the hand-written part of a CRLF file is kept byte for byte"
    import pyoxigraph as ox

    notes = [t.object.value for t in ox.parse(after, format=ox.RdfFormat.TURTLE)
             if t.subject.value == "https://w3id.org/kzcn/id/event/x-crlf"]
    assert notes == ["two\r\nlines"], "the literal keeps its CR LF (read_text had made it LF)"


def test_a_data_file_with_blank_nodes_still_takes_merges(tmp_path):
    project = copy_project(tmp_path / "p")
    events = project.data_dir / "events.ttl"
    events.write_bytes(events.read_bytes() + b"\n<https://w3id.org/kzcn/id/event/2017-04-17-meeting-on-the-bright-"
                       b"silk-road-concert> <https://w3id.org/kzcn/ontology#chain> ( 1 2 ) .\n")
    before = _data(project)
    out = run_cli("--project", str(project.root), "add", str(CONCERT)).stdout
    assert "added 5 triples" in out
    assert isomorphic(_data(project), _union(before, Graph().parse(CONCERT)))
    assert run_cli("--project", str(project.root), "add", str(CONCERT)).stdout.startswith("kgtool add: nothing to add")


def test_a_data_file_that_is_a_symbolic_link_is_refused_not_replaced(tmp_path):
    project = copy_project(tmp_path / "p")
    events = project.data_dir / "events.ttl"
    real = tmp_path / "elsewhere-events.ttl"
    real.write_bytes(events.read_bytes())
    events.unlink()
    events.symlink_to(real)
    result = run_cli("--project", str(project.root), "add", str(CONCERT), exit_code=2)
    assert "is a symbolic link" in result.stderr
    assert events.is_symlink() and real.read_bytes() == (tmp_path / "elsewhere-events.ttl").read_bytes()
    assert _leftovers(project) == []


def test_a_dry_run_that_completes_an_interrupted_merge_says_so(tmp_path):
    project = _kill_a_merge_during_the_renames(tmp_path)
    out = run_cli("--project", str(project.root), "add", "--dry-run", str(CONCERT)).stdout
    assert "An interrupted earlier merge was completed first" in out and "Nothing was written." not in out
    assert not (project.data_dir / commit_module.JOURNAL_NAME).exists()
