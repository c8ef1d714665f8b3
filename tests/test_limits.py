"""The time limit and the result cap: runaway queries stopped and reported, big results refused, not cut."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from helpers import REPO, run_cli
from kgtool.errors import QueryError, UsageError
from kgtool.limits import QueryTimeout, ResultTooLarge, check_cap, run_limited, run_watched
from kgtool.project import find_project
from kgtool.run import open_store
from kgtool.terms import GraphResult, SelectResult, Term

CARTESIAN = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
# Catastrophic backtracking in Python's re, which rdflib's REGEX uses: 2^40 steps.
REGEX_BOMB = 'SELECT * WHERE { FILTER(REGEX("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!", "^(a|a)+$")) }'


@pytest.fixture(scope="module", params=["oxigraph", "rdflib"])
def store(request):
    loaded = open_store(find_project(REPO), engine=request.param)
    loaded.query("ASK { ?s ?p ?o }")  # warm up, as the server does
    return loaded


def test_runaway_cartesian_product_is_stopped_at_the_limit(store):
    start = time.monotonic()
    with pytest.raises(QueryTimeout) as caught:
        run_limited(store.query, CARTESIAN, timeout=1.0)
    elapsed = time.monotonic() - start
    assert 1.0 <= elapsed < 1.5, f"stopped after {elapsed:.2f} s"
    assert str(caught.value) == "query stopped after 1 s: time limit (raise it with --timeout)"


def test_exponential_regex_is_stopped_at_the_limit(store):
    """rdflib's REGEX is Python's backtracking re; Oxigraph's regex engine is linear-time."""
    if store.name == "oxigraph":
        assert run_limited(store.query, REGEX_BOMB, timeout=1.0).rows == []
        return
    start = time.monotonic()
    with pytest.raises(QueryTimeout):
        run_limited(store.query, REGEX_BOMB, timeout=1.0)
    assert time.monotonic() - start < 1.5


def kgtool_process(*args: str, input: str | None = None, **popen) -> subprocess.Popen:
    """A real `kgtool` process: the CLI's watchdog ends the whole process, which CliRunner cannot show."""
    process = subprocess.Popen([sys.executable, "-m", "kgtool", "--project", str(REPO), *args],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               **popen)
    if input is not None:
        process.stdin.write(input)
    process.stdin.close()
    return process


def finished(process: subprocess.Popen) -> str:
    """Wait for the process (it writes a line or two at most); its stderr."""
    process.wait(timeout=30)
    return process.stderr.read()


@pytest.mark.parametrize("engine", ["oxigraph", "rdflib"])
def test_cli_runaway_query_exits_1_with_a_message_and_writes_no_file(tmp_path, engine):
    target = tmp_path / "out.csv"
    run_cli("sparql", "-", "--engine", engine, input="ASK {}")  # the cache is built outside the limit
    start = time.monotonic()
    process = kgtool_process("sparql", "-", "--engine", engine, "--timeout", "2", "-f", "csv", "-o", str(target),
                             input=CARTESIAN)
    err = finished(process)
    elapsed = time.monotonic() - start
    assert process.returncode == 1
    assert err == "kgtool: error: query stopped after 2 s: time limit (raise it with --timeout)\n"
    assert elapsed < 4.5, f"took {elapsed:.2f} s"
    assert list(tmp_path.iterdir()) == [], "a partial or temporary output file was left behind"


def test_cli_ctrl_c_stops_a_query_inside_the_engine():
    """Oxigraph evaluates in Rust, deaf to KeyboardInterrupt: the watchdog hears Ctrl-C and ends the process."""
    process = kgtool_process("sparql", "-", "--timeout", "0", input=CARTESIAN,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    time.sleep(1.5)  # well inside the query by now
    start = time.monotonic()
    process.send_signal(signal.SIGINT)
    err = finished(process)
    assert process.returncode == 130 and err == "kgtool: interrupted\n"
    assert time.monotonic() - start < 2.0


def test_watched_call_runs_in_this_process_and_applies_the_cap():
    rows = SelectResult(["x"], [(Term.literal("1"),), (Term.literal("2"),)])
    assert run_watched(lambda: (os.getpid(), rows), on_stop=print, max_rows=2) == (os.getpid(), rows)
    with pytest.raises(ResultTooLarge, match="2 rows, more than the cap of 1"):
        run_watched(lambda: rows, on_stop=print, max_rows=1)
    with pytest.raises(UsageError):  # errors of the call are raised as they are
        run_watched(_refuse, on_stop=print)


def _refuse():
    raise UsageError("parameter 'year': not a year", hint="use 4 digits")


def _watched_child(limit: str) -> subprocess.CompletedProcess:
    """A process that runs a call past the given limit under run_watched; on_stop says what it got."""
    script = f"""
import sys, time
from kgtool.limits import run_watched
def stop(error):
    print(type(error).__name__, error, file=sys.stderr)
    return 7
def hog():
    block = []
    for _ in range(400):
        block.append(bytearray(1 << 20))  # 1 MiB, touched
        time.sleep(0.01)
run_watched({'time.sleep, 30' if limit == 'time' else 'hog'}, on_stop=stop, timeout={0.5 if limit == 'time' else 0},
            memory={0 if limit == 'time' else 64 << 20})
print("not stopped")
"""
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)


def test_watched_call_past_its_time_ends_the_process_with_the_status_of_on_stop():
    start = time.monotonic()
    done = _watched_child("time")
    assert time.monotonic() - start < 5
    assert done.returncode == 7 and done.stdout == ""
    assert done.stderr == "QueryTimeout query stopped after 0.5 s: time limit (raise it with --timeout)\n"


def test_watched_call_past_its_memory_ends_the_process():
    done = _watched_child("memory")
    assert done.returncode == 7 and done.stdout == ""
    assert done.stderr == "QueryError query stopped: it took more than 0.0625 GiB of memory " \
        "(simplify the query or add LIMIT)\n"


def test_cli_result_over_the_cap_is_refused_not_truncated(tmp_path):
    target = tmp_path / "partners.csv"
    result = run_cli("query", "ci-partners", "--max-rows", "2", "-f", "csv", "-o", str(target), exit_code=1)
    assert "more than the cap of 2 (raise it with --max-rows, or add LIMIT to the query)" in result.stderr
    assert not target.exists()


def test_cli_result_under_the_cap_is_complete():
    full = run_cli("query", "ci-partners", "-f", "csv", "--max-rows", "0", "--timeout", "0").stdout
    capped = run_cli("query", "ci-partners", "-f", "csv", "--max-rows", "1000").stdout
    assert full == capped
    assert len(full.splitlines()) > 3


def test_cap_counts_graph_triples_too():
    graph = GraphResult(["<a:s> <a:p> <a:o1> .", "<a:s> <a:p> <a:o2> ."])
    with pytest.raises(ResultTooLarge, match="2 triples, more than the cap of 1"):
        check_cap(graph, 1)
    assert check_cap(graph, 2) is graph


def test_cap_looks_inside_a_returned_tuple():
    rows = SelectResult(["x"], [(Term.literal("1"),), (Term.literal("2"),)])
    with pytest.raises(ResultTooLarge):
        run_limited(lambda: ("query", rows), max_rows=1)
    assert run_limited(lambda: ("query", rows), max_rows=2)[1].rows == rows.rows


def test_errors_cross_the_process_boundary_with_their_hint():
    def refuse():
        raise UsageError("parameter 'year': not a year", hint="use 4 digits")

    with pytest.raises(UsageError) as caught:
        run_limited(refuse)
    assert str(caught.value) == "parameter 'year': not a year (use 4 digits)"


def test_cli_usage_errors_keep_exit_code_2():
    result = run_cli("query", "ci-partner", exit_code=2)
    assert "no canned query named 'ci-partner'" in result.stderr


def test_a_worker_that_dies_is_reported():
    with pytest.raises(QueryError, match=r"ended without an answer \(killed by signal 9"):
        run_limited(lambda: os.kill(os.getpid(), signal.SIGKILL))


def test_no_worker_outlives_its_deadline():
    before = _children()
    with pytest.raises(QueryTimeout):
        run_limited(time.sleep, 30, timeout=0.3)
    assert _children() == before


def test_an_answer_does_not_wait_for_other_holders_of_the_pipe():
    """In the server, a worker forked by another thread holds a copy of this worker's pipe."""

    def answer_and_leave_a_pipe_holder():
        if os.fork() == 0:  # holds the write end for 3 s, like a concurrently forked worker
            time.sleep(3)
            os._exit(0)
        return 6

    start = time.monotonic()
    assert run_limited(answer_and_leave_a_pipe_holder, timeout=10) == 6
    assert time.monotonic() - start < 1.0


def _children() -> set[int]:
    me = str(os.getpid())
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[1] == me and fields[0] != "Z":
                found.add(int(entry))
    return found
