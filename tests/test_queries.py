"""The canned-query catalogue (queries/*.rq): headers, syntax, golden results, hostile parameters, CLI.

Every query runs with the parameters of its header's ``example`` on the bundled data, once per session
graph, and must give exactly the rows of ``tests/golden/NAME.tsv`` (sorted; a first line names the
columns). After a deliberate change of data or queries, regenerate with ``pytest --update-golden`` and
read the diff: it is the change in what the catalogue answers.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import re

import pytest

from helpers import REPO, run_cli, tree_digest
from kgtool.errors import UsageError
from kgtool.queries import Catalogue, strip_comments
from kgtool.safety import check_query_safety
from kgtool.terms import AskResult, GraphResult, QueryResult, SelectResult

GOLDEN = REPO / "tests" / "golden"
MAY_BE_EMPTY = "may-be-empty"  # a tag for queries whose example legitimately finds nothing
HOSTILE = '" } ; DROP ALL #'
HOST_UNIVERSITIES = (
    "Al-Farabi Kazakh National University",
    "L.N. Gumilyov Eurasian National University",
    "Karaganda State Technical University",
    "Aktobe State University",
    "Kazakh Ablai Khan University of International Relations and World Languages",
)
CORE_QUERIES = {
    "ci-partners", "agreements", "events", "actor-activity", "timeline", "entity-sources", "figures",
    "figure-disagreements", "events-per-year", "eras", "facts-per-article", "entity-graph", "has-source",
}

# Parametrization needs the names at collection time; a broken header fails here, loudly.
CATALOGUE = Catalogue(REPO / "queries")
NAMES = sorted(CATALOGUE.queries)
STRING_PARAMS = [(q.name, p.name) for q in CATALOGUE for p in q.params if p.type == "string"]
IRI_PARAMS = [(q.name, p.name) for q in CATALOGUE for p in q.params if p.type == "iri"]


def example_values(query) -> dict[str, str]:
    return dict(item.split("=", 1) for item in query.example)


def golden_text(result: QueryResult) -> str:
    """The canonical text of a result: sorted rows of N-Triples terms, or true/false, or sorted triples."""
    if isinstance(result, AskResult):
        return "true\n" if result.value else "false\n"
    if isinstance(result, GraphResult):
        return "".join(line + "\n" for line in sorted(result.ntriples))
    lines = ["\t".join("?" + v for v in result.variables)]
    lines += ["\t".join(row) for row in result.sorted_rows()]
    return "\n".join(lines) + "\n"


def sees_something(result: QueryResult) -> bool:
    if isinstance(result, AskResult):
        return result.value
    if isinstance(result, GraphResult):
        return bool(result.ntriples)
    return bool(result.rows)


@pytest.fixture(scope="session")
def example_results(rdflib_store) -> dict[str, QueryResult]:
    """Every canned query run once with its example parameters (shared by the golden and engine tests)."""
    results = {}
    for query in CATALOGUE:
        results[query.name] = rdflib_store.query(query.text, query.bind(example_values(query)))
    return results


@pytest.fixture(scope="session")
def oxigraph_store(rdflib_store):
    """The same graph (asserted plus inferred triples) behind kgtool's Oxigraph engine, in memory."""
    pyoxigraph = pytest.importorskip("pyoxigraph")
    from kgtool.graphs import serialize_ntriples_sorted
    from kgtool.store import OxigraphStore

    graph = "urn:kgtool:test:union"
    store = pyoxigraph.Store()
    store.load(serialize_ntriples_sorted(rdflib_store.graph).encode("utf-8"),
               format=pyoxigraph.RdfFormat.N_TRIPLES, to_graph=pyoxigraph.NamedNode(graph))
    return OxigraphStore(store, [graph])


# ------------------------------------------------------------------------------------------ catalogue
def test_the_catalogue_is_large_and_has_the_core_queries(catalogue):
    names = set(catalogue.queries)
    assert len(names) >= 25, f"only {len(names)} canned queries"
    assert names >= CORE_QUERIES, f"missing: {sorted(CORE_QUERIES - names)}"
    forms = {q.form for q in catalogue}
    assert {"SELECT", "ASK", "CONSTRUCT"} <= forms


@pytest.mark.parametrize("name", NAMES)
def test_query_is_valid_sparql_with_its_own_prefixes(name, catalogue):
    from rdflib.plugins.sparql import prepareQuery

    query = catalogue.get(name)
    body = strip_comments(query.text)
    declared = set(re.findall(r"(?i)\bPREFIX\s+([A-Za-z][\w.-]*)?:", body))
    used = set(re.findall(r"(?<![\w?$:.-])([A-Za-z][\w.-]*)?:(?=[A-Za-z0-9_])", body)) - {None, ""}
    assert used <= declared, f"{name}: prefixes used but not declared: {sorted(used - declared)}"
    prepareQuery(query.text)  # rdflib's parser
    pyoxigraph = pytest.importorskip("pyoxigraph")
    try:  # Oxigraph's stricter parser, evaluating on an empty store
        result = pyoxigraph.Store().query(query.text)
        list(result) if not isinstance(result, pyoxigraph.QueryBoolean) else bool(result)
    except SyntaxError as exc:
        pytest.fail(f"{name}: Oxigraph rejects the query: {exc}")


@pytest.mark.parametrize("name", NAMES)
def test_query_header_is_complete(name, catalogue):
    query = catalogue.get(name)
    assert query.summary and len(query.summary) <= 200, f"{name}: summary missing or over 200 characters"
    assert query.description, f"{name}: no description"
    assert query.tags, f"{name}: no tags"
    for param in query.params:
        assert param.description, f"{name}: parameter {param.name!r} has no description"
        for value in param.enum:
            param.to_term(value)  # every enumerated value is valid for the declared type
    example = example_values(query)
    required = {p.name for p in query.params if p.required}
    missing = sorted(required - set(example))
    assert not missing, f"{name}: the example lacks the required parameters {missing}"
    query.bind(example)


@pytest.mark.parametrize("name", NAMES)
def test_query_is_deterministic_and_safe(name, catalogue):
    query = catalogue.get(name)
    body = strip_comments(query.text)
    check_query_safety(query.text, name)
    if query.form == "SELECT":
        assert re.search(r"(?m)^ORDER BY ", body), f"{name}: a SELECT needs a top-level ORDER BY"
    for param in query.params:
        # Oxigraph folds BOUND() of a variable no pattern binds to false before parameters are applied
        assert not re.search(rf"(?i)\bBOUND\s*\(\s*[?$]{param.name}\s*\)", body), (
            f"{name}: test parameter {param.name!r} with COALESCE, not BOUND")


# --------------------------------------------------------------------------------------------- golden
@pytest.mark.parametrize("name", NAMES)
def test_query_gives_its_golden_result(name, catalogue, example_results, update_golden):
    query = catalogue.get(name)
    result = example_results[name]
    actual = golden_text(result)
    path = GOLDEN / f"{name}.tsv"
    if update_golden:
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    if not path.is_file():
        pytest.fail(f"{path.relative_to(REPO)} is missing: run "
                    "`pytest tests/test_queries.py --update-golden`, then check the new file by eye")
    expected = path.read_text(encoding="utf-8")
    if actual != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(True), actual.splitlines(True),
                                            "golden", "now", n=1))
        pytest.fail(f"{name} no longer gives its golden result (if the change is right, run "
                    f"`pytest tests/test_queries.py --update-golden` and review the diff):\n{diff[:4000]}")
    if MAY_BE_EMPTY not in query.tags:
        assert sees_something(result), f"{name}: its example finds nothing (tag it {MAY_BE_EMPTY!r} if meant)"


def test_every_golden_file_belongs_to_a_query():
    stale = sorted(p.name for p in GOLDEN.glob("*.tsv") if p.stem not in CATALOGUE.queries)
    assert not stale, f"golden files without a query (delete them): {stale}"


@pytest.mark.parametrize("name", NAMES)
def test_query_gives_the_same_result_on_oxigraph(name, catalogue, example_results, oxigraph_store):
    """Standard SPARQL only: kgtool's Oxigraph engine agrees with rdflib on every canned query."""
    query = catalogue.get(name)
    result = oxigraph_store.query(query.text, query.bind(example_values(query)))
    expected = example_results[name]
    if isinstance(expected, GraphResult):
        from rdflib import Graph

        def triples(lines):
            return set(Graph().parse(data="\n".join(lines), format="nt"))

        assert triples(result.ntriples) == triples(expected.ntriples)
    else:
        assert golden_text(result) == golden_text(expected)


# ------------------------------------------------------------------------------------------- hostile
@pytest.mark.parametrize(("name", "param"), STRING_PARAMS)
def test_hostile_string_is_bound_as_a_literal_and_changes_nothing(name, param, catalogue, rdflib_store,
                                                                   project):
    query = catalogue.get(name)
    before = (len(rdflib_store.graph), tree_digest(project.data_dir))
    values = {**example_values(query), param: HOSTILE}
    result = rdflib_store.query(query.text, query.bind(values))
    assert isinstance(result, SelectResult) and result.rows == []
    assert (len(rdflib_store.graph), tree_digest(project.data_dir)) == before


@pytest.mark.parametrize(("name", "param"), IRI_PARAMS)
def test_hostile_iri_is_refused_naming_the_parameter(name, param, catalogue):
    query = catalogue.get(name)
    for value in (HOSTILE, "http://example.org/> } ; DROP ALL { <x", "not an iri", "javascript:alert(1)"):
        with pytest.raises(UsageError) as caught:
            query.bind({**example_values(query), param: value})
        assert repr(param) in str(caught.value)


@pytest.mark.parametrize(("name", "values", "param"), [
    ("agreements", {"from": "19x9"}, "from"),
    ("agreements", {"to": "20245"}, "to"),
    ("timeline", {"from": " ; DROP ALL"}, "from"),
    ("events", {"type": "kzcn:Nope"}, "type"),
    ("events", {"type": "http://example.org/Concert"}, "type"),
    ("events-per-year", {"article": "source:article-001"}, "article"),
    ("what-happened", {"date": "1992-13"}, "date"),
    ("what-happened", {"date": "1992-02-30"}, "date"),
    ("what-happened", {"date": "yesterday"}, "date"),
    ("actor-activity", {"actor": "organization:embassy of kazakhstan"}, "actor"),
])
def test_bad_value_is_a_usage_error_naming_the_parameter(name, values, param, catalogue):
    with pytest.raises(UsageError) as caught:
        catalogue.get(name).bind(values)
    assert repr(param) in str(caught.value)


def test_unknown_and_missing_parameters_are_usage_errors(catalogue):
    with pytest.raises(UsageError, match="no parameter 'year'"):
        catalogue.get("agreements").bind({"year": "1992"})
    with pytest.raises(UsageError, match="needs parameter 'actor'"):
        catalogue.get("actor-activity").bind({})


# ----------------------------------------------------------------------------------------------- CLI
def test_cli_lists_every_query():
    out = run_cli("queries").stdout
    for name in NAMES:
        assert name in out
    assert f"({len(NAMES)} queries" in out


@pytest.mark.parametrize("engine", ["oxigraph", "rdflib"])
def test_cli_ci_partners_reads_well(engine, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")  # the table fits the terminal; make it a wide one
    out = run_cli("query", "ci-partners", "--engine", engine).stdout
    for university in HOST_UNIVERSITIES:
        assert university in out, f"{university} missing from the table"
    assert "(5 rows)" in out
    assert "<https://" not in out  # IRIs are shown as prefixed names, labels elsewhere


def test_the_table_width_follows_columns_then_the_terminal(monkeypatch):
    from kgtool import render

    monkeypatch.setenv("COLUMNS", "90")
    assert render.terminal_columns() == 90
    monkeypatch.setenv("COLUMNS", "wide")  # not a number: ask the terminal, which is not one here

    def no_terminal(_fd):
        raise OSError("not a terminal")

    monkeypatch.setattr(render.os, "get_terminal_size", no_terminal)
    assert render.terminal_columns() == 200
    monkeypatch.setattr(render.os, "get_terminal_size", lambda _fd: render.os.terminal_size((132, 40)))
    assert render.terminal_columns() == 132


def test_cli_ci_partners_in_every_format():
    rows = list(csv.reader(io.StringIO(run_cli("query", "ci-partners", "--format", "csv").stdout)))
    assert rows[0][:2] == ["host_university", "host_city"] and len(rows) == 6
    assert {r[0] for r in rows[1:]} == set(HOST_UNIVERSITIES)
    doc = json.loads(run_cli("query", "ci-partners", "--format", "json").stdout)
    assert "host_university" in doc["head"]["vars"] and len(doc["results"]["bindings"]) == 5
    md = run_cli("query", "ci-partners", "--format", "md").stdout.splitlines()
    assert md[0].startswith("| host_university |") and len(md) == 7
    tsv = run_cli("query", "ci-partners", "--format", "tsv").stdout.splitlines()
    assert tsv[0].split("\t")[0] == "?host_university" and len(tsv) == 6


@pytest.mark.parametrize("engine", ["rdflib", "oxigraph"])
def test_cli_query_with_parameters_matches_the_golden(engine, catalogue):
    """End to end through the CLI on each engine: the example of events gives its golden rows."""
    query = catalogue.get("events")
    args = [arg for item in query.example for arg in ("-p", *item.split("=", 1))]
    out = run_cli("query", "events", *args, "--format", "tsv", "--engine", engine).stdout.splitlines()
    golden = (GOLDEN / "events.tsv").read_text(encoding="utf-8").splitlines()
    assert out[0] == golden[0]
    assert sorted(out[1:]) == golden[1:]


def test_cli_hostile_string_changes_nothing(project):
    before = tree_digest(project.data_dir)
    out = run_cli("query", "people-positions", "-p", "role", HOSTILE, "--engine", "rdflib").stdout
    assert "(0 rows)" in out
    assert tree_digest(project.data_dir) == before


def test_cli_unknown_query_suggests_close_names():
    result = run_cli("query", "ci-partner", exit_code=2)
    assert "did you mean" in result.stderr and "ci-partners" in result.stderr


def test_cli_missing_required_parameter_is_exit_2():
    result = run_cli("query", "actor-activity", exit_code=2)
    assert "actor" in result.stderr


def test_cli_bad_parameter_value_is_exit_2_naming_it():
    result = run_cli("query", "agreements", "-p", "from", "nineteen", exit_code=2)
    assert "'from'" in result.stderr and "Traceback" not in result.stderr


def test_literals_and_xml_text_escape_every_control_character():
    """The escapes the result writers use, checked character by character against the rules they
    implement (N-Triples ECHAR and \\uXXXX; XML 1.0 Char), in text around them."""
    from kgtool.render import _xml_chars
    from kgtool.terms import escape_literal

    named = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
    for code in [*range(0x80), 0xA0, 0x2028, 0x10FFFF]:
        char = chr(code)
        expected = named.get(char) or (f"\\u{code:04X}" if code < 0x20 or code == 0x7F else char)
        assert escape_literal(f"a{char}b") == f"a{expected}b", hex(code)
        kept = char in "\t\n\r" or code >= 0x20
        assert _xml_chars(f"a{char}b") == f"a{char if kept else chr(0xFFFD)}b", hex(code)
