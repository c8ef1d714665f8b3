"""Remote endpoints: `kgtool push` and `kgtool query --endpoint` against a real Oxigraph server.

The server is the `oxigraph` binary from the `oxigraph` package on PyPI, started on a free loopback port
with its data in a temporary folder. Every canned query must give the same rows there as locally.
Binding tests (how parameters become query text) need no server.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest
from rdflib import Graph
from rdflib.compare import isomorphic

from helpers import REPO, run_cli
from kgtool.binding import sparql_term, where_brace
from kgtool.errors import UsageError
from kgtool.project import find_project
from kgtool.remote import bind_values, query_endpoint, run_remote
from kgtool.run import load_catalogue, open_store
from kgtool.terms import XSD, AskResult, GraphResult, Term

OXIGRAPH = shutil.which("oxigraph")
needs_oxigraph = pytest.mark.skipif(OXIGRAPH is None, reason="no `oxigraph` server binary on PATH: "
                                    "pip install oxigraph (the PyPI package ships it)")
PROJECT = find_project(REPO)


def canned_cases() -> list[tuple[str, dict[str, str]]]:
    """Each canned query with its example parameters, and without any when none is required."""
    cases = []
    for query in load_catalogue(PROJECT):
        if not any(p.required and p.default is None for p in query.params):
            cases.append((query.name, {}))
        if query.example:
            cases.append((query.name, dict(item.split("=", 1) for item in query.example)))
    return cases


def case_id(case) -> str:
    name, values = case
    return name + "".join(f"[{k}={v}]" for k, v in values.items())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def oxigraph(tmp_path_factory):
    port = free_port()
    process = subprocess.Popen([OXIGRAPH, "serve", "--location", str(tmp_path_factory.mktemp("oxigraph")),
                                "--bind", f"127.0.0.1:{port}"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + 20
    while True:
        try:
            opener.open(base + "/query?query=ASK%7B%7D", timeout=2).close()
            break
        except (urllib.error.URLError, OSError):
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"oxigraph server did not start: {process.stderr.read().decode()[:500]}")
            time.sleep(0.1)
    try:
        yield base
    finally:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def pushed(oxigraph):
    out = run_cli("push", "--endpoint", oxigraph + "/store").stdout
    assert out.startswith("pushed ") and "replaced the default graph" in out
    return oxigraph + "/query"


def test_the_catalogue_is_not_empty():
    assert len(canned_cases()) >= 2


@pytest.fixture(scope="module")
def local_store():
    """The graph `run_canned` queries (ontology + data + inferences), loaded once for all cases."""
    return open_store(PROJECT)


@needs_oxigraph
@pytest.mark.parametrize("case", canned_cases(), ids=case_id)
def test_every_canned_query_gives_the_same_rows_on_oxigraph_server(pushed, local_store, case):
    name, values = case
    query = load_catalogue(PROJECT).get(name)
    local = local_store.query(query.text, query.bind(values))
    _query, remote = run_remote(PROJECT, name, values, pushed)
    assert type(remote) is type(local)
    if isinstance(local, GraphResult):
        assert isomorphic(_graph(local), _graph(remote))
    elif isinstance(local, AskResult):
        assert remote.value == local.value
    else:
        assert remote.variables == local.variables
        assert remote.sorted_rows() == local.sorted_rows()
        assert remote.rows, f"{name} {values}: no rows, so the comparison proves nothing"


@needs_oxigraph
def test_cli_query_on_an_endpoint_prints_what_the_local_run_prints(pushed):
    name, values = next(case for case in canned_cases() if case[1])
    args = [arg for key, value in values.items() for arg in ("-p", key, value)]
    local = run_cli("query", name, *args, "-f", "csv").stdout
    remote = run_cli("query", name, *args, "-f", "csv", "--endpoint", pushed).stdout
    assert remote == local


@needs_oxigraph
def test_push_to_named_graphs_by_put_and_by_post(oxigraph):
    store = oxigraph + "/store"
    replaced = run_cli("push", "--endpoint", store, "--graph", "urn:kgtool:put", "-f", "nt").stdout
    appended = run_cli("push", "--endpoint", store, "--graph", "urn:kgtool:post", "--append").stdout
    assert "replaced graph <urn:kgtool:put>" in replaced and "added to graph <urn:kgtool:post>" in appended
    triples = int(replaced.split()[1])
    for graph in ("urn:kgtool:put", "urn:kgtool:post"):
        count = query_endpoint(oxigraph + "/query",
                               f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
        assert int(count.rows[0][0].value) == triples


def test_unreachable_endpoint_is_exit_2():
    name, values = canned_cases()[0]
    args = [arg for key, value in values.items() for arg in ("-p", key, value)]
    result = run_cli("query", name, *args, "--endpoint", f"http://127.0.0.1:{free_port()}/query", exit_code=2)
    assert "cannot reach the endpoint" in result.stderr


def test_a_push_that_gets_no_answer_says_the_upload_may_have_landed():
    """The server takes the connection and the body and never answers: that is not "cannot reach"."""
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    held = []

    def accept_and_hold() -> None:
        connection, _ = listener.accept()
        held.append(connection)
        while connection.recv(65536):
            pass

    threading.Thread(target=accept_and_hold, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/store"
        result = run_cli("push", "--endpoint", url, "--timeout", "1", exit_code=1)
        assert "no answer within 1 s after the request was sent" in result.stderr
        assert "may or may not hold the upload" in result.stderr and "cannot reach" not in result.stderr
    finally:
        for connection in held:
            connection.close()
        listener.close()


@pytest.mark.parametrize("graph", ["tag:example.org,2024:kzcn", "urn:x-kzcn:data", "did:example:123"])
def test_push_accepts_any_absolute_iri_as_graph_name(graph):
    """Checked before anything is sent: the endpoint here does not exist, so the check passed."""
    url = f"http://127.0.0.1:{free_port()}/store"
    result = run_cli("push", "--endpoint", url, "--graph", graph, exit_code=2)
    assert "cannot reach the endpoint" in result.stderr and "not an absolute IRI" not in result.stderr


@pytest.mark.parametrize("graph", ["relative/graph", "no spaces:allowed here", "http://x/<y>"])
def test_push_refuses_a_graph_name_that_is_not_an_absolute_iri(graph):
    assert "not an absolute IRI" in run_cli("push", "--endpoint", "http://127.0.0.1:9/store", "--graph", graph,
                                            exit_code=2).stderr


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/sparql", "localhost:7878/query"])
def test_only_http_endpoints(url):
    assert "not an http(s) URL" in run_cli("push", "--endpoint", url, exit_code=2).stderr


def test_credentials_in_the_endpoint_url_are_refused_and_never_echoed():
    stderr = run_cli("push", "--endpoint", "http://user:s3cret@127.0.0.1:9/store", exit_code=2).stderr
    assert "KGTOOL_ENDPOINT_AUTH=user:password" in stderr and "s3cret" not in stderr


def test_endpoint_auth_without_a_colon_is_refused(monkeypatch):
    monkeypatch.setenv("KGTOOL_ENDPOINT_AUTH", "justatoken")
    url = f"http://127.0.0.1:{free_port()}/store"
    assert "must be user:password" in run_cli("push", "--endpoint", url, exit_code=2).stderr


# ------------------------------------------------------------------------------------------- binding
@pytest.mark.parametrize("text,expected", [
    ("SELECT ?x WHERE { ?x ?p ?o }", "SELECT ?x WHERE {"),
    ("PREFIX ex: <http://ex/{}> SELECT ?x { ?x ?p ?o }", "SELECT ?x {"),
    ("# WHERE { in a comment\nSELECT ?x WHERE { ?x ?p '{' }", "SELECT ?x WHERE {"),
    ("CONSTRUCT { ?x ?p ?o } WHERE { ?x ?p ?o }", "CONSTRUCT { ?x ?p ?o } WHERE {"),
    ("ASK { ?x ?p ?o }", "ASK {"),
], ids=["select", "brace-in-iri", "comment-and-string", "construct", "ask"])
def test_values_go_at_the_start_of_the_where_clause(text, expected):
    assert text[:where_brace(text) + 1].endswith(expected)


def test_bound_values_are_terms_not_syntax():
    hostile = Term.literal('x" } ; DROP ALL ; SELECT * { "\n\\ \u0001', None, "en-GB")
    year = Term.literal("2017", XSD + "integer")
    place = Term.iri("https://w3id.org/kzcn/id/place/almaty")
    bound = bind_values("SELECT ?text ?year ?place WHERE { }",
                        {"text": hostile, "year": year, "place": place})
    rows = list(Graph().query(bound))
    assert len(rows) == 1
    text, number, iri = rows[0]
    assert (str(text), text.language, str(number), str(iri)) == (hostile.value, "en-gb", "2017", place.value)


def test_unsafe_iris_and_language_tags_are_refused():
    with pytest.raises(UsageError):
        sparql_term(Term.iri("http://a> } DROP ALL { <http://b"))
    with pytest.raises(UsageError):
        sparql_term(Term("literal", "x", None, "en } DROP"))


def _graph(result: GraphResult) -> Graph:
    return Graph().parse(data="\n".join(result.ntriples), format="nt")


@pytest.mark.parametrize("content_type", ["application/n-triples", "text/turtle; charset=utf-8"])
def test_an_endpoints_graph_keeps_its_literals_as_sent(content_type):
    from kgtool.remote import _graph_result

    payload = ('<http://example.org/a> <http://example.org/v> "INF"^^<http://www.w3.org/2001/XMLSchema#double> , '
               '"01"^^<http://www.w3.org/2001/XMLSchema#integer> .' if "turtle" in content_type else
               '<http://example.org/a> <http://example.org/v> "INF"^^<http://www.w3.org/2001/XMLSchema#double> .\n'
               '<http://example.org/a> <http://example.org/v> "01"^^<http://www.w3.org/2001/XMLSchema#integer> .\n')
    lines = _graph_result(payload.encode(), content_type).ntriples
    assert lines == sorted(['<http://example.org/a> <http://example.org/v> '
                            f'"{lex}"^^<http://www.w3.org/2001/XMLSchema#{dt}> .'
                            for lex, dt in (("INF", "double"), ("01", "integer"))])


def test_an_endpoints_unreadable_graph_is_a_query_error():
    from kgtool.errors import QueryError
    from kgtool.remote import _graph_result

    with pytest.raises(QueryError, match="cannot be parsed as turtle"):
        _graph_result(b"<http://example.org/a> <http://example.org/v> .", "text/turtle")
