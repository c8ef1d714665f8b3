"""The snapshot `kgtool add` makes from the previous one (kgtool.incremental) equals a full build.

Each test merges into its own copy of the project, then builds the snapshot of the merged data from
scratch in another cache and compares the two: the three N-Triples files line by line and the store quad
by quad (blank nodes up to their labels, which every parse names anew), and the counts in meta.json.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest

from gate_helpers import CONTRIBUTIONS, copy_project
from helpers import run_cli
from kgtool import merge as merge_module
from kgtool import snapshot as snapshot_module
from kgtool.fastexport import canonical_labels
from kgtool.incremental import Extended, why_not, why_not_retract
from kgtool.merge import add_contribution
from kgtool.project import Project, find_project
from kgtool.snapshot import get_snapshot, snapshot_key

REPO = Path(__file__).resolve().parents[1]

#: Contributions that merge one after another: new entities, links into the data, a transitive chain
#: reaching back into it (locatedIn), a figure, labels on an existing entity.
SEQUENCE = ["valid-concert.ttl", "valid-visit-and-person.ttl", "valid-note-on-almaty.ttl",
            "valid-context-located-chain.ttl", "valid-context-conflicting-figure.ttl",
            "valid-context-fixes-warning.ttl"]


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    """An empty cache per test: the session's may hold the merged data's snapshot from another test (the
    same contribution merged into another copy of the project), which a merge then finds instead of
    making it."""
    monkeypatch.setenv("KGTOOL_CACHE_DIR", str(tmp_path / "cache"))
    snapshot_module._found.clear()
    yield
    snapshot_module._found.clear()


def content(folder: Path) -> dict:
    """What a snapshot holds, blank nodes relabelled canonically."""
    def canonical(lines: list[str]) -> tuple[set[str], list[bytes]]:
        ground = {line for line in lines if "_:" not in line}
        return ground, canonical_labels([line.encode("utf-8") for line in lines if "_:" in line])

    out: dict = {}
    for name in ("asserted.nt", "inferred.nt", "exact-literals.nt"):
        lines = [line.removesuffix(" .") for line in (folder / name).read_text(encoding="utf-8").splitlines()]
        assert len(lines) == len(set(lines)), f"{name} lists a triple twice"
        out[name] = canonical(lines)
    store = ox.Store.read_only(str(folder / "store"))
    out["store"] = canonical([f"{q.subject} {q.predicate} {q.object}" for q in store])
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    out["counts"] = meta["asserted"], meta["inferred"], meta["reasoner"]
    return out


def full_build(project: Project, cache: Path, monkeypatch) -> Path:
    with monkeypatch.context() as patch:
        patch.setenv("KGTOOL_CACHE_DIR", str(cache))
        snapshot_module._found.clear()
        folder = get_snapshot(project).path
        snapshot_module._found.clear()
    assert "extended_from" not in json.loads((folder / "meta.json").read_text())
    return folder


def assert_same_snapshot(extended: Extended, project: Project, cache: Path, monkeypatch) -> None:
    assert extended.snapshot.key == snapshot_key(project)
    assert json.loads((extended.snapshot.path / "meta.json").read_text())["extended_from"]
    made, built = content(extended.snapshot.path), content(full_build(project, cache, monkeypatch))
    for part in built:
        assert made[part] == built[part], f"{part} differs from a full build's"


def test_each_merge_extends_the_snapshot_to_what_a_full_build_gives(tmp_path, monkeypatch):
    project = copy_project(tmp_path / "project")
    get_snapshot(project)
    for number, name in enumerate(SEQUENCE):
        outcome = add_contribution(project, CONTRIBUTIONS / name)
        assert outcome.merged, f"{name} did not merge: {outcome.report}"
        assert isinstance(outcome.snapshot, Extended), f"{name}: {outcome.snapshot}"
        assert outcome.snapshot.made and outcome.snapshot.added > 0
        assert_same_snapshot(outcome.snapshot, project, tmp_path / f"full-{number}", monkeypatch)
        # the next command finds it: no build
        snapshot_module._found.clear()
        assert get_snapshot(project).path == outcome.snapshot.snapshot.path


def test_the_located_chain_adds_the_inferences_that_reach_back_into_the_data(tmp_path, monkeypatch):
    project = copy_project(tmp_path / "project")
    get_snapshot(project)
    outcome = add_contribution(project, CONTRIBUTIONS / "valid-context-located-chain.ttl")
    assert isinstance(outcome.snapshot, Extended), outcome.snapshot
    inferred = (outcome.snapshot.snapshot.path / "inferred.nt").read_text(encoding="utf-8")
    # something in Almaty (the theatre's district's city) is now inferred to be in the new region
    region = "<https://w3id.org/kzcn/id/place/gate-test-region> ."
    assert sum(line.endswith(region) and "#locatedIn>" in line for line in inferred.splitlines()) >= 3
    assert outcome.snapshot.inferred >= 3


def test_a_triple_that_was_inferred_moves_to_the_asserted_file(tmp_path, monkeypatch):
    project = copy_project(tmp_path / "project")
    old = get_snapshot(project)
    # Almaty is a city, so it is inferred to be a place; asserting that moves the line, and adds nothing else
    typed = "<https://w3id.org/kzcn/id/place/almaty> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> " \
            "<https://w3id.org/kzcn/ontology#Place> .\n"
    assert typed in old.inferred_file.read_text(encoding="utf-8")
    contribution = tmp_path / "almaty-is-a-place.ttl"
    contribution.write_text("@prefix kzcn: <https://w3id.org/kzcn/ontology#> .\n"
                            "<https://w3id.org/kzcn/id/place/almaty> a kzcn:Place .\n", encoding="utf-8")
    outcome = add_contribution(project, contribution)
    assert outcome.merged and isinstance(outcome.snapshot, Extended), outcome.snapshot
    assert (outcome.snapshot.added, outcome.snapshot.inferred) == (1, 0)
    folder = outcome.snapshot.snapshot.path
    assert typed not in folder.joinpath("inferred.nt").read_text(encoding="utf-8")
    assert typed in folder.joinpath("asserted.nt").read_text(encoding="utf-8")
    assert_same_snapshot(outcome.snapshot, project, tmp_path / "full", monkeypatch)


def _generated(folder: Path) -> Project:
    """A project of 10,000 generated triples (benchmarks/generate.py), with the bundled queries."""
    spec = importlib.util.spec_from_file_location("kgtool_generate", REPO / "benchmarks" / "generate.py")
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    generate.main(["--size", "1e4", "--out", str(folder)])
    shutil.rmtree(folder / "queries", ignore_errors=True)
    return find_project(folder)


def test_a_merge_of_generated_data_extends_the_snapshot_exactly(tmp_path, monkeypatch):
    """1,012 triples that refer to things already in a generated 10,000-triple graph."""
    project = _generated(tmp_path / "g")
    get_snapshot(project)
    outcome = add_contribution(project, tmp_path / "g" / "contribution.ttl")
    assert outcome.merged, outcome.report
    assert isinstance(outcome.snapshot, Extended), outcome.snapshot
    assert outcome.snapshot.added > 900 and outcome.snapshot.inferred > 500
    assert_same_snapshot(outcome.snapshot, project, tmp_path / "full", monkeypatch)


def test_an_edit_during_the_merge_means_a_full_build_and_never_a_wrong_snapshot(tmp_path, monkeypatch):
    project = copy_project(tmp_path / "project")
    get_snapshot(project)
    commit = merge_module.commit

    def commit_and_edit(data_dir, changes):
        commit(data_dir, changes)
        with (data_dir / "places.ttl").open("a", encoding="utf-8") as out:  # someone edits by hand meanwhile
            out.write('\n<https://w3id.org/kzcn/id/place/almaty> <http://www.w3.org/2000/01/rdf-schema#comment> '
                      '"edited by hand"@en .\n')

    monkeypatch.setattr(merge_module, "commit", commit_and_edit)
    outcome = add_contribution(project, CONTRIBUTIONS / "valid-concert.ttl")
    assert outcome.merged
    assert outcome.snapshot == "the input files changed during the merge"
    assert "The next command rebuilds the snapshot: the input files changed during the merge." in outcome.summary
    key = snapshot_key(project)
    from kgtool import closure

    assert not (closure.cache_dir() / f"snapshot-{key[:40]}").exists()
    snapshot_module._found.clear()
    assert "edited by hand" in get_snapshot(project).asserted_file.read_text(encoding="utf-8")


class _Existing:
    def __init__(self, suffices: bool = True, **meta) -> None:
        from types import SimpleNamespace

        self.reasoner_suffices = suffices
        self.snapshot = SimpleNamespace(meta={"same_as": False, "inexact": False, "collapses": False, **meta})


XSD = "http://www.w3.org/2001/XMLSchema#"


@pytest.mark.parametrize(("triples", "reason"), [
    ({("<x>", "<p>", "<y>")}, ""),
    ({("<x>", "<p>", f'"1"^^<{XSD}positiveInteger>'), ("<x>", "<p>", f'"2019-06-01"^^<{XSD}date>'),
      ("<x>", "<p>", '"x"@en')}, ""),  # restored from exact-literals.nt, or kept as written
    ({("<x>", "<p>", f'"01"^^<{XSD}integer>')}, "an added literal is not written in the form the store keeps"),
    ({("<x>", "<p>", f'"2019-06-01T18:00:00+00:00"^^<{XSD}dateTime>')},
     "an added literal is not written in the form the store keeps"),
    ({("<x>", "<p>", '"x"@en-US')}, "an added literal is not written in the form the store keeps"),
    ({("_:b", "<p>", "<y>")}, "the added triples hold blank nodes"),
    ({("<x>", "<http://www.w3.org/2000/01/rdf-schema#subClassOf>", "<y>")},
     "the added triples change the ontology's axioms"),
    ({("<x>", "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>",
       "<http://www.w3.org/2002/07/owl#TransitiveProperty>")}, "the added triples change the ontology's axioms"),
    ({("<x>", "<http://www.w3.org/2002/07/owl#sameAs>", "<y>")}, "the added triples change the ontology's axioms"),
])
def test_what_needs_a_full_build(triples, reason):
    assert why_not(_Existing(), triples) == reason
    assert why_not(_Existing(suffices=False), {("<x>", "<p>", "<y>")}) == "the ontology needs owlrl"
    assert why_not(_Existing(same_as=True), {("<x>", "<p>", "<y>")}) == \
        "the data makes two names one individual (owl:sameAs)"
    assert why_not(_Existing(inexact=True), {("<x>", "<p>", "<y>")}) == \
        "the data holds a literal the store keeps in another form"
    assert why_not(_Existing(), {("<x>", "<p>", "<y>")}) == ""
    typed = {("<x>", "<p>", f'"2"^^<{XSD}integer>')}
    assert why_not_retract(_Existing(collapses=True), typed) == "the data holds two values the store keeps as one"
    assert why_not_retract(_Existing(collapses=True), {("<x>", "<p>", '"x"@en')}) == ""
    assert why_not_retract(_Existing(), typed) == ""


def test_kgtool_add_says_the_snapshot_is_ready_and_the_next_query_sees_the_merge(tmp_path):
    project = copy_project(tmp_path / "project")
    root = str(project.root)
    concert = "event:2019-09-01-gate-test-friendship-concert"
    before = run_cli("--project", root, "query", "entity-sources", "-p", "entity", concert, "--format", "csv")
    assert "article-002" not in before.stdout
    out = run_cli("--project", root, "add", str(CONTRIBUTIONS / "valid-concert.ttl")).stdout
    assert "Snapshot updated in " in out and "no rebuild needed" in out
    after = run_cli("--project", root, "query", "entity-sources", "-p", "entity", concert, "--format", "csv")
    assert "article-002" in after.stdout


def _index_content(index) -> tuple[dict, set, int]:
    subjects = [s for (s,) in index.connection.execute("SELECT subject FROM subjects") if s.startswith("<")]
    lines = {s: {line for line in index.lines({s}).split(b"\n") if b"_:" not in line} for s in subjects}
    names = set(index.connection.execute("SELECT name, subject FROM n.names"))
    count = index.connection.execute("SELECT COUNT(*) FROM n.names").fetchone()[0]
    return lines, names, count


def test_the_gate_index_is_extended_to_what_a_build_gives(tmp_path, monkeypatch):
    from kgtool.gate_index import GateIndex

    project = copy_project(tmp_path / "project")
    GateIndex.open(get_snapshot(project))  # the check of the first merge builds it anyway
    for name in ("valid-visit-and-person.ttl", "valid-context-duplicate-label.ttl"):
        outcome = add_contribution(project, CONTRIBUTIONS / name)
        assert isinstance(outcome.snapshot, Extended), outcome.snapshot
        index = GateIndex.open(outcome.snapshot.snapshot)
        assert not index.built_now, "the merge should have extended the old index"
    with monkeypatch.context() as patch:
        patch.setenv("KGTOOL_CACHE_DIR", str(tmp_path / "full"))
        built = GateIndex.open(get_snapshot(project))
        assert built.built_now
        expected = _index_content(built)
    snapshot_module._found.clear()
    got = _index_content(index)
    assert got[0] == expected[0] and got[1:] == expected[1:]
    assert any("gate-test-visitor" in s for s in got[0])


def test_a_snapshot_found_in_the_cache_is_used_and_its_index_not_extended(tmp_path):
    """The merged data's snapshot may be there already, built from scratch (its lines in another order):
    then the merge uses it, and leaves its gate index to be built from its own file."""
    from kgtool import closure, gate_index
    from kgtool.gate_index import GateIndex

    project = copy_project(tmp_path / "project")
    texts = {path: path.read_bytes() for path in project.data_dir.glob("*.ttl")}
    GateIndex.open(get_snapshot(project))
    first = add_contribution(project, CONTRIBUTIONS / "valid-concert.ttl").snapshot
    assert isinstance(first, Extended) and first.made
    for name in (first.snapshot.path.name, gate_index.entry_name(first.snapshot)):  # as if built by a query
        shutil.rmtree(closure.cache_dir() / name)
    snapshot_module._found.clear()
    rebuilt = get_snapshot(project)
    assert "extended_from" not in rebuilt.meta
    for path, data in texts.items():  # back to the data before, whose snapshot and index are still cached
        path.write_bytes(data)
    snapshot_module._found.clear()
    outcome = add_contribution(project, CONTRIBUTIONS / "valid-concert.ttl")
    assert isinstance(outcome.snapshot, Extended) and not outcome.snapshot.made
    assert outcome.snapshot.snapshot.path == rebuilt.path
    assert "was in the cache already" in outcome.summary
    assert GateIndex.open(rebuilt).built_now


# ---------------------------------------------------------------- edits by hand: a snapshot extended from the cache
@pytest.fixture
def extend_any_size(monkeypatch):
    """Extend from the cache whatever the inputs' size (by default only from 8 MB: below, a build is faster)."""
    monkeypatch.setattr(snapshot_module, "EXTEND_MIN_BYTES", 0)


def _append(path: Path, source: Path) -> None:
    with path.open("a", encoding="utf-8") as out:
        out.write("\n" + source.read_text(encoding="utf-8"))


def _next(project: Project):
    snapshot_module._found.clear()
    return get_snapshot(project)


def test_triples_added_by_hand_extend_the_snapshot_to_what_a_build_gives(tmp_path, monkeypatch, extend_any_size):
    from kgtool.gate_index import GateIndex

    project = copy_project(tmp_path / "project")
    old = get_snapshot(project)
    GateIndex.open(old)
    _append(project.data_dir / "events.ttl", CONTRIBUTIONS / "valid-concert.ttl")  # a file that gains triples
    shutil.copy(CONTRIBUTIONS / "valid-context-located-chain.ttl", project.data_dir / "zz-new.ttl")  # a new file
    new = _next(project)
    assert new.meta["extended_from"] == old.key
    assert not GateIndex.open(new).built_now
    made, built = content(new.path), content(full_build(project, tmp_path / "full", monkeypatch))
    for part in built:
        assert made[part] == built[part], f"{part} differs from a full build's"
    # and again from that one
    _append(project.data_dir / "zz-new.ttl", CONTRIBUTIONS / "valid-visit-and-person.ttl")
    newer = _next(project)
    assert newer.meta["extended_from"] == new.key
    made, built = content(newer.path), content(full_build(project, tmp_path / "full-2", monkeypatch))
    assert all(made[part] == built[part] for part in built)


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} should be in {path.name} once"
    path.write_text(text.replace(old, new), encoding="utf-8")


def _same_as_built(snapshot, project: Project, cache: Path, monkeypatch, index=None) -> None:
    """The snapshot, and the gate's index made with it if given, equal what a build in ``cache`` makes."""
    from kgtool.gate_index import GateIndex

    folder = full_build(project, cache, monkeypatch)
    made, built = content(snapshot.path), content(folder)
    for part in built:
        assert made[part] == built[part], f"{part} differs from a full build's"
    if index is not None:
        with monkeypatch.context() as patch:
            patch.setenv("KGTOOL_CACHE_DIR", str(cache))
            built_index = GateIndex.open(get_snapshot(project))
            assert built_index.built_now
        snapshot_module._found.clear()
        got, expected = _index_content(index), _index_content(built_index)
        assert got[0] == expected[0], "the subjects' lines differ from a built index's"
        assert got[1:] == expected[1:], "the names differ from a built index's"


def test_triples_removed_and_changed_by_hand_give_what_a_build_gives(tmp_path, monkeypatch, extend_any_size):
    """Delete and rederive: what a removed triple helped infer goes, unless it still follows otherwise."""
    from kgtool.gate_index import GateIndex

    project = copy_project(tmp_path / "project")
    old = get_snapshot(project)
    GateIndex.open(old)
    places = project.data_dir / "places.ttl"
    almaty, kazakhstan = "<https://w3id.org/kzcn/id/place/almaty>", "<https://w3id.org/kzcn/id/place/kazakhstan>"
    located = f"{almaty} <https://w3id.org/kzcn/ontology#locatedIn> {kazakhstan} .\n"
    party_to = ("<https://w3id.org/kzcn/id/place/xinjiang> <https://w3id.org/kzcn/ontology#partyTo> <https://w3id.org/"
                "kzcn/id/agreement/1989-07-programme-of-scientific-and-technical-cooperation-1989-1993> .\n")
    assert party_to in old.inferred_file.read_text(encoding="utf-8")
    reaching = [line for line in old.inferred_file.read_text(encoding="utf-8").splitlines(keepends=True)
                if "#locatedIn>" in line and line.endswith(f"{kazakhstan} .\n")]
    assert len(reaching) > 10, "organisations in Almaty should be inferred to be in Kazakhstan"
    # the link in the middle of the chains: the organisations in Almaty are no longer inferred to be in Kazakhstan
    _edit(places, "    kzcn:locatedIn place:kazakhstan ;\n    kzcn:note \"Capital of Kazakhstan in 1993",
          "    kzcn:note \"Capital of Kazakhstan in 1993")
    _edit(places, "place:almaty a kzcn:City ;", "place:almaty a kzcn:Place ;")  # a type changed
    _edit(places, '"Karaganda"@en', '"Qaraghandy"@en')  # a label changed
    (project.data_dir / "alliances.ttl").unlink()  # a file removed
    new = _next(project)
    assert new.meta["extended_from"] == old.key and new.meta["removed"] > 20
    assert located not in new.asserted_file.read_text(encoding="utf-8")
    kept = new.inferred_file.read_text(encoding="utf-8")
    assert sum(line in kept for line in reaching) < len(reaching) - 10
    index = GateIndex.open(new)
    assert not index.built_now, "the old index should have been extended, the removed lines taken out"
    _same_as_built(new, project, tmp_path / "full", monkeypatch, index)
    # and back, from that one: the link again, and a triple asserted that was inferred, then removed again
    _edit(places, "    kzcn:note \"Capital of Kazakhstan in 1993",
          "    kzcn:locatedIn place:kazakhstan ;\n    kzcn:note \"Capital of Kazakhstan in 1993")
    _edit(places, "place:almaty a kzcn:Place ;", "place:almaty a kzcn:City , kzcn:Place ;")
    with places.open("a", encoding="utf-8") as out:  # inferred as the inverse of the agreement's party
        out.write(f"\n{party_to}")
    newer = _next(project)
    assert newer.meta["extended_from"] == new.key
    assert located in newer.asserted_file.read_text(encoding="utf-8")
    _same_as_built(newer, project, tmp_path / "full-2", monkeypatch, GateIndex.open(newer))
    _edit(places, "place:almaty a kzcn:City , kzcn:Place ;", "place:almaty a kzcn:City ;")
    _edit(places, f"\n{party_to}", "")
    newest = _next(project)
    assert newest.meta["extended_from"] == newer.key
    place = f"{almaty} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <https://w3id.org/kzcn/ontology#Place> .\n"
    inferred = newest.inferred_file.read_text(encoding="utf-8")
    assert place in inferred, "a city is a place: inferred again"
    assert party_to in inferred, "the inverse of the agreement's party: inferred again"
    _same_as_built(newest, project, tmp_path / "full-3", monkeypatch, GateIndex.open(newest))


@pytest.mark.parametrize("written", ["before the snapshot", "in one edit"])
def test_a_triple_removed_from_one_file_but_written_in_another_stays(tmp_path, monkeypatch, extend_any_size,
                                                                     written):
    project = copy_project(tmp_path / "project")
    note = ('<https://w3id.org/kzcn/id/place/astana> <http://www.w3.org/2000/01/rdf-schema#comment> '
            '"twice"@en .\n')
    if written == "in one edit":  # the first snapshot counted no triple twice: the edit's diff must see it
        assert not get_snapshot(project).meta["repeats"]
    for name in ("places.ttl", "events.ttl"):
        with (project.data_dir / name).open("a", encoding="utf-8") as out:
            out.write("\n" + note)
    old = _next(project)
    assert old.meta["repeats"]
    _edit(project.data_dir / "places.ttl", note, "")
    new = _next(project)
    assert new.meta["extended_from"] == old.key and new.meta["removed"] == 0
    assert note in new.asserted_file.read_text(encoding="utf-8")
    _same_as_built(new, project, tmp_path / "full", monkeypatch)


def test_generated_data_with_triples_removed_and_added_extends_exactly(tmp_path, monkeypatch, extend_any_size):
    """A tenth of a generated 10,000-triple graph's data removed, its contribution added, in one edit."""
    import random

    from kgtool.gate_index import GateIndex

    project = _generated(tmp_path / "g")
    old = get_snapshot(project)
    GateIndex.open(old)
    chance = random.Random(5)
    removed = 0
    for path in sorted(project.data_dir.glob("*.ttl")):
        triples = [f"{t} .\n" for t in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE,
                                                 base_iri=path.resolve().as_uri())]
        kept = [line for line in triples if chance.random() > 0.1]
        removed += len(triples) - len(kept)
        path.write_text("".join(kept), encoding="utf-8")
    shutil.copy(tmp_path / "g" / "contribution.ttl", project.data_dir / "zz-contribution.ttl")
    new = _next(project)
    assert new.meta["extended_from"] == old.key and new.meta["removed"] == removed > 500
    index = GateIndex.open(new)
    assert not index.built_now
    _same_as_built(new, project, tmp_path / "full", monkeypatch, index)


_COMMENT = '<https://w3id.org/kzcn/id/place/astana> <http://www.w3.org/2000/01/rdf-schema#comment> "x"@en .\n'
_VALUE = "<urn:kgtool:a> <urn:kgtool:value> "
_XSD = "http://www.w3.org/2001/XMLSchema#"
_PREFIXES = ("@prefix kzcn: <https://w3id.org/kzcn/ontology#> .\n@prefix dcterms: <http://purl.org/dc/terms/> .\n"
             "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n"
             "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n")
_EVENT = "<https://w3id.org/kzcn/id/event/gate-test-reception>"
_NOON = f'"2019-06-01T18:00:00+00:00"^^<{_XSD}dateTime>'


@pytest.mark.parametrize(("before", "after"), [
    ("<urn:kgtool:a> <http://www.w3.org/2002/07/owl#sameAs> <urn:kgtool:b> .\n" + _COMMENT,
     "<urn:kgtool:a> <http://www.w3.org/2002/07/owl#sameAs> <urn:kgtool:b> .\n"),
    # one value in the store: removing either takes the other along
    (f'{_VALUE} "1"^^<{_XSD}positiveInteger> , "1"^^<{_XSD}integer> .\n', f'{_VALUE} "1"^^<{_XSD}integer> .\n'),
    (f'{_VALUE} "1"^^<{_XSD}positiveInteger> , "1"^^<{_XSD}integer> .\n', f'{_VALUE} "1"^^<{_XSD}positiveInteger> .\n'),
    (f'{_VALUE} "1"^^<{_XSD}positiveInteger> , "01"^^<{_XSD}integer> .\n', f'{_VALUE} "01"^^<{_XSD}integer> .\n'),
    # the store gives "…Z" back, which the reasoning would take for another value than the file's
    (f'{_EVENT} kzcn:date {_NOON} .\n{_EVENT} dcterms:date {_NOON} .\n', f'{_EVENT} kzcn:date {_NOON} .\n'),
    ("<urn:kgtool:c> <http://www.w3.org/2000/01/rdf-schema#subClassOf> <https://w3id.org/kzcn/ontology#Place> .\n"
     + _COMMENT, _COMMENT),
], ids=["the data holds owl:sameAs", "two values kept as one, the derived type stays",
        "two values kept as one, the integer stays", "two values kept as one, one not canonical",
        "a date-time not in the store's form", "an axiom removed"])
def test_what_a_removal_builds_for(tmp_path, monkeypatch, extend_any_size, before, after):
    project = copy_project(tmp_path / "project")
    extra = project.data_dir / "zz-extra.ttl"
    extra.write_text(_PREFIXES + before, encoding="utf-8")
    old = get_snapshot(project)
    extra.write_text(_PREFIXES + after, encoding="utf-8")
    new = _next(project)
    assert new.key != old.key and "extended_from" not in new.meta
    _same_as_built(new, project, tmp_path / "full", monkeypatch)


def test_a_value_beside_another_of_the_same_property_is_removed_exactly(tmp_path, monkeypatch, extend_any_size):
    """Two values the store keeps apart: the extension goes ahead (it used to build for any typed value
    beside another) and gives what a build gives."""
    project = copy_project(tmp_path / "project")
    extra = project.data_dir / "zz-extra.ttl"
    extra.write_text(f'{_VALUE} "1"^^<{_XSD}positiveInteger> , "2"^^<{_XSD}integer> , "2019"^^<{_XSD}gYear> .\n',
                     encoding="utf-8")
    old = get_snapshot(project)
    assert not old.meta["collapses"] and not old.meta["inexact"]
    extra.write_text(f'{_VALUE} "1"^^<{_XSD}positiveInteger> .\n', encoding="utf-8")
    new = _next(project)
    assert new.meta["extended_from"] == old.key
    _same_as_built(new, project, tmp_path / "full", monkeypatch)


def _pair_made_then_one_removed(tmp_path, monkeypatch, before: str, pair: str, after: str) -> None:
    """Data ``before``, then ``pair`` (two values the store keeps as one), then ``after`` (one of them
    taken out): both changes build, and equal a build."""
    project = copy_project(tmp_path / "project")
    extra = project.data_dir / "zz-extra.ttl"
    extra.write_text(before, encoding="utf-8")
    get_snapshot(project)
    extra.write_text(pair, encoding="utf-8")
    new = _next(project)
    assert "extended_from" not in new.meta and new.meta["collapses"]
    _same_as_built(new, project, tmp_path / "full", monkeypatch)
    extra.write_text(after, encoding="utf-8")
    newer = _next(project)
    assert "extended_from" not in newer.meta and not newer.meta["collapses"]
    _same_as_built(newer, project, tmp_path / "full-2", monkeypatch)


def test_a_change_that_would_make_two_values_one_in_the_store_builds(tmp_path, monkeypatch, extend_any_size):
    _pair_made_then_one_removed(tmp_path, monkeypatch, f'{_VALUE} "1"^^<{_XSD}positiveInteger> .\n',
                                f'{_VALUE} "1"^^<{_XSD}positiveInteger> , "1"^^<{_XSD}integer> .\n',
                                f'{_VALUE} "1"^^<{_XSD}integer> .\n')


@pytest.mark.parametrize(("first", "second"), [(f'"1"^^<{_XSD}integer>', f'"1"^^<{_XSD}positiveInteger>'),
                                              (f'"1"^^<{_XSD}positiveInteger>', f'"1"^^<{_XSD}integer>')])
def test_two_values_made_one_by_a_subproperty_inference_build(tmp_path, monkeypatch, extend_any_size, first, second):
    """kzcn:date is a subproperty of dcterms:date: a kzcn:date value infers a dcterms:date one, which the
    store keeps as the dcterms:date value already written in another form. The reasoning read the store
    by value, took the inference as known, and a later removal took the written value out of the store."""
    written = f"{_PREFIXES}{_EVENT} dcterms:date {first} .\n"
    inferring = f"{_PREFIXES}{_EVENT} kzcn:date {second} .\n"
    _pair_made_then_one_removed(tmp_path, monkeypatch, written, written + inferring.removeprefix(_PREFIXES), inferring)


_FIGURE = "<https://w3id.org/kzcn/id/figure/gate-test-one>"
_CONCEPTS = ("<https://w3id.org/kzcn/id/concept/gate-test-a>", "<https://w3id.org/kzcn/id/concept/gate-test-b>")


def test_a_functional_property_with_two_values_means_builds_from_then_on(tmp_path, monkeypatch, extend_any_size):
    """kzcn:measure is functional: two measures make the two concepts one individual, which the store's
    inferences leave out (as owlrl's are) but whose copies of each other's triples they hold."""
    project = copy_project(tmp_path / "project")
    extra = project.data_dir / "zz-extra.ttl"
    a, b = _CONCEPTS
    concepts = (f'{a} a skos:Concept ; skos:prefLabel "A"@en .\n'
                f'{b} a skos:Concept ; skos:prefLabel "B"@en .\n')
    extra.write_text(_PREFIXES + concepts + f"{_FIGURE} kzcn:measure {a} .\n", encoding="utf-8")
    old = get_snapshot(project)
    assert not old.meta["same_as"]
    extra.write_text(_PREFIXES + concepts + f"{_FIGURE} kzcn:measure {a} , {b} .\n", encoding="utf-8")
    new = _next(project)
    assert "extended_from" not in new.meta and new.meta["same_as"]
    assert f'{a} <http://www.w3.org/2004/02/skos/core#prefLabel> "B"@en .' in new.inferred_file.read_text()
    _same_as_built(new, project, tmp_path / "full", monkeypatch)
    for number, edit in enumerate([concepts.replace(' ; skos:prefLabel "B"@en', ""),  # a copy to take back
                                   concepts + f'{b} rdfs:comment "new"@en .\n']):  # a copy to make
        extra.write_text(_PREFIXES + edit + f"{_FIGURE} kzcn:measure {a} , {b} .\n", encoding="utf-8")
        newer = _next(project)
        assert "extended_from" not in newer.meta
        _same_as_built(newer, project, tmp_path / f"full-{number}", monkeypatch)


def test_an_ontology_edit_that_only_annotates_extends_the_snapshot(tmp_path, monkeypatch, extend_any_size):
    """A class's label and definition edited, a comment added: no rule changes, so no build; data files
    with blank nodes that are still there (named anew by every parse) do not stop it either."""
    project = copy_project(tmp_path / "project")
    (project.data_dir / "zz-blank.ttl").write_text(
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        "<https://w3id.org/kzcn/id/place/astana> rdfs:seeAlso [ rdfs:label \"a note\"@en ] ;\n"
        "    rdfs:comment \"first\"@en .\n", encoding="utf-8")
    old = get_snapshot(project)
    _edit(project.ontology_file, '"geographic place"@en', '"geographical place"@en')
    _edit(project.ontology_file, '"A location on Earth: a country',
          '"A location on Earth (edited): a country')
    with project.ontology_file.open("a", encoding="utf-8") as out:
        out.write("\n# a comment changes the file's digest, not its triples\n")
    _edit(project.data_dir / "zz-blank.ttl", '"first"@en', '"second"@en')
    new = _next(project)
    assert new.meta["extended_from"] == old.key and new.meta["removed"] == 3
    assert '"geographical place"@en' in new.asserted_file.read_text(encoding="utf-8")
    _same_as_built(new, project, tmp_path / "full", monkeypatch)


@pytest.mark.parametrize("change", ["an axiom added to the ontology", "a blank node added",
                                    "no copy of the inputs"])
def test_what_an_extension_from_the_cache_refuses(tmp_path, extend_any_size, change):
    project = copy_project(tmp_path / "project")
    old = get_snapshot(project)
    events = project.data_dir / "events.ttl"
    _append(events, CONTRIBUTIONS / "valid-concert.ttl")
    if change == "an axiom added to the ontology":
        _edit(project.ontology_file, "kzcn:Place a owl:Class ;\n    rdfs:subClassOf schema:Place ;",
              "kzcn:Place a owl:Class ;\n    rdfs:subClassOf schema:Place , kzcn:Actor ;")
    elif change == "a blank node added":
        with events.open("a", encoding="utf-8") as out:
            out.write('\n<https://w3id.org/kzcn/id/place/almaty> <http://www.w3.org/2000/01/rdf-schema#seeAlso> '
                      '[ <http://www.w3.org/2000/01/rdf-schema#label> "x"@en ] .\n')
    else:
        shutil.rmtree(old.path / "sources")
    new = _next(project)
    assert new.key != old.key and "extended_from" not in new.meta


def test_small_inputs_are_built_not_extended(tmp_path):
    project = copy_project(tmp_path / "project")
    get_snapshot(project)
    _append(project.data_dir / "events.ttl", CONTRIBUTIONS / "valid-concert.ttl")
    assert "extended_from" not in _next(project).meta


def test_a_cached_snapshot_that_cannot_be_read_means_a_build(tmp_path, monkeypatch, extend_any_size):
    project = copy_project(tmp_path / "project")
    old = get_snapshot(project)
    for table in (old.path / "store").glob("*.sst"):  # damaged by a disk error, say
        table.write_bytes(b"not a table")
    _append(project.data_dir / "events.ttl", CONTRIBUTIONS / "valid-concert.ttl")
    new = _next(project)
    assert "extended_from" not in new.meta
    made, built = content(new.path), content(full_build(project, tmp_path / "full", monkeypatch))
    assert all(made[part] == built[part] for part in built)


def test_the_index_of_an_edit_is_made_by_the_check_and_only_from_the_very_parent(tmp_path, monkeypatch,
                                                                                 extend_any_size):
    """A query after an edit by hand makes no gate index (the check that needs it does, from the parent's);
    a parent rebuilt since (the same key, its lines in another order) is not used."""
    from kgtool import closure, gate_index
    from kgtool.gate_index import GateIndex

    project = copy_project(tmp_path / "project")
    places = project.data_dir / "places.ttl"
    original = places.read_text(encoding="utf-8")
    old = get_snapshot(project)
    GateIndex.open(old)
    _edit(places, '"Karaganda"@en', '"Qaraghandy"@en')
    new = _next(project)
    assert new.meta["extended_from"] == old.key
    assert not (closure.cache_dir() / gate_index.entry_name(new)).exists(), "a query made the gate's index"
    for name in (old.path.name, gate_index.entry_name(old)):  # the parent pruned, then built again
        shutil.rmtree(closure.cache_dir() / name)
    places.write_text(original, encoding="utf-8")
    with monkeypatch.context() as patch:
        patch.setattr(snapshot_module, "EXTEND_MIN_BYTES", 1 << 62)  # built, not made from the edit's snapshot
        rebuilt = _next(project)
    assert rebuilt.key == old.key and "extended_from" not in rebuilt.meta
    assert GateIndex.open(rebuilt).built_now
    _edit(places, '"Karaganda"@en', '"Qaraghandy"@en')
    assert _next(project).path == new.path
    index = GateIndex.open(new)
    assert index.built_now, "made from a parent whose asserted.nt is not the one the edit was made from"
    _same_as_built(new, project, tmp_path / "full", monkeypatch, index)


def test_a_changed_blank_node_means_a_build(tmp_path, monkeypatch, extend_any_size):
    """As many statements with blank nodes as before, but not the same graph: compared canonically."""
    project = copy_project(tmp_path / "project")
    blank = project.data_dir / "zz-blank.ttl"
    blank.write_text("@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
                     "<https://w3id.org/kzcn/id/place/astana> rdfs:seeAlso [ rdfs:label \"a note\"@en ] .\n",
                     encoding="utf-8")
    old = get_snapshot(project)
    _edit(blank, '"a note"@en', '"another note"@en')
    new = _next(project)
    assert new.key != old.key and "extended_from" not in new.meta
    _same_as_built(new, project, tmp_path / "full", monkeypatch)


# ---------------------------------------------------------------- relative IRIs: a snapshot of one checkout only
RELATIVE = "<thing> <http://www.w3.org/2000/01/rdf-schema#label> \"A thing\"@en .\n"


def _things(snapshot) -> set[str]:
    store = ox.Store.read_only(str(snapshot.store_dir))
    label = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
    return {q.subject.value for q in store.quads_for_pattern(None, label, ox.Literal("A thing", language="en"))}


def test_checkouts_without_relative_iris_share_one_snapshot(tmp_path):
    first, second = copy_project(tmp_path / "a"), copy_project(tmp_path / "b")
    snapshot = get_snapshot(first)
    assert "location" not in snapshot.meta
    assert _next(second).path == snapshot.path


def test_relative_iris_resolve_in_each_checkout_apart(tmp_path):
    """The same files in two folders: `<thing>` is a file: IRI of each folder, so each has its own snapshot."""
    first, second = copy_project(tmp_path / "a"), copy_project(tmp_path / "b")
    for project in (first, second):
        (project.data_dir / "zz-relative.ttl").write_text(RELATIVE, encoding="utf-8")
    a = get_snapshot(first)
    b = _next(second)
    assert a.path != b.path and a.key == snapshot_key(first) != b.key
    assert _things(a) == {(first.data_dir / "thing").as_uri()}
    assert _things(b) == {(second.data_dir / "thing").as_uri()}
    assert b.meta["location"] == second.root.as_uri()
    assert _next(first).path == a.path and _next(second).path == b.path  # found again, not built
    # what users see, on both engines
    for project in (first, second):
        for engine in ("oxigraph", "rdflib"):
            snapshot_module._found.clear()
            out = run_cli("--project", str(project.root), "sparql", "-f", "csv", "--engine", engine, "-",
                          input='SELECT ?s WHERE { ?s rdfs:label "A thing"@en }')
            assert out.exit_code == 0, out.output
            assert out.output.split() == ["s", (project.data_dir / "thing").as_uri()], engine


def test_an_edit_is_not_made_from_another_checkouts_snapshot(tmp_path, monkeypatch, extend_any_size):
    """Diffing the edited files reads `<thing>` as this folder's: another checkout's snapshot cannot be extended."""
    first = copy_project(tmp_path / "a")
    (first.data_dir / "zz-relative.ttl").write_text(RELATIVE, encoding="utf-8")
    a = get_snapshot(first)
    second = copy_project(tmp_path / "b")
    (second.data_dir / "zz-relative.ttl").write_text(RELATIVE + "<other> a <Thing> .\n", encoding="utf-8")
    b = _next(second)
    assert "extended_from" not in b.meta and b.meta["location"] == second.root.as_uri()
    assert _things(b) == {(second.data_dir / "thing").as_uri()}
    # its own snapshot is extended, and stays this checkout's
    _edit(second.data_dir / "zz-relative.ttl", "<other> a <Thing> .", "<other> a <Other> .")
    c = _next(second)
    assert c.meta["extended_from"] == b.key and c.meta["location"] == second.root.as_uri()
    _same_as_built(c, second, tmp_path / "full", monkeypatch)
    assert _next(first).path == a.path


def test_an_edit_that_adds_a_relative_iri_records_the_location(tmp_path, monkeypatch, extend_any_size):
    project = copy_project(tmp_path / "a")
    old = get_snapshot(project)
    (project.data_dir / "zz-relative.ttl").write_text(RELATIVE, encoding="utf-8")
    new = _next(project)
    assert new.meta["extended_from"] == old.key and new.meta["location"] == project.root.as_uri()
    other = copy_project(tmp_path / "b")
    (other.data_dir / "zz-relative.ttl").write_text(RELATIVE, encoding="utf-8")
    assert _things(_next(other)) == {(other.data_dir / "thing").as_uri()}


# ---------------------------------------------------------------- random edits, each compared with a build
_TWINS = [(f'"7"^^<{_XSD}positiveInteger>', f'"7"^^<{_XSD}integer>'),  # one value in the store
          (f'"1.5"^^<{_XSD}decimal>', f'"1.50"^^<{_XSD}decimal>'),  # the second not in the store's form
          (f'"2019"^^<{_XSD}gYear>', f'"2020"^^<{_XSD}gYear>'),  # two values
          ('"a"@en', '"a"@en-GB')]


def _random_edit(chance, files: list[Path], log: list[str]) -> None:
    """One edit of the kinds people make, on N-Triples lines: lines removed, a label changed, a type
    changed, a line copied into another file or moved there."""
    path = chance.choice(files)
    lines = [line for line in path.read_text(encoding="utf-8").splitlines(keepends=True) if line.strip()]
    kind = chance.choice(["remove", "label", "type", "copy", "move"])
    if kind == "remove":
        for _ in range(chance.randint(1, 20)):
            if lines:
                lines.pop(chance.randrange(len(lines)))
    elif kind == "label":
        labelled = [n for n, line in enumerate(lines) if "rdf-schema#label>" in line]
        if labelled:
            n = chance.choice(labelled)
            lines[n] = lines[n].replace('"@', ' (edited)"@', 1) if '"@' in lines[n] else lines[n]
    elif kind == "type":
        typed = [n for n, line in enumerate(lines) if "22-rdf-syntax-ns#type>" in line and "kzcn/ontology#" in line]
        if typed:
            n = chance.choice(typed)
            lines[n] = lines[n].rsplit(" ", 2)[0] + " <https://w3id.org/kzcn/ontology#Organization> .\n"
    elif lines:
        n = chance.randrange(len(lines))
        other = chance.choice(files)
        with other.open("a", encoding="utf-8") as out:
            out.write(lines[n])
        if kind == "move" and other != path:
            lines.pop(n)
    path.write_text("".join(lines), encoding="utf-8")
    log.append(f"{kind} in {path.name}")


def test_random_edits_give_what_a_build_gives(tmp_path, monkeypatch, extend_any_size):
    """A seeded run of hand edits on a generated 10,000-triple graph (the data as N-Triples lines), each
    snapshot compared with a full build: extended where it can be, built where it cannot, the same
    either way. What a fuzzer on a 200,000-triple project found is among the kinds of edits."""
    import random

    project = _generated(tmp_path / "g")
    for path in sorted(project.data_dir.glob("*.ttl")):  # as lines, so that edits are line edits
        triples = ox.parse(path=str(path), format=ox.RdfFormat.TURTLE, base_iri=path.resolve().as_uri())
        path.write_text("".join(f"{t} .\n" for t in triples), encoding="utf-8")
    files = sorted(project.data_dir.glob("*.ttl"))
    get_snapshot(project)
    chance, log, extended = random.Random(11), [], 0
    for number in range(2 * len(_TWINS)):
        for _ in range(chance.randint(0, 2)):
            _random_edit(chance, files, log)
        first, second = _TWINS[number // 2]
        twins = project.data_dir / "zz-twins.ttl"
        if number % 2 == 0:  # two values of one subject and property, then the first taken out
            subject = chance.choice(chance.choice(files).read_text(encoding="utf-8").splitlines()).split(" ", 1)[0]
            twins.write_text(f"{subject} <urn:kgtool:value> {first} .\n{subject} <urn:kgtool:value> {second} .\n",
                             encoding="utf-8")
        else:
            twins.write_text(twins.read_text(encoding="utf-8").split("\n", 1)[1], encoding="utf-8")
        log.append(f"twins {first} {second}" if number % 2 == 0 else "the first twin removed")
        snapshot = _next(project)
        extended += "extended_from" in snapshot.meta
        try:
            _same_as_built(snapshot, project, tmp_path / f"full-{number}", monkeypatch)
        except AssertionError as exc:
            raise AssertionError(f"after {log}: {exc}") from None
    assert 2 <= extended < 2 * len(_TWINS), log  # both ways were taken
