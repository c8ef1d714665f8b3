"""The content-addressed snapshot cache: rebuilt when an input changes, never stale, safe when two
processes start at once, and the cold query path imports neither rdflib, pyshacl nor owlrl."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from helpers import REPO, copy_project
from kgtool import closure
from kgtool.project import find_project
from kgtool.run import open_store
from kgtool.snapshot import get_snapshot

ASK_NEW = "ASK { <https://w3id.org/kzcn/id/place/test-town> a <https://w3id.org/kzcn/ontology#Place> }"
NEW_TRIPLE = ("\n<https://w3id.org/kzcn/id/place/test-town> a <https://w3id.org/kzcn/ontology#City> ;\n"
              '    <http://www.w3.org/2000/01/rdf-schema#label> "Test town"@en .\n')


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("KGTOOL_CACHE_DIR", str(folder))
    return folder


@pytest.fixture
def project(tmp_path):
    return find_project(copy_project(tmp_path / "project"))


def snapshots(cache) -> list:
    return sorted(p.name for p in cache.glob("snapshot-*") if p.is_dir())


def test_snapshot_is_built_once_and_reused(cache, project):
    first = get_snapshot(project)
    assert first.meta["asserted"] > 2000 and first.meta["inferred"] > 1000
    assert first.meta["reasoner"] == "kgtool.rules"
    assert get_snapshot(project).path == first.path
    assert snapshots(cache) == [first.path.name]
    assert not [p for p in cache.iterdir() if p.name.endswith(".tmp")], "a build folder was left behind"


def test_the_store_holds_asserted_and_inferred_triples_and_the_asserted_store_comes_when_asked(cache, project):
    snapshot = get_snapshot(project)
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    inferred = open_store(project).query(count).rows[0][0].value
    assert int(inferred) == snapshot.meta["asserted"] + snapshot.meta["inferred"]
    assert not snapshot.asserted_store_dir.exists(), "built before anyone asked for it"
    assert int(open_store(project, inference=False).query(count).rows[0][0].value) == snapshot.meta["asserted"]
    built = snapshot.asserted_store_dir.stat().st_mtime_ns
    open_store(project, inference=False)
    assert snapshot.asserted_store_dir.stat().st_mtime_ns == built, "built twice"
    assert not [p for p in snapshot.path.iterdir() if p.name.endswith(".tmp")], "a build folder was left behind"


def test_a_failed_store_load_is_redone_from_the_files(cache, project, monkeypatch):
    from kgtool import snapshot as snapshot_module

    def fail(*_args, **_kwargs):
        raise RuntimeError("disk trouble")

    monkeypatch.setattr(snapshot_module, "_load_sources", fail)
    snapshot = get_snapshot(project)
    count = open_store(project).query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }").rows[0][0].value
    assert int(count) == snapshot.meta["asserted"] + snapshot.meta["inferred"]


def test_a_cache_that_cannot_take_the_asserted_store_still_answers_without_inference(cache, project, monkeypatch):
    import tempfile

    snapshot = get_snapshot(project)

    def refuse(*_args, **_kwargs):
        raise PermissionError("read-only cache")

    monkeypatch.setattr(tempfile, "mkdtemp", refuse)  # what a read-only cache does (root ignores chmod)
    almaty_is_a_place = "ASK { <https://w3id.org/kzcn/id/place/almaty> a <https://w3id.org/kzcn/ontology#Place> }"
    assert open_store(project, inference=False).query(almaty_is_a_place).value is False  # asserted: a City
    assert open_store(project).query(almaty_is_a_place).value is True
    assert not snapshot.asserted_store_dir.exists()


@pytest.mark.parametrize("engine", ["oxigraph", "rdflib"])
def test_a_changed_data_file_gives_a_new_snapshot_and_new_answers(cache, project, engine):
    assert open_store(project, engine=engine).query(ASK_NEW).value is False
    before = get_snapshot(project)
    places = project.data_dir / "places.ttl"
    places.write_text(places.read_text(encoding="utf-8") + NEW_TRIPLE, encoding="utf-8")
    after = get_snapshot(project)
    assert after.path != before.path
    assert open_store(project, engine=engine).query(ASK_NEW).value is True  # inferred: City ⊑ Place
    assert open_store(project, inference=False, engine=engine).query(ASK_NEW).value is False


def test_an_edit_that_keeps_size_and_mtime_is_still_seen(cache, project):
    places = project.data_dir / "places.ttl"
    key = get_snapshot(project).key
    stat = places.stat()
    text = places.read_text(encoding="utf-8")
    places.write_text(text.replace('"Almaty"@en', '"Almaty"@de', 1), encoding="utf-8")
    os.utime(places, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert places.stat().st_size == stat.st_size and places.stat().st_mtime_ns == stat.st_mtime_ns
    assert get_snapshot(project).key != key


def test_large_files_use_the_digest_memo_but_never_a_stale_one(cache, tmp_path, monkeypatch):
    monkeypatch.setattr(closure, "SETTLED_NS", 0)  # remember digests at once (normally: after 2 s)
    big = tmp_path / "big.ttl"
    big.write_bytes(b"#" * (closure.MEMO_MIN_BYTES + 10))
    first = closure.inputs_key([big])
    assert str(big.resolve()) in (cache / "file-digests.json").read_text()
    assert closure.inputs_key([big]) == first
    stat = big.stat()
    big.write_bytes(b"!" + b"#" * (closure.MEMO_MIN_BYTES + 9))
    os.utime(big, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same size and mtime; ctime moved
    assert closure.inputs_key([big]) != first


def test_an_ontology_change_rebuilds_too(cache, project):
    before = get_snapshot(project).key
    with project.ontology_file.open("a", encoding="utf-8") as handle:
        handle.write("\n# a comment changes the bytes, so the key\n")
    assert get_snapshot(project).key != before


def test_a_damaged_entry_without_meta_is_rebuilt(cache, project):
    snap = get_snapshot(project)
    (snap.path / "meta.json").unlink()
    rebuilt = get_snapshot(project)
    assert rebuilt.path == snap.path and (rebuilt.path / "meta.json").is_file()


@pytest.mark.parametrize("damaged", ["asserted.nt", "inferred.nt", "exact-literals.nt"])
def test_a_truncated_file_is_rebuilt_not_trusted(cache, project, damaged):
    """A truncated asserted.nt gave a 6-triple export and, through the asserted store built from it, an
    empty --no-inference answer, with exit 0."""
    from kgtool import snapshot as snapshots_module

    snapshot = get_snapshot(project)
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    whole = snapshot.meta["asserted"] + snapshot.meta["inferred"]
    with open(snapshot.path / damaged, "r+b") as f:
        f.truncate(100)
    snapshots_module._found.clear()  # as a new process would start
    assert int(open_store(project).query(count).rows[0][0].value) == whole
    assert int(open_store(project, inference=False).query(count).rows[0][0].value) == snapshot.meta["asserted"]
    assert snapshots_module.intact(get_snapshot(project).path)
    assert (get_snapshot(project).path / damaged).stat().st_size > 100  # what the rdflib engine reads


def test_a_damaged_store_answers_from_the_files(cache, project):
    snapshot = get_snapshot(project)
    tables = list(snapshot.store_dir.glob("*.sst"))
    assert tables
    for table in tables:
        table.write_bytes(os.urandom(5000))
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    whole = snapshot.meta["asserted"] + snapshot.meta["inferred"]
    assert int(open_store(project).query(count).rows[0][0].value) == whole


def _kgtool(*args: str, cache, cwd=REPO, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "KGTOOL_CACHE_DIR": str(cache)}
    env.pop("KGTOOL_ENGINE", None)
    return subprocess.Popen([sys.executable, *args], cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kwargs)


def test_two_processes_starting_at_once_both_succeed(cache, project):
    runs = [_kgtool("-m", "kgtool", "--project", str(project.root), "query", "ci-partners", "-f", "csv",
                    cache=cache) for _ in range(2)]
    outputs = [run.communicate(timeout=120) for run in runs]
    for run, (out, err) in zip(runs, outputs, strict=True):
        assert run.returncode == 0, err
        assert len(out.strip().splitlines()) == 6
    assert outputs[0][0] == outputs[1][0]
    assert len(snapshots(cache)) == 1
    assert not [p for p in cache.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("how", [[], ["--no-cache"], ["-o", "{tmp}/out.csv"]],
                         ids=["answer-kept", "evaluated", "answer-kept-to-a-file"])
def test_the_warm_query_path_imports_neither_rdflib_pyshacl_nor_owlrl(cache, how, tmp_path):
    warm = _kgtool("-m", "kgtool", "query", "ci-partners", cache=cache)
    assert warm.communicate(timeout=120)[1] == "" and warm.returncode == 0
    how = [arg.format(tmp=tmp_path) for arg in how]
    run = _kgtool("-X", "importtime", "-m", "kgtool", "query", "ci-partners", *how, cache=cache)
    out, err = run.communicate(timeout=60)
    assert run.returncode == 0
    assert "(5 rows)" in (out if "-o" not in how else (tmp_path / "out.csv").read_text(encoding="utf-8") + "(5 rows)")
    imported = {line.rsplit("|", 1)[-1].strip() for line in err.splitlines()
                if line.startswith("import time:")}
    assert "kgtool.snapshot" in imported, "the importtime output was not captured"
    # a kept answer needs no store (pyoxigraph's import alone costs ~7 ms)
    assert ("pyoxigraph" in imported) == ("--no-cache" in how)
    heavy = sorted(m for m in imported if m.split(".")[0] in ("rdflib", "pyshacl", "owlrl", "yaml"))
    assert not heavy, f"the cold query path imported {heavy}"
    # what only writing or the other output formats need: each costs 1-4 ms of every query's start (and
    # dataclasses: defining one costs ~1 ms, so the query path's records are NamedTuples and slotted classes);
    # binding and safety: a query without parameters whose safety its cached header records needs neither
    unneeded = sorted(imported & {"shutil", "csv", "bz2", "lzma", "hashlib", "subprocess", "logging",
                                  "dataclasses", "kgtool.binding", "kgtool.safety",
                                  *(() if "-o" in how else ("tempfile",))})
    assert not unneeded, f"the cold query path imported {unneeded}"


def test_invalid_turtle_is_an_input_error_naming_file_and_line(cache, project):
    from kgtool.errors import InputError

    broken = project.data_dir / "places.ttl"
    broken.write_text(broken.read_text(encoding="utf-8") + "\nplace:oops a kzcn:City , .\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"places\.ttl:\d+:\d+: invalid Turtle"):
        get_snapshot(project)
    assert snapshots(cache) == [], "a failed build was published"


def test_data_changed_during_a_build_is_never_published_under_the_old_key(cache, project, monkeypatch):
    """The build reads the files after hashing them: a merge landing in between had its data cached under
    the old data's key, and served after the merge was reverted."""
    from kgtool import snapshot as snapshot_module

    places = project.data_dir / "places.ttl"
    original = places.read_bytes()
    real_build, calls = snapshot_module.build, []

    def build_during_a_merge(proj, folder, key, *rest):
        calls.append(key)
        if len(calls) == 1:  # the merge lands while the first build reads the files
            places.write_bytes(original + b'\n<https://w3id.org/kzcn/id/place/almaty> '
                               b'<http://www.w3.org/2004/02/skos/core#altLabel> "Merged Meanwhile"@en .\n')
        return real_build(proj, folder, key, *rest)

    monkeypatch.setattr(snapshot_module, "build", build_during_a_merge)
    snapshot_module._found.clear()
    snap = get_snapshot(project)
    assert len(calls) == 2 and calls[0] != calls[1], "the first build is discarded, the second one kept"
    assert b"Merged Meanwhile" in snap.asserted_file.read_bytes()
    assert snapshots(cache) == [f"snapshot-{calls[1][:40]}"]
    places.write_bytes(original)  # the merge is reverted: the old key has nothing cached, so nothing stale
    snapshot_module._found.clear()
    assert b"Merged Meanwhile" not in get_snapshot(project).asserted_file.read_bytes()


def test_the_code_stamp_changes_with_any_write_of_the_code_and_only_then(tmp_path, monkeypatch):
    """What query answers and parsed headers are filed under (closure.code_stamp): a rewrite of a module
    with the same bytes, size and modification time still changes it (its ctime), so no kept entry
    outlives the code that made it."""
    import time

    module = tmp_path / "queries.py"
    module.write_text("X = 1\n")
    monkeypatch.setattr(closure, "__file__", str(tmp_path / "closure.py"))
    first = closure.code_stamp("queries")
    assert closure.code_stamp("queries") == first
    before = module.stat()
    time.sleep(0.01)
    module.write_text("X = 1\n")
    os.utime(module, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert closure.code_stamp("queries") != first


def test_the_store_version_in_the_snapshot_key_is_pyoxigraphs_read_without_importing_it(tmp_path, monkeypatch):
    import pyoxigraph

    from kgtool.snapshot import store_version

    assert store_version() == pyoxigraph.__version__
    (tmp_path / "pyoxigraph").mkdir()  # a package found first whose version no dist-info names: ask the module
    monkeypatch.syspath_prepend(str(tmp_path))
    assert store_version() == pyoxigraph.__version__
    (tmp_path / "pyoxigraph-9.9.9.dist-info").mkdir()
    assert store_version() == "9.9.9", "the version of the package an import would find"
