"""`kgtool serve`: the SPARQL 1.1 Protocol endpoint, its limits, and the web pages, over real HTTP."""

from __future__ import annotations

import contextlib
import csv
import http.client
import io
import json
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET

import pytest
from rdflib import Graph

from kgtool.errors import UsageError
from kgtool.server import make_server
from kgtool.webapp import ServerConfig
from webserver import fetch, running_server, web_project

SELECT = ("SELECT ?ci ?label WHERE { ?ci a kzcn:ConfuciusInstitute ; rdfs:label ?label "
          "FILTER(lang(?label) = 'en') }")
CONSTRUCT = "CONSTRUCT { ?ci a kzcn:ConfuciusInstitute } WHERE { ?ci a kzcn:ConfuciusInstitute }"
CARTESIAN = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
SRX = "{http://www.w3.org/2005/sparql-results#}"


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return web_project(tmp_path_factory.mktemp("web"))


@pytest.fixture(scope="module")
def server(project):
    with running_server(project, timeout=2.0, max_rows=500, max_body=4096, max_concurrent=2,
                        queue_wait=0.2) as running:
        yield running


def sparql_url(server, query: str, **extra: str) -> str:
    return server.url + "sparql?" + urllib.parse.urlencode({"query": query, **extra})


def select_rows(server, accept: str) -> set[tuple[str, str]]:
    reply = fetch(sparql_url(server, SELECT), headers={"Accept": accept})
    assert reply.status == 200, reply.text
    assert reply.content_type == accept
    if accept == "application/sparql-results+json":
        doc = json.loads(reply.body)
        return {(b["ci"]["value"], b["label"]["value"]) for b in doc["results"]["bindings"]}
    if accept == "application/sparql-results+xml":
        rows = set()
        for result in ET.fromstring(reply.body).iter(f"{SRX}result"):
            cells = {b.get("name"): "".join(b.itertext()) for b in result.iter(f"{SRX}binding")}
            rows.add((cells["ci"], cells["label"]))
        return rows
    if accept == "text/csv":
        table = list(csv.reader(io.StringIO(reply.text)))
        assert table[0] == ["ci", "label"]
        return {tuple(r) for r in table[1:]}
    lines = reply.text.splitlines()
    assert lines[0] == "?ci\t?label"
    return {(ci[1:-1], label.split('"')[1]) for ci, label in (line.split("\t") for line in lines[1:])}


# ------------------------------------------------------------------------------------------ protocol
def test_every_result_format_gives_the_same_rows(server):
    formats = ["application/sparql-results+json", "application/sparql-results+xml", "text/csv",
               "text/tab-separated-values"]
    results = {fmt: select_rows(server, fmt) for fmt in formats}
    reference = results[formats[0]]
    assert len(reference) >= 4
    assert all(rows == reference for rows in results.values()), results


def test_get_and_both_kinds_of_post_agree(server):
    accept = {"Accept": "application/sparql-results+json"}
    by_get = fetch(sparql_url(server, SELECT), headers=accept).body
    form = urllib.parse.urlencode({"query": SELECT}).encode()
    by_form = fetch(server.url + "sparql", "POST", form,
                    {**accept, "Content-Type": "application/x-www-form-urlencoded"}).body
    by_body = fetch(server.url + "sparql", "POST", SELECT.encode(),
                    {**accept, "Content-Type": "application/sparql-query"}).body
    assert by_get == by_form == by_body


@pytest.mark.parametrize("accept,parser", [
    ("text/turtle", "turtle"), ("application/n-triples", "nt"), ("application/ld+json", "json-ld"),
    ("application/rdf+xml", "xml"),
])
def test_graphs_by_content_negotiation(server, accept, parser):
    reply = fetch(sparql_url(server, CONSTRUCT), headers={"Accept": accept})
    assert reply.status == 200 and reply.content_type == accept
    graph = Graph().parse(data=reply.text, format=parser)
    assert len(graph) >= 4


def test_ask_in_json_and_xml(server):
    ask = "ASK { ?ci a kzcn:ConfuciusInstitute }"
    assert json.loads(fetch(sparql_url(server, ask)).body)["boolean"] is True
    xml_reply = fetch(sparql_url(server, ask), headers={"Accept": "application/sparql-results+xml"})
    assert ET.fromstring(xml_reply.body).find(f"{SRX}boolean").text == "true"


def test_default_format_and_preference_order(server):
    assert fetch(sparql_url(server, SELECT)).content_type == "application/sparql-results+json"
    accept = "text/csv;q=0.5, application/sparql-results+xml;q=0.9"
    assert fetch(sparql_url(server, SELECT), headers={"Accept": accept}).content_type == \
        "application/sparql-results+xml"
    assert fetch(sparql_url(server, SELECT, format="tsv")).content_type == "text/tab-separated-values"


def test_unacceptable_format_is_406(server):
    assert fetch(sparql_url(server, SELECT), headers={"Accept": "image/png"}).status == 406
    assert fetch(sparql_url(server, CONSTRUCT), headers={"Accept": "text/csv"}).status == 406


@pytest.mark.parametrize("content_type", ["text/plain", "application/json", ""])
def test_a_query_body_of_another_media_type_is_415(server, content_type):
    reply = fetch(server.url + "sparql", "POST", b"SELECT * WHERE { ?s ?p ?o }", {"Content-Type": content_type})
    assert reply.status == 415, reply.text
    assert "application/sparql-query" in reply.headers["accept-post"]


@pytest.mark.parametrize("method,content_type,body", [
    ("POST", "application/sparql-update", b"INSERT DATA { <urn:a> <urn:b> <urn:c> }"),
    ("POST", "application/x-www-form-urlencoded", b"update=DROP+ALL"),
    ("PUT", "text/turtle", b"<urn:a> <urn:b> <urn:c> ."),
    ("DELETE", "text/plain", b""),
], ids=["sparql-update", "form-update", "put", "delete"])
def test_updates_are_405(server, method, content_type, body):
    reply = fetch(server.url + "sparql", method, body, {"Content-Type": content_type})
    assert reply.status == 405
    assert "read-only" in reply.text
    assert "POST" in reply.headers["allow"]


@pytest.mark.parametrize("query,message", [
    ("SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }", "SERVICE refused"),
    ("SELECT * FROM <file:///etc/passwd> WHERE { ?s ?p ?o }", "FROM refused"),
    ("SELECT * FROM NAMED <http://example.org/g> WHERE { ?s ?p ?o }", "FROM refused"),
    ("LOAD <http://example.org/data.ttl>", "LOAD refused"),
    ("SELECT * WHERE { ?s ?p }", "query failed: error at 1:25"),  # in the user's text, not the prefixes
    # the engines read SERVICE:x as SERVICE followed by the prefixed name :x (Oxigraph made the call)
    ("PREFIX : <http://127.0.0.1:9/> SELECT * WHERE { SERVICE:admin { ?s ?p ?o } }", "SERVICE refused"),
    ("SELECT * FROM:x WHERE { ?s ?p ?o }", "FROM refused"),
    # a "less than" is not the start of an IRI that would hide the keyword up to the next ">"
    ("SELECT * WHERE { BIND(<http://x/> AS ?x) FILTER(1<2)SERVICE<http://127.0.0.1:9/>{?s?p?o}FILTER(3>2) }",
     "SERVICE refused"),
], ids=["service", "from-file", "from-named", "load", "syntax", "service-colon", "from-colon", "service-after-lt"])
def test_hostile_or_broken_queries_are_400_before_evaluation(server, query, message):
    reply = fetch(sparql_url(server, query))
    assert reply.status == 400
    assert message in reply.text


def test_dataset_parameters_are_refused(server):
    reply = fetch(sparql_url(server, SELECT, **{"default-graph-uri": "file:///etc/passwd"}))
    assert reply.status == 400 and "serves one graph" in reply.text


def test_large_body_is_413(server):
    body = urllib.parse.urlencode({"query": SELECT + " " * 10_000}).encode()
    reply = fetch(server.url + "sparql", "POST", body, {"Content-Type": "application/x-www-form-urlencoded"})
    assert reply.status == 413
    assert "over the limit of 4096 bytes" in reply.text


def test_large_body_is_refused_before_it_is_sent_with_expect_100(server):
    host, port = server.server_address[:2]
    connection = http.client.HTTPConnection(host, port, timeout=10)
    connection.putrequest("POST", "/sparql")
    for name, value in {"Content-Type": "application/sparql-query", "Content-Length": "50000000",
                        "Expect": "100-continue"}.items():
        connection.putheader(name, value)
    connection.endheaders()  # no body sent
    assert connection.getresponse().status == 413
    connection.close()


def test_runaway_query_is_stopped_with_503_and_a_message(server):
    start = time.monotonic()
    reply = fetch(sparql_url(server, CARTESIAN))
    assert reply.status == 503
    assert "query stopped after 2 s: time limit" in reply.text
    assert time.monotonic() - start < 3.5


def test_result_over_the_cap_is_refused_not_truncated(server):
    reply = fetch(sparql_url(server, "SELECT * WHERE { ?s ?p ?o }"))
    assert reply.status == 422
    assert "more than the cap of 500" in reply.text


def test_busy_server_answers_503(server):
    slow = [threading.Thread(target=fetch, args=(sparql_url(server, CARTESIAN),)) for _ in range(2)]
    for thread in slow:
        thread.start()
    deadline = time.monotonic() + 1.5
    while server.app.slots._value > 0 and time.monotonic() < deadline:  # both slots taken
        time.sleep(0.01)
    fresh = SELECT + "\n# not asked before (an answer kept from an earlier request needs no slot)"
    reply = fetch(sparql_url(server, fresh))
    for thread in slow:
        thread.join()
    assert reply.status == 503
    assert "query slots stayed busy for 0.2 s" in reply.text
    assert reply.headers["retry-after"] == "1"
    assert fetch(sparql_url(server, fresh)).status == 200


def test_csv_cells_cannot_run_as_spreadsheet_formulas(server):
    query = ('SELECT ?x WHERE { VALUES ?x { "=HYPERLINK(\\"http://evil.example\\")" "+1+cmd" "@SUM(A1)" "ok" '
             '"-5" -5 "+1.5e3" } }')
    cells = {row[0] for row in csv.reader(io.StringIO(fetch(sparql_url(server, query, format="csv")).text))}
    assert cells == {"x", "'=HYPERLINK(\"http://evil.example\")", "'+1+cmd", "'@SUM(A1)", "ok", "-5", "+1.5e3"}


def test_csv_writes_blank_nodes_as_sparql_csv_does(server):
    query = "SELECT ?b WHERE { BIND(BNODE() AS ?b) }"
    [_header, [cell]] = list(csv.reader(io.StringIO(fetch(sparql_url(server, query, format="csv")).text)))
    assert cell.startswith("_:") and len(cell) > 2


def test_foreign_host_header_is_refused(server):
    reply = fetch(sparql_url(server, SELECT), headers={"Host": "attacker.example"})
    assert reply.status == 403


def test_foreign_host_header_is_refused_when_the_loopback_address_was_named(project):
    """`kgtool serve --host 127.0.0.1` names an address, but still a loopback one: the DNS-rebinding
    guard stays on (it used to be off for any --host)."""
    with running_server(project, allow_remote=True) as named:
        assert fetch(sparql_url(named, SELECT), headers={"Host": "attacker.example"}).status == 403
        assert fetch(sparql_url(named, SELECT)).status == 200


def test_serve_command_announces_its_address_and_stops_on_ctrl_c(project):
    process = subprocess.Popen([sys.executable, "-m", "kgtool", "--project", str(project.root), "serve",
                                "--port", "0"], stderr=subprocess.PIPE, text=True)
    try:
        line = process.stderr.readline()
        assert "serving http://127.0.0.1:" in line and "read-only" in line, line
        url = line.split("serving ", 1)[1].split()[0]
        assert fetch(url + "sparql?query=ASK%7B%7D").status == 200
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(10) == 0


def test_non_loopback_address_needs_to_be_named(project):
    with pytest.raises(UsageError, match="not a loopback address"):
        make_server(project, ServerConfig(host="0.0.0.0", port=0))


# ------------------------------------------------------------------------------------------ web UI
def test_catalogue_lists_the_canned_queries(server):
    reply = fetch(server.url)
    assert reply.status == 200 and reply.content_type == "text/html"
    for name in ("events-in-year", "label-search", "about"):
        assert f'href="/query/{name}"' in reply.text
    assert "script-src" not in reply.headers["content-security-policy"]
    assert "default-src 'none'" in reply.headers["content-security-policy"]


def test_canned_query_with_a_parameter_shows_labels_and_entity_links(server):
    reply = fetch(server.url + "query/events-in-year?year=2017&run=1")
    assert reply.status == 200
    assert 'href="/id/event/2017-' in reply.text
    assert 'value="2017"' in reply.text  # the form keeps what was asked


def test_canned_query_results_in_machine_formats(server):
    reply = fetch(server.url + "query/events-in-year?year=2017", headers={"Accept": "text/csv"})
    assert reply.status == 200 and reply.content_type == "text/csv"
    assert reply.text.splitlines()[0] == "event,date,source"
    graph = fetch(server.url + "query/about?entity=place:almaty&format=ttl")
    assert graph.content_type == "text/turtle"
    assert len(Graph().parse(data=graph.text, format="turtle")) > 3


@pytest.mark.parametrize("url,message", [
    ("query/events-in-year?year=2017)%20UNION%20{&run=1", "is not a year"),
    ("query/about?entity=javascript:alert(1)&run=1", "not an absolute http(s) IRI"),
    ("query/about?entity=%3Chttp://a%3E%20%3Chttp://b%3E&run=1", "not an absolute http(s) IRI"),
    ("query/events-in-year?year=2017&nope=1&run=1", "has no parameter 'nope'"),
    ("query/events-in-year?year=2017&year=2018&run=1", "given twice"),
], ids=["year-injection", "javascript-iri", "iri-injection", "unknown-param", "repeated-param"])
def test_hostile_parameters_are_refused(server, url, message):
    reply = fetch(server.url + url)
    assert reply.status == 400
    assert message in reply.text.replace("&#x27;", "'")


def test_string_parameters_are_bound_as_literals_and_escaped_in_html(server):
    hostile = '<script>alert(1)</script>" } ; DROP ALL ; {'
    reply = fetch(server.url + "query/label-search?" + urllib.parse.urlencode({"text": hostile, "run": "1"}))
    assert reply.status == 200
    assert "<script>" not in reply.text
    assert "&lt;script&gt;" in reply.text
    assert "0 rows" in reply.text


def test_entity_page_shows_facts_inbound_links_and_sources(server):
    doc = json.loads(fetch(server.url + "query/events-in-year?year=2017&format=json").body)
    event = doc["results"]["bindings"][0]["event"]["value"]
    path = "/id/" + event.split("/id/", 1)[1]
    page = fetch(server.url.rstrip("/") + path)
    assert page.status == 200
    assert '<h2 id="sources">Sources</h2>' in page.text
    assert 'href="/id/source/article-' in page.text
    assert '<h2 id="inbound">What links here</h2>' in page.text


def test_the_same_entity_url_gives_turtle_to_a_machine(server):
    reply = fetch(server.url + "id/place/almaty", headers={"Accept": "text/turtle"})
    assert reply.status == 200 and reply.content_type == "text/turtle"
    assert "Accept" in reply.headers["vary"]
    graph = Graph().parse(data=reply.text, format="turtle")
    almaty = "https://w3id.org/kzcn/id/place/almaty"
    assert any(str(s) == almaty for s in graph.subjects())
    assert any(str(o) == almaty for o in graph.objects())  # what links to it, too


def test_entity_by_iri_parameter_and_unknown_or_hostile_iris(server):
    term = urllib.parse.quote("https://w3id.org/kzcn/ontology#ConfuciusInstitute", safe="")
    assert fetch(server.url + f"entity?iri={term}").status == 200
    assert fetch(server.url + "id/place/atlantis").status == 404
    for accept in ("text/turtle", "application/n-triples", "application/ld+json"):  # not an empty 200
        assert fetch(server.url + "id/place/atlantis", headers={"Accept": accept}).status == 404
    assert fetch(server.url + "entity?iri=place:almaty").status == 200
    hostile = fetch(server.url + "entity?iri=" + urllib.parse.quote('x"><script>alert(1)</script>'),
                    headers={"Accept": "text/html"})
    assert hostile.status == 400 and hostile.content_type == "text/html"
    assert "<script>" not in hostile.text and "&lt;script&gt;" in hostile.text


def test_timeline_lists_dated_events_by_year(server):
    reply = fetch(server.url + "timeline")
    assert reply.status == 200
    years = [line.split(">")[1].split("<")[0] for line in reply.text.splitlines() if 'class="year"' in line]
    assert len(years) > 10 and years == sorted(years)
    assert 'class="kind agreement"' in reply.text and 'class="kind event"' in reply.text


def test_sparql_form_page_for_browsers(server):
    page = fetch(server.url + "sparql", headers={"Accept": "text/html"})
    assert page.status == 200 and "<textarea" in page.text
    run = fetch(sparql_url(server, SELECT, format="html"))
    assert run.status == 200 and 'href="/id/organization/' in run.text


def test_a_query_waits_for_a_slot_rather_than_being_turned_away(project):
    with running_server(project, timeout=1.0, max_concurrent=1, queue_wait=5.0) as single:
        slow = threading.Thread(target=fetch, args=(sparql_url(single, CARTESIAN),))
        slow.start()
        deadline = time.monotonic() + 1.5
        while single.app.slots._value > 0 and time.monotonic() < deadline:  # the slot is taken
            time.sleep(0.01)
        reply = fetch(sparql_url(single, SELECT))
        slow.join()
    assert reply.status == 200, reply.text


def test_a_small_query_with_a_huge_answer_is_refused(project):
    """One row of GROUP_CONCAT can be a hundred megabytes: the row cap does not see it, the byte cap does."""
    query = "SELECT (GROUP_CONCAT(STR(?o)) AS ?all) WHERE { ?s ?p ?o FILTER(!isBlank(?o)) VALUES ?i { 1 2 3 4 } }"
    with running_server(project, max_result_bytes=1 << 20) as capped:
        reply = fetch(sparql_url(capped, query))
    assert reply.status == 422 and "MiB, more than the cap of 1 MiB" in reply.text


def _raw(server, request: bytes) -> bytes:
    """Everything the server sends back on one connection for the bytes given."""
    import socket

    with socket.create_connection(server.server_address[:2], timeout=5) as conn:
        conn.sendall(request)
        received = b""
        while chunk := conn.recv(65536):
            received += chunk
    return received


EMBEDDED = b"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


@pytest.mark.parametrize("headers,status", [
    # a refused Host: its unread body was answered as a request of its own, with an allowed Host
    (b"Host: rebound.example\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n" % len(EMBEDDED), b"403"),
    # two Content-Lengths: the first one was used, and a proxy may have used the other
    (b"Host: 127.0.0.1\r\nContent-Type: application/sparql-query\r\nContent-Length: 0\r\n"
     b"Content-Length: %d\r\n" % len(EMBEDDED), b"400"),
], ids=["refused-host", "two-content-lengths"])
def test_a_refused_request_cannot_smuggle_its_body_as_a_second_request(server, headers, status):
    received = _raw(server, b"POST /sparql HTTP/1.1\r\n" + headers + b"\r\n" + EMBEDDED)
    assert received.startswith(b"HTTP/1.1 " + status) and received.count(b"HTTP/1.1 ") == 1, received[:300]


def test_options_and_the_standard_librarys_own_errors_carry_the_security_headers(server):
    options = fetch(server.url + "sparql", "OPTIONS")
    assert options.status == 204 and options.headers["allow"] == "GET, HEAD, POST, OPTIONS"
    received = _raw(server, b"BREW /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    head = received.split(b"\r\n\r\n", 1)[0].decode("latin-1").lower()
    assert head.startswith("http/1.1 501") and "x-content-type-options: nosniff" in head
    assert "content-security-policy" in head and "text/plain" in head


def test_connections_beyond_the_cap_are_turned_away_and_a_trickled_request_times_out(project):
    import socket

    with running_server(project, max_connections=2, request_deadline=1.0) as capped:
        address = capped.server_address[:2]
        held = [socket.create_connection(address, timeout=5) for _ in range(2)]
        for conn in held:
            conn.sendall(b"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\n")  # a request line, then nothing
        time.sleep(0.2)
        assert _raw(capped, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").startswith(b"HTTP/1.1 503")
        start = time.monotonic()
        for conn in held:  # a byte now and then does not keep the connection past the deadline
            with contextlib.suppress(OSError):
                while conn.recv(1024):
                    pass
            conn.close()
        assert time.monotonic() - start < 3
        # The client sees the close first (from the deadline's timer); the connection's thread ends a moment
        # after and frees its place.
        deadline = time.monotonic() + 2
        while capped.connections._value < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert fetch(sparql_url(capped, SELECT)).status == 200  # the places are free again


def test_a_worker_that_dies_is_a_server_error_not_a_bad_query(project, monkeypatch, tmp_path):
    from kgtool import limits

    monkeypatch.setenv("KGTOOL_CACHE_DIR", str(tmp_path / "cache"))  # no answer kept on disk (kgtool.answers)

    def died(*_args, **_kwargs):
        raise limits.WorkerDied("the query worker ended without an answer (killed by signal 9; out of memory?)")

    with running_server(project) as running:
        monkeypatch.setattr("kgtool.webapp.run_limited_sized", died)
        reply = fetch(sparql_url(running, SELECT))
    assert reply.status == 500 and "ended without an answer" in reply.text


def test_html_error_pages_only_for_clients_that_accept_html(server):
    broken = sparql_url(server, "SELECT * WHERE { ?s ?p }")
    refused = fetch(broken, headers={"Accept": "text/html;q=0, application/json"})
    assert refused.status == 400 and refused.content_type.startswith("text/plain")
    assert refused.headers["vary"] == "Accept"
    browser = fetch(broken, headers={"Accept": "text/html"})
    assert browser.status == 400 and browser.content_type.startswith("text/html")


def test_a_malformed_q_value_counts_as_the_default():
    from kgtool.protocol import accepted_quality, negotiate

    assert accepted_quality("text/csv;q=high", "text/csv") == 1.0
    assert negotiate("text/csv;q=abc", {"application/sparql-results+json": "json", "text/csv": "csv"}) == "csv"
    assert accepted_quality("text/csv;q=0", "text/csv") == 0.0


@pytest.mark.parametrize("query_string,content_type,body,message", [
    ("query=ASK%7B%7D", "application/sparql-query", b"ASK {}", "more than one query"),
    ("query=ASK%7B%7D", "application/x-www-form-urlencoded", b"query=ASK+%7B%7D", "more than one query"),
    ("format=csv", "application/x-www-form-urlencoded", b"query=ASK+%7B%7D&format=json", "more than one format"),
    ("query=%FF", None, None, "not UTF-8"),
], ids=["query-in-url-and-body", "query-in-url-and-form", "format-twice", "percent-encoded-non-utf8"])
def test_ambiguous_or_undecodable_parameters_are_400_not_guessed(server, query_string, content_type, body, message):
    if body is None:
        reply = fetch(server.url + "sparql?" + query_string)
    else:
        reply = fetch(server.url + "sparql?" + query_string, "POST", body, {"Content-Type": content_type})
    assert reply.status == 400 and message in reply.text, reply.text


def test_a_canned_query_parameter_that_is_not_utf8_is_refused(server):
    reply = fetch(server.url + "query/about?entity=%FF&format=ttl")
    assert reply.status == 400 and "not UTF-8" in reply.text


def test_no_link_of_an_entity_page_is_a_404_and_positions_have_names(server):
    """Entity pages linked rdfs:label, rdf:type … to /entity?iri= pages that were 404s; a position showed
    its IRI for want of a label."""
    import re

    page = fetch(server.url + "id/person/gabit-koishibaev")
    assert page.status == 200
    assert "Gabit Koishibayev, Ambassador of Kazakhstan to China" in page.text
    links = set(re.findall(r'href="(/[^"]*)"', page.text))
    assert any(link.startswith("/id/") for link in links)
    root = server.url.rstrip("/")
    browser = {"Accept": "text/html"}
    broken = [link for link in sorted(links) if fetch(root + link.replace("&amp;", "&"), headers=browser).status != 200]
    assert not broken, broken
    assert 'href="http://www.w3.org/2000/01/rdf-schema#label"' in page.text


def test_an_unknown_path_gets_the_sites_error_page_in_a_browser(server):
    reply = fetch(server.url + "nope", headers={"Accept": "text/html"})
    assert reply.status == 404 and reply.content_type.startswith("text/html") and "not found: /nope" in reply.text
    assert fetch(server.url + "nope").status == 404


def test_pages_mark_the_language_of_labels_and_label_the_query_box(server):
    page = fetch(server.url + "id/place/almaty", headers={"Accept": "text/html"}).text
    assert '<span lang="zh">阿拉木图</span>' in page or '<span lang="ru">Алматы</span>' in page
    form = fetch(server.url + "sparql", headers={"Accept": "text/html"}).text
    assert '<label for="query">' in form and '<textarea id="query"' in form


def test_an_articles_full_title_is_among_its_facts(server):
    page = fetch(server.url + "id/source/article-002", headers={"Accept": "text/html"}).text
    facts = page.split('<h2 id="facts">', 1)[1].split("<details>", 1)[0]
    assert "One Belt, One Road" in facts and "dcterms:title" in facts


def test_an_entity_and_a_graph_query_in_rdf_xml(server):
    entity = fetch(server.url + "id/place/almaty", headers={"Accept": "application/rdf+xml"})
    assert entity.status == 200 and entity.content_type == "application/rdf+xml"
    assert len(Graph().parse(data=entity.text, format="xml")) > 5
    by_name = fetch(sparql_url(server, CONSTRUCT, format="rdfxml"))
    assert by_name.status == 200 and by_name.content_type == "application/rdf+xml"


def test_an_identical_request_is_answered_from_the_kept_answer_without_a_worker(project, monkeypatch, tmp_path):
    from kgtool import webapp

    monkeypatch.setenv("KGTOOL_CACHE_DIR", str(tmp_path / "cache"))  # no answer kept on disk (kgtool.answers)

    calls = []
    real = webapp.run_limited_sized

    def counted(fn, *args, **kwargs):
        calls.append(args[:1])
        return real(fn, *args, **kwargs)

    monkeypatch.setattr("kgtool.webapp.run_limited_sized", counted)
    with running_server(project) as running:
        first = select_rows(running, "text/csv")
        again = select_rows(running, "application/sparql-results+json")
        page = running.url + "query/events-in-year?year=2017&run=1"
        html_first, html_again = fetch(page), fetch(page)
        other = fetch(running.url + "query/events-in-year?year=2016&run=1")
        assert len(running.app.results) == 5  # three answers, and the SELECT's as written in CSV and JSON
    assert html_first.status == html_again.status == other.status == 200
    assert html_first.body == html_again.body and "2017" in html_first.text
    assert first == again and len(first) > 3
    assert len(calls) == 3  # the SELECT once (two formats), each year once


def test_volatile_queries_and_failures_are_not_kept_but_refusals_are(project, monkeypatch, tmp_path):
    from kgtool import webapp

    monkeypatch.setenv("KGTOOL_CACHE_DIR", str(tmp_path / "cache"))  # no answer kept on disk (kgtool.answers)

    calls = []
    real = webapp.run_limited_sized

    def counted(fn, *args, **kwargs):
        calls.append(1)
        return real(fn, *args, **kwargs)

    monkeypatch.setattr("kgtool.webapp.run_limited_sized", counted)
    random = 'SELECT ?r WHERE { BIND(rand ( ) AS ?r) }'
    too_many = "SELECT * WHERE { ?s ?p ?o }"
    broken = "SELECT * WHERE { ?s ?p }"
    with running_server(project, max_rows=5, timeout=1.0) as running:
        answers = {fetch(sparql_url(running, random), headers={"Accept": "text/csv"}).text for _ in range(3)}
        failed = [fetch(sparql_url(running, q)).status for q in (CARTESIAN, CARTESIAN, broken)]
        assert len(running.app.results) == 0
        refused = [fetch(sparql_url(running, too_many)) for _ in range(2)]
        assert len(running.app.results) == 1  # a refusal over the cap is as certain as an answer: kept
    assert len(answers) == 3 and failed[:2] == [503, 503] and failed[2] == 400
    assert [r.status for r in refused] == [422, 422] and refused[0].text == refused[1].text
    assert "more than the cap of 5" in refused[1].text
    assert len(calls) == 3 + 2 + 1 + 1  # RAND thrice, the timeout twice, the broken query, the refusal once


def test_result_cache_off_runs_every_request(project, monkeypatch):
    from kgtool import webapp

    calls = []
    real = webapp.run_limited_sized
    monkeypatch.setattr("kgtool.webapp.run_limited_sized",
                        lambda fn, *a, **k: calls.append(1) or real(fn, *a, **k))
    with running_server(project, result_cache_bytes=0) as running:
        assert [fetch(sparql_url(running, SELECT)).status for _ in range(2)] == [200, 200]
    assert len(calls) == 2


def test_an_answer_asked_again_in_the_same_format_is_not_written_again(project, monkeypatch, tmp_path):
    """Writing 20,000 rows as JSON takes ~0.3 s at 1M: the written bytes are kept beside the answer."""
    from kgtool import webapp

    monkeypatch.setenv("KGTOOL_CACHE_DIR", str(tmp_path / "cache"))
    written = []
    real = webapp.serialize_result
    monkeypatch.setattr("kgtool.webapp.serialize_result", lambda result, fmt: written.append(fmt) or real(result, fmt))
    page = "query/events-in-year?year=2017&format="
    with running_server(project) as running:
        csv_bodies = [fetch(running.url + page + "csv").body for _ in range(3)]
        json_bodies = [fetch(running.url + page + "json").body for _ in range(2)]
        other = fetch(running.url + "query/events-in-year?year=2016&format=csv")
        assert len({*csv_bodies}) == 1 and len({*json_bodies}) == 1 and b"2017" in csv_bodies[0]
        assert written == ["csv", "json", "csv"], "a body was written again, or one was served for another request"
        assert other.status == 200 and other.body != csv_bodies[0]
    with running_server(project, result_cache_bytes=0) as uncached:
        for _ in range(2):
            fetch(uncached.url + page + "csv")
    assert written[3:] == ["csv", "csv"]


def test_warm_computes_the_default_answers_so_the_first_visits_run_nothing(tmp_path, monkeypatch):
    from kgtool import webapp
    from kgtool.project import find_project
    from kgtool.queries import Catalogue
    from kgtool.server import _warm
    from webserver import REPO

    monkeypatch.setenv("KGTOOL_CACHE_DIR", str(tmp_path / "cache"))  # no answer kept on disk (kgtool.answers)
    for folder in ("ontology", "data", "queries"):
        (tmp_path / folder).symlink_to(REPO / folder, target_is_directory=True)
    bundled = find_project(tmp_path)
    defaults = [q.name for q in Catalogue(REPO / "queries") if q.form == "SELECT"
                and all(p.default is not None or not p.required for p in q.params)]
    assert "ci-partners" in defaults and "actor-activity" not in defaults
    calls = []
    real = webapp.run_limited_sized
    monkeypatch.setattr("kgtool.webapp.run_limited_sized",
                        lambda fn, *a, **k: calls.append(1) or real(fn, *a, **k))
    said = []
    with running_server(bundled, max_concurrent=2) as running:
        _warm(running.app, threading.Event(), said.append)
        jobs = len(defaults) + 1
        assert re.fullmatch(rf"warm: {jobs} of {jobs} default answers computed in \d+\.\d s, {jobs} kept",
                            said[0]), said
        assert len(calls) == len(defaults) + 1
        visits = [fetch(running.url + "query/ci-partners"), fetch(running.url + "timeline"),
                  fetch(running.url + "query/events", headers={"Accept": "text/csv"})]
        assert [v.status for v in visits] == [200, 200, 200] and "Aktobe" in visits[0].text
        assert len(calls) == len(defaults) + 1, "a warmed page ran its query again"
        with_parameter = fetch(running.url + "query/actor-activity?actor=place:almaty&run=1")
        assert with_parameter.status == 200 and len(calls) == len(defaults) + 2
        stopped = threading.Event()
        stopped.set()
        assert running.app.warm(stopped) == (0, 0, len(defaults) + 1, False)
    with running_server(bundled, result_cache_bytes=40_000) as small:  # room for a few answers only
        done = small.app.warm()
        assert done.cache_full and 0 < done.kept <= done.computed < done.jobs, done


def test_result_cache_keeps_the_most_recent_answers_within_its_budget():
    from kgtool.resultcache import ResultCache, request_key

    cache = ResultCache(max_bytes=1600)  # in memory: four times the pickled size
    for name in "abcd":
        cache.put(name, name.upper(), 90)
    assert cache.get("a") == (True, "A")  # now the most recent
    cache.put("e", "E", 90)  # over 1600 bytes: the least recently used (b) goes
    assert [cache.get(k)[0] for k in "abcde"] == [True, False, True, True, True]
    assert cache.used == 4 * 4 * 90
    cache.put("big", "x", 101)  # over a quarter of the budget: never kept
    cache.put("unsized", "x", 0)  # no size known (no fork): not kept
    assert cache.get("big") == cache.get("unsized") == (False, None)
    assert request_key(print, ([1],), 10) is None  # an unhashable argument
    assert request_key(print, ("SELECT (NOW() AS ?t) {}",), 10) is None
    assert request_key(print, ({"b": 1, "a": 2},), 10) == request_key(print, ({"a": 2, "b": 1},), 10)
    assert request_key(print, ("x",), 10) != request_key(print, ("x",), 11)
