"""`kgtool serve` serves the project's changes once they load, and keeps serving the old data until then."""

from __future__ import annotations

import contextlib
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.parse

from gate_helpers import CONTRIBUTIONS, copy_project
from kgtool.merge import add_contribution
from webserver import fetch, running_server

CONCERT = "https://w3id.org/kzcn/id/event/2019-09-01-gate-test-friendship-concert"
ASK = f"ASK {{ <{CONCERT}> a <https://w3id.org/kzcn/ontology#CulturalEvent> }}"


def asks(url: str) -> bool:
    reply = fetch(url + "sparql?" + urllib.parse.urlencode({"query": ASK}),
                  headers={"Accept": "application/sparql-results+json"})
    assert reply.status == 200, reply.text
    return '"boolean":true' in reply.text.replace(" ", "")


def test_a_merge_is_served_after_a_refresh_and_the_kept_answers_are_dropped(tmp_path):
    project = copy_project(tmp_path / "project")
    with running_server(project) as server:
        assert server.app.refresh() is None, "nothing changed yet"
        assert not asks(server.url) and not asks(server.url)  # the second from the kept answers
        assert add_contribution(project, CONTRIBUTIONS / "valid-concert.ttl").merged
        assert not asks(server.url), "the old data is served until the refresh"
        kept = server.app.results
        refreshed = server.app.refresh()
        assert server.app.results is not kept  # no answer of the old data is kept: they hold its store
        assert refreshed.served and "now serving the new data" in refreshed.message
        assert asks(server.url)
        assert fetch(server.url + "id/event/2019-09-01-gate-test-friendship-concert").status == 200
        assert server.app.refresh() is None


def test_data_that_does_not_load_leaves_the_old_data_served(tmp_path):
    project = copy_project(tmp_path / "project")
    events = project.data_dir / "events.ttl"
    good = events.read_bytes()
    with running_server(project) as server:
        events.write_bytes(good + b"\n<https://w3id.org/kzcn/id/event/half-typed> a \n")  # mid-edit
        refreshed = server.app.refresh()
        assert not refreshed.served and "does not load, so the previous data is still served" in refreshed.message
        assert "events.ttl" in refreshed.message
        assert fetch(server.url + "sparql?query=ASK%7B%3Fs%20%3Fp%20%3Fo%7D").status == 200
        assert server.app.refresh() is None, "not tried again until the files change again"
        events.write_bytes(good + (CONTRIBUTIONS / "valid-concert.ttl").read_bytes())
        assert server.app.refresh().served
        assert asks(server.url)


def test_kgtool_serve_reloads_by_itself(tmp_path):
    project = copy_project(tmp_path / "project")
    process = subprocess.Popen([sys.executable, "-m", "kgtool", "--project", str(project.root), "serve",
                                "--port", "0", "--reload-every", "0.2"], stderr=subprocess.PIPE, text=True)
    try:
        line = process.stderr.readline()
        url = line.split("serving ", 1)[1].split()[0]
        assert not asks(url)
        with (project.data_dir / "events.ttl").open("a", encoding="utf-8") as out:
            out.write("\n" + (CONTRIBUTIONS / "valid-concert.ttl").read_text(encoding="utf-8"))
        lines: queue.SimpleQueue = queue.SimpleQueue()
        threading.Thread(target=lambda: [lines.put(line) for line in process.stderr], daemon=True).start()
        said, deadline = [], time.monotonic() + 20
        while not any("now serving the new data" in line for line in said) and time.monotonic() < deadline:
            with contextlib.suppress(queue.Empty):
                said.append(lines.get(timeout=0.5))
        assert any("the project changed: now serving the new data" in line for line in said), said
        assert asks(url)
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(10) == 0


def test_a_snapshot_no_longer_served_is_let_go_once_its_requests_are_over(tmp_path, monkeypatch):
    """Else a server running through days of merges would keep every snapshot it served on disk."""
    from kgtool import closure, webapp

    project = copy_project(tmp_path / "project")
    with running_server(project) as server:
        first = server.app.served
        assert str(first) in closure._held
        assert add_contribution(project, CONTRIBUTIONS / "valid-concert.ttl").merged
        assert server.app.refresh().served
        assert server.app.served != first
        server.app.refresh()
        assert str(first) in closure._held, "requests under way may still read it"
        monkeypatch.setattr(webapp, "RETIRE_GRACE", -server.app.config.timeout)
        server.app.refresh()
        assert str(first) not in closure._held and str(server.app.served) in closure._held


def test_the_rdflib_engine_reloads_too_and_builds_no_snapshot_for_it(tmp_path):
    project = copy_project(tmp_path / "project")
    with running_server(project, engine="rdflib") as server:
        assert server.app.served is None
        assert add_contribution(project, CONTRIBUTIONS / "valid-concert.ttl").merged
        assert server.app.refresh().served
        assert asks(server.url)
