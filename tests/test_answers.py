"""Answers kept on disk (kgtool.answers): a repeated query is answered without the store, never stale."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from helpers import REPO, copy_project, run_cli
from kgtool import answers, run
from kgtool.errors import QueryError
from kgtool.project import find_project

COUNT_CIS = "SELECT (COUNT(DISTINCT ?ci) AS ?n) WHERE { ?ci a kzcn:ConfuciusInstitute }\n"


@pytest.fixture()
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache of this test's own, so that what it finds kept, it kept."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("KGTOOL_CACHE_DIR", str(folder))
    return folder


def refuse_store(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make evaluating impossible: what still answers, answers from the kept answers."""

    def refuse(*_args, **_kwargs):
        raise QueryError("the store was opened")

    monkeypatch.setattr(run, "open_store", refuse)


def kept(cache: Path) -> list[Path]:
    folder = cache / answers.FOLDER
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


def test_a_repeated_query_is_answered_from_the_kept_answer_in_any_format(cache, monkeypatch):
    first = {fmt: run_cli("--project", str(REPO), "query", "ci-partners", "-f", fmt).stdout
             for fmt in ("csv", "json", "table")}
    assert len(kept(cache)) == 1
    refuse_store(monkeypatch)
    for fmt, output in first.items():
        assert run_cli("--project", str(REPO), "query", "ci-partners", "-f", fmt).stdout == output
    assert "Aktobe State University" in first["csv"]


def test_no_cache_evaluates_and_keeps_nothing(cache, monkeypatch):
    refuse_store(monkeypatch)
    result = run_cli("--project", str(REPO), "query", "ci-partners", "--no-cache", exit_code=1)
    assert "the store was opened" in result.stderr
    assert kept(cache) == []


def test_parameters_inference_and_query_text_are_part_of_the_answer(cache, tmp_path):
    for date in ("1994", "2015"):
        run_cli("--project", str(REPO), "query", "what-happened", "-p", "date", date)
    assert len(kept(cache)) == 2
    query = tmp_path / "count.rq"
    query.write_text(COUNT_CIS)
    inferred = run_cli("--project", str(REPO), "sparql", str(query), "-f", "csv").stdout
    asserted = run_cli("--project", str(REPO), "sparql", str(query), "-f", "csv", "--no-inference").stdout
    query.write_text(COUNT_CIS.replace("DISTINCT ", ""))
    run_cli("--project", str(REPO), "sparql", str(query), "-f", "csv")
    assert len(kept(cache)) == 5
    assert inferred.splitlines()[0] == asserted.splitlines()[0] == "n"


def test_an_edit_of_the_data_is_never_answered_from_before(cache, tmp_path):
    project = copy_project(tmp_path / "project")
    query = tmp_path / "count.rq"
    query.write_text(COUNT_CIS)
    before = int(run_cli("--project", str(project), "sparql", str(query), "-f", "csv").stdout.split()[1])
    with (project / "data" / "confucius-institutes.ttl").open("a", encoding="utf-8") as data:
        data.write('\norganization:confucius-institute-test a kzcn:ConfuciusInstitute ;\n'
                   '    rdfs:label "Test Confucius Institute"@en .\n')
    after = int(run_cli("--project", str(project), "sparql", str(query), "-f", "csv").stdout.split()[1])
    assert after == before + 1
    assert len(kept(cache)) == 2


@pytest.mark.parametrize("text, expect", [
    ("ASK { ?ci a kzcn:ConfuciusInstitute }", "true"),
    ("CONSTRUCT { ?ci a kzcn:ConfuciusInstitute } WHERE { ?ci a kzcn:ConfuciusInstitute }",
     "<https://w3id.org/kzcn/ontology#ConfuciusInstitute>"),
])
def test_ask_and_graph_answers_come_back_the_same(cache, tmp_path, monkeypatch, text, expect):
    query = tmp_path / "q.rq"
    query.write_text(text)
    fmt = "nt" if text.startswith("CONSTRUCT") else "json"
    computed = run_cli("--project", str(REPO), "sparql", str(query), "-f", fmt).stdout
    refuse_store(monkeypatch)
    assert run_cli("--project", str(REPO), "sparql", str(query), "-f", fmt).stdout == computed
    assert expect in computed


@pytest.mark.parametrize("text", [
    "SELECT (NOW() AS ?t) WHERE {}",
    "SELECT (rand ( ) AS ?r) WHERE {}",
    "SELECT (STRUUID() AS ?u) WHERE {}",
    "CONSTRUCT { ?ci kzcn:x [] } WHERE { ?ci a kzcn:ConfuciusInstitute BIND(BNODE() AS ?b) }",
])
def test_a_query_whose_value_changes_is_evaluated_every_time(cache, tmp_path, text):
    query = tmp_path / "q.rq"
    query.write_text(text)
    run_cli("--project", str(REPO), "sparql", str(query))
    assert kept(cache) == []


def test_the_rdflib_engine_is_always_evaluated(cache):
    run_cli("--project", str(REPO), "query", "ci-partners", "--engine", "rdflib")
    assert kept(cache) == []


def test_the_row_cap_applies_to_a_kept_answer(cache, monkeypatch):
    rows = len(run_cli("--project", str(REPO), "query", "ci-partners", "-f", "csv").stdout.splitlines()) - 1
    assert rows > 2
    refuse_store(monkeypatch)
    stderr = run_cli("--project", str(REPO), "query", "ci-partners", "--max-rows", "2", exit_code=1).stderr
    assert "--max-rows" in stderr


@pytest.mark.parametrize("damage", [b"", b"{not json", b'{"format": "answer-v0", "ask": true}',
                                    b'{"format": "answer-v1", "rows": [[["iri"]]]}', b"\xff\xfe\x00",
                                    b'{"format": "answer-v1", "variables": ["x"], "shapes": [], "terms": [], '
                                    b'"rows": [[3]]}',
                                    b'{"format": "answer-v1", "variables": ["x"], "shapes": [["iri", null, null]], '
                                    b'"terms": [7, 0], "rows": [[0]]}',
                                    b'{"format": "answer-v1", "variables": ["x"], "shapes": [["uri", null, null]], '
                                    b'"terms": ["x", 0], "rows": [[0]]}',
                                    b'{"format": "answer-v1", "variables": ["x"], "shapes": [["iri", null, null]], '
                                    b'"terms": ["x", 3], "rows": [[0]]}'])
def test_an_unreadable_answer_is_computed_again_and_rewritten(cache, damage):
    good = run_cli("--project", str(REPO), "query", "ci-partners", "-f", "csv").stdout
    [path] = kept(cache)
    path.write_bytes(damage)
    assert run_cli("--project", str(REPO), "query", "ci-partners", "-f", "csv").stdout == good
    assert json.loads(path.read_bytes())["format"] == answers.ANSWER_FORMAT


def test_the_folder_keeps_to_its_budget_the_least_recently_used_out_first(cache):
    folder = cache / answers.FOLDER
    folder.mkdir(parents=True)
    now = time.time()
    for age, name in enumerate(["newest", "middle", "oldest"]):
        (folder / f"{name}.json").write_bytes(b"x" * 100)
        os.utime(folder / f"{name}.json", (now - 60 * age, now - 60 * age))
    (folder / ".newest.json.abc.tmp").write_bytes(b"x" * 100)  # another process writing: left alone
    answers.trim(250)
    assert sorted(p.name for p in folder.iterdir()) == [".newest.json.abc.tmp", "middle.json", "newest.json"]


def test_an_answer_over_the_size_limit_is_not_kept(cache, monkeypatch):
    monkeypatch.setattr(answers, "MAX_ENTRY_BYTES", 100)
    run_cli("--project", str(REPO), "query", "ci-partners")
    assert kept(cache) == []


def test_cache_info_lists_the_answers_and_clear_removes_them(cache):
    run_cli("--project", str(REPO), "query", "ci-partners")
    assert "query answers" in run_cli("cache", "info").stdout
    run_cli("cache", "clear")
    assert kept(cache) == []


def test_a_canned_query_is_checked_once_and_an_unsafe_one_refused_every_time(cache, tmp_path, monkeypatch):
    """The safety check's verdict is cached with the query's header: a safe query is not checked again, an
    unsafe one is refused at every run (from the parsed file and from the cached header alike)."""
    from kgtool import safety

    project = copy_project(tmp_path / "project")
    (project / "queries" / "reach-out.rq").write_text(
        "#+ summary: a canned query that reaches the network\n"
        "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }\n", encoding="utf-8")
    for _ in range(2):
        stderr = run_cli("--project", str(project), "query", "reach-out", exit_code=2).stderr
        assert "SERVICE refused" in stderr
    run_cli("--project", str(project), "query", "eras")
    run.load_query(find_project(project), "eras")  # its cached header, as a new process reads it

    def checked(*_args, **_kwargs):
        raise AssertionError("checked again")

    monkeypatch.setattr(safety, "check_query_safety", checked)
    run_cli("--project", str(project), "query", "eras", "--no-cache")


def _app(**config):
    from kgtool.webapp import App, ServerConfig

    return App(find_project(REPO), ServerConfig(**config))


def _get(app, path: str):
    from kgtool.webapp import Request

    return app.handle(Request("GET", path, "", {"accept": "application/sparql-results+json"}))


def _no_workers(monkeypatch):
    from kgtool import webapp

    def refuse(*_args, **_kwargs):
        raise QueryError("a worker was started")

    monkeypatch.setattr(webapp, "run_limited_sized", refuse)


def test_the_server_serves_what_the_command_line_kept_and_the_other_way_round(cache, monkeypatch):
    cli_rows = json.loads(run_cli("--project", str(REPO), "query", "ci-partners", "-f", "json").stdout)
    app = _app()
    served = _get(app, "/query/eras")  # computed by a worker, kept on disk too
    assert served.status == 200
    _no_workers(monkeypatch)
    reply = _get(app, "/query/ci-partners")
    assert reply.status == 200, reply.body
    assert json.loads(reply.body)["results"]["bindings"] == cli_rows["results"]["bindings"]
    refuse_store(monkeypatch)
    eras = json.loads(run_cli("--project", str(REPO), "query", "eras", "-f", "json").stdout)
    assert eras["results"]["bindings"] == json.loads(served.body)["results"]["bindings"]


@pytest.mark.parametrize("caps, message", [({"max_rows": 2}, "more than the cap of 2"),
                                           ({"max_result_bytes": 100}, "MiB, more than the cap of")])
def test_the_server_applies_its_caps_to_an_answer_read_from_disk(cache, monkeypatch, caps, message):
    run_cli("--project", str(REPO), "query", "ci-partners")
    app = _app(**caps)
    _no_workers(monkeypatch)
    reply = _get(app, "/query/ci-partners")
    assert reply.status == 422 and message in reply.body.decode("utf-8")


def test_a_server_without_a_result_cache_neither_reads_nor_keeps_answers(cache, monkeypatch):
    run_cli("--project", str(REPO), "query", "ci-partners")
    app = _app(result_cache_bytes=0)
    assert _get(app, "/query/eras").status == 200
    assert len(kept(cache)) == 1
    _no_workers(monkeypatch)
    reply = _get(app, "/query/ci-partners")
    assert reply.status == 400 and b"a worker was started" in reply.body


def test_cache_build_answers_keeps_the_default_answers_and_names_what_it_could_not(cache, monkeypatch):
    from kgtool.queries import Catalogue, runs_without_parameters

    defaults = [q.name for q in Catalogue(REPO / "queries") if runs_without_parameters(q)]
    real = run.run_canned

    def eras_fails(project, name, *args, **kwargs):
        if name == "eras":
            raise QueryError("query stopped after 1 s: time limit")
        return real(project, name, *args, **kwargs)

    monkeypatch.setattr(run, "run_canned", eras_fails)
    out = run_cli("--project", str(REPO), "cache", "build", "--answers").stdout
    assert "answers: built in" in out and f"{len(defaults) - 1} of {len(defaults)} canned queries" in out
    assert "not kept: eras: query stopped after 1 s" in out
    assert len(kept(cache)) == len(defaults) - 1
    monkeypatch.setattr(run, "run_canned", real)
    assert "answers: built in" in run_cli("--project", str(REPO), "cache", "build", "--answers").stdout
    assert "answers: already built" in run_cli("--project", str(REPO), "cache", "build", "--answers").stdout
    refuse_store(monkeypatch)
    assert "Aktobe" in run_cli("--project", str(REPO), "query", "ci-partners").stdout
