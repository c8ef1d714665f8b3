"""The CLI's own behaviour: help, errors without tracebacks, export, reason, stats, sparql safety."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner
from rdflib import Dataset, Graph

from helpers import REPO, copy_project, run_cli, tree_digest
from kgtool.cli import cli

COMMANDS = sorted(cli.commands)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(command):
    out = run_cli(command, "--help").stdout
    assert "Example" in out, f"`kgtool {command} --help` shows no example"


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_is_in_the_readme(command):
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert f"kgtool {command}" in readme


def test_unknown_project_is_a_one_line_error_with_exit_2(tmp_path):
    result = run_cli("--project", str(tmp_path), "stats", exit_code=2)
    assert "not a kgtool project" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert len(result.stderr.strip().splitlines()) == 1


def test_usage_error_exit_2():
    run_cli("export", "--format", "nope", exit_code=2)


@pytest.mark.parametrize("fmt,reader", [
    ("ttl", "turtle"), ("nt", "nt"), ("jsonld", "json-ld"), ("xml", "xml"),
])
def test_export_round_trips_to_the_same_graph(fmt, reader):
    out = run_cli("export", "--format", fmt).stdout
    graph = Graph().parse(data=out, format=reader)
    reference = Graph().parse(data=run_cli("export", "--format", "nt").stdout, format="nt")
    assert len(graph) > 2000
    assert len(graph) == len(reference)


def test_trig_export_keeps_ontology_data_and_inferences_apart():
    dataset = Dataset()
    dataset.parse(data=run_cli("export", "--format", "trig").stdout, format="trig")
    names = {str(g.identifier) for g in dataset.graphs() if len(g)}
    assert {"https://w3id.org/kzcn/graph/ontology", "https://w3id.org/kzcn/graph/asserted",
            "https://w3id.org/kzcn/graph/inferred"} <= names


def test_trig_export_of_the_data_only_has_no_ontology_graph():
    dataset = Dataset()
    dataset.parse(data=run_cli("export", "--format", "trig", "--data-only").stdout, format="trig")
    names = {str(g.identifier) for g in dataset.graphs() if len(g)}
    assert names == {"https://w3id.org/kzcn/graph/asserted", "https://w3id.org/kzcn/graph/inferred"}


@pytest.mark.parametrize("fmt", ["ttl", "nt", "jsonld", "trig", "xml"])
def test_export_is_byte_for_byte_deterministic_across_processes(fmt, tmp_path):
    outputs = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        target = tmp_path / f"out-{seed}.{fmt}"
        subprocess.run([sys.executable, "-m", "kgtool", "export", "--format", fmt, "--inferred",
                        "-o", str(target)], check=True, cwd=REPO, env=env)
        outputs.append(target.read_bytes())
    assert outputs[0] == outputs[1]
    assert len(outputs[0]) > 1000


def test_reason_prints_inferences_and_never_writes_into_data(tmp_path):
    before = tree_digest(REPO / "data")
    out = tmp_path / "inferred.ttl"
    run_cli("reason", "-o", str(out))
    inferred = Graph().parse(out)
    assert len(inferred) > 100
    asserted = Graph().parse(data=run_cli("export", "--format", "nt").stdout, format="nt")
    assert not any(t in asserted for t in inferred), "reason output repeats asserted triples"
    assert tree_digest(REPO / "data") == before


def test_stats_counts_are_consistent():
    stats = json.loads(run_cli("stats", "--format", "json").stdout)
    assert stats["data_triples"] > 1000
    assert stats["per_class"]["kzcn:ConfuciusInstitute"] == 5
    assert stats["dated_events"] > 20
    assert sum(stats["events_per_year"].values()) == stats["dated_events"]
    assert set(stats["facts_per_source"]) == {"source:article-000", "source:article-002"}
    assert "entities per class" in run_cli("stats").stdout


def test_lint_command_conforms():
    assert "conforms" in run_cli("lint").stdout


def test_validate_bundled_data_exit_0_and_formats():
    assert "data/ and ontology/: conforms" in run_cli("validate").stdout
    doc = json.loads(run_cli("validate", "--format", "json").stdout)
    assert doc["conforms"] is True
    report = Graph().parse(data=run_cli("validate", "--format", "ttl").stdout, format="turtle")
    assert len(report) >= 2


def test_sparql_from_stdin_with_predeclared_prefixes():
    query = "SELECT ?ci WHERE { ?ci a kzcn:ConfuciusInstitute } ORDER BY ?ci"
    out = run_cli("sparql", "-", "--format", "csv", input=query).stdout
    assert len(out.strip().splitlines()) == 6


def test_sparql_ask_and_construct():
    assert run_cli("sparql", "-", input="ASK { place:almaty a kzcn:City }").stdout.strip() == "yes"
    out = run_cli("sparql", "-", input="CONSTRUCT { ?s a kzcn:City } WHERE { ?s a kzcn:City }").stdout
    assert len(Graph().parse(data=out, format="turtle")) > 3


@pytest.mark.parametrize("query,word", [
    ("SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }", "SERVICE"),
    ("SELECT * FROM <file:///etc/passwd> WHERE { ?s ?p ?o }", "FROM"),
    ("SELECT * FROM NAMED <http://example.org/g> WHERE { ?s ?p ?o }", "FROM"),
    ("LOAD <http://example.org/data.ttl>", "LOAD"),
    ("INSERT DATA { <urn:a> <urn:b> <urn:c> }", "INSERT"),
    ("DELETE WHERE { ?s ?p ?o }", "DELETE"),
    ("DROP ALL", "DROP"),
])
def test_sparql_refuses_network_disk_and_updates_before_evaluation(query, word):
    result = run_cli("sparql", "-", input=query, exit_code=2)
    assert word in result.stderr and "refused" in result.stderr


def test_keywords_inside_strings_iris_and_variables_are_not_refused():
    query = 'SELECT ?from WHERE { BIND("SERVICE FROM LOAD" AS ?from) }'
    assert "SERVICE FROM LOAD" in run_cli("sparql", "-", input=query).stdout


def test_sparql_syntax_error_is_exit_1_without_traceback():
    result = run_cli("sparql", "-", input="SELECT ?x WHERE { ?x ", exit_code=1)
    assert "query failed" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("engine, where", [("oxigraph", "error at 3:1:"), ("rdflib", "(line:2, col:20)")])
def test_a_syntax_error_is_placed_in_the_users_text_not_below_the_predeclared_prefixes(engine, where):
    query = "SELECT *\nWHERE { ?s ?p ?o . FILTER(?x = ) }\n"
    stderr = run_cli("sparql", "-", "--engine", engine, input=query, exit_code=1).stderr
    assert where in stderr, stderr


def test_sparql_missing_and_non_utf8_files_are_exit_2(tmp_path):
    assert "no such query file" in run_cli("sparql", str(tmp_path / "nope.rq"), exit_code=2).stderr
    bad = tmp_path / "bad.rq"
    bad.write_bytes("SELECT * WHERE { ?s ?p 'é' }".encode("latin-1"))
    assert "not UTF-8" in run_cli("sparql", str(bad), exit_code=2).stderr


def test_output_file_is_written_only_on_success(tmp_path):
    target = tmp_path / "result.csv"
    run_cli("sparql", "-", "-o", str(target), input="SELECT ?x WHERE { ?x ", exit_code=1)
    assert not target.exists()
    run_cli("sparql", "-", "-o", str(target), "--format", "csv", input="SELECT ?c WHERE { ?c a kzcn:City }")
    assert target.read_bytes().startswith(b"c\r\n")


@pytest.mark.parametrize("query", [
    # an escaped quote in a prefixed name (PN_LOCAL_ESC) opened no string, but the keyword check took it
    # for one and blanked the SERVICE after it
    "SELECT * WHERE { OPTIONAL { ?s kzcn:a\\' ?o } SERVICE <http://127.0.0.1:9/sparql> { ?x ?y ?z } "
    "FILTER(?z != 'z') }",
    # a codepoint escape, which rdflib decodes anywhere in a query before it parses
    "SELECT * WHERE { \\u0053ERVICE <http://127.0.0.1:9/sparql> { ?x ?y ?z } }",
    "SELECT * WHERE { \\U00000053ERVICE <http://127.0.0.1:9/sparql> { ?x ?y ?z } }",
], ids=["escaped-quote-in-name", "u-escape", "big-u-escape"])
@pytest.mark.parametrize("engine", ["oxigraph", "rdflib"])
def test_service_cannot_be_smuggled_past_the_check(query, engine):
    stderr = run_cli("sparql", "-", "--engine", engine, input=query, exit_code=2).stderr
    assert "SERVICE refused" in stderr


def test_the_rdflib_engine_refuses_service_when_evaluating_it_too():
    """The second line of defence, below the keyword check: rdflib's own evaluation of SERVICE."""
    import socket

    from kgtool.errors import QueryError
    from kgtool.store import RdflibStore

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(0.2)
    try:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/sparql"
        with pytest.raises(QueryError, match="SERVICE refused"):
            RdflibStore(Graph()).query(f"SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}")
        with pytest.raises(socket.timeout):
            listener.accept()  # nobody called
    finally:
        listener.close()


@pytest.mark.parametrize("args, message", [
    (["sparql", "-", "--timeout", "nan"], "Invalid value for '--timeout': 'nan' is not a finite number of seconds"),
    (["sparql", "-", "--timeout", "inf"], "inf is not in the range 0<=x<=604800.0"),
    (["serve", "--timeout", "nan"], "'nan' is not a finite number of seconds"),
    (["export", "--format", "pdf"], "Invalid value for '-f' / '--format'"),
    (["nosuch"], "No such command 'nosuch'"),
], ids=["nan", "inf", "serve-nan", "format", "command"])
def test_a_usage_error_is_one_line_with_exit_2(args, message):
    """A nan time limit used to be accepted, and silently switched the limit off."""
    stderr = run_cli(*args, input="ASK {}", exit_code=2).stderr
    assert stderr.startswith("kgtool: error: ") and message in stderr and "--help`)" in stderr
    assert stderr.count("\n") == 1, stderr


def test_parameters_take_ascii_digits_only():
    """Fullwidth digits matched \\d, went into the query as an ill-typed date and found nothing (exit 0)."""
    stderr = run_cli("query", "what-happened", "-p", "date", "\uff11\uff19\uff19\uff12-08-10", exit_code=2).stderr
    assert "is not a date" in stderr


def test_a_query_on_stdin_that_is_not_utf8_is_exit_2():
    result = CliRunner().invoke(cli, ["sparql", "-"], input=b"\xff\xfeSELECT")
    assert result.exit_code == 2 and "-: not UTF-8 text (byte 0)" in result.stderr


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")
def test_a_full_disk_on_stdout_is_a_one_line_error():
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, "-m", "kgtool", "export"], cwd=REPO, stdout=full,
                                stderr=subprocess.PIPE, text=True)
    assert result.returncode == 1
    assert result.stderr == "kgtool: error: cannot write the output: No space left on device\n"


@pytest.mark.parametrize("args, message", [
    (["query", "entity-graph", "-p", "entity", "place:almaty", "-f", "csv"], "is a graph, not a csv table"),
    (["query", "has-source", "-p", "entity", "place:almaty", "-f", "ttl"], "is true or false, not a ttl graph"),
    (["query", "ci-partners", "-f", "nt"], "is a table, not a nt graph"),
], ids=["construct-as-csv", "ask-as-turtle", "select-as-ntriples"])
def test_a_format_the_result_cannot_take_is_refused_not_swapped(args, message):
    """entity-graph -f csv printed Turtle, has-source -f ttl printed "yes", both with exit 0."""
    assert message in run_cli(*args, exit_code=2).stderr


def test_each_form_has_its_own_default_format_and_ask_takes_csv():
    assert run_cli("query", "entity-graph", "-p", "entity", "place:almaty").stdout.startswith("@prefix")
    assert run_cli("query", "has-source", "-p", "entity", "place:almaty").stdout == "yes\n"
    csv_lines = run_cli("query", "has-source", "-p", "entity", "place:almaty", "-f", "csv").stdout.splitlines()
    assert csv_lines == ["_askResult", "true"]


def test_xml_is_sparql_xml_results_for_a_table_or_a_boolean_and_rdf_xml_for_a_graph():
    import pyoxigraph as ox

    xml = run_cli("query", "ci-partners", "-f", "xml").stdout
    json_rows = run_cli("query", "ci-partners", "-f", "json").stdout
    parsed = ox.parse_query_results(xml, format=ox.QueryResultsFormat.XML)
    assert [v.value for v in parsed.variables] == ["host_university", "host_city", "chinese_partner",
                                                    "partner_city", "source"]
    rows = [[str(s[v]) if s[v] is not None else None for v in parsed.variables] for s in parsed]
    from_json = ox.parse_query_results(json_rows, format=ox.QueryResultsFormat.JSON)
    assert rows == [[str(s[v]) if s[v] is not None else None for v in from_json.variables] for s in from_json]
    assert len(rows) == 5
    ask = run_cli("query", "has-source", "-p", "entity", "place:almaty", "-f", "xml").stdout
    assert bool(ox.parse_query_results(ask, format=ox.QueryResultsFormat.XML)) is True
    graph = run_cli("query", "entity-graph", "-p", "entity", "place:almaty", "-f", "xml").stdout
    nt = run_cli("query", "entity-graph", "-p", "entity", "place:almaty", "-f", "nt").stdout
    assert {str(t) for t in ox.parse(graph, format=ox.RdfFormat.RDF_XML)} == {line[:-2] for line in nt.splitlines()}


def test_validate_reports_an_ill_typed_literal_in_data_even_where_no_shape_constrains_it(tmp_path):
    """kzcn:note has no sh:datatype, so only the lexical check the gate also runs can see it."""
    root = copy_project(tmp_path / "project")
    (root / "data" / "zz-hand-edit.ttl").write_text(
        "@prefix kzcn: <https://w3id.org/kzcn/ontology#> .\n@prefix place: <https://w3id.org/kzcn/id/place/> .\n"
        '@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\nplace:almaty kzcn:note "abc"^^xsd:integer .\n',
        encoding="utf-8")
    result = run_cli("--project", str(root), "validate", exit_code=1)
    assert "Almaty (place:almaty)" in result.stdout
    assert "“abc” is not a valid xsd:integer [kzcn:note]" in result.stdout
    assert "Traceback" not in result.stderr and not result.stderr.strip()
    for command in (["query", "ci-partners", "--engine", "rdflib"], ["stats"]):  # rdflib parses data/ there
        assert "Traceback" not in run_cli("--project", str(root), *command).stderr


def test_a_project_file_that_is_not_turtle_is_invalid_data_exit_1(tmp_path):
    """`kgtool validate` reports it as it reports a contribution's syntax error, from the project's root;
    the other commands stop on it with its file, line and column. Both exited 2 (input unusable) before."""
    root = copy_project(tmp_path / "project")
    places = root / "data" / "places.ttl"
    lines = places.read_text(encoding="utf-8").count("\n")
    with places.open("a", encoding="utf-8") as out:
        out.write("place:oops a kzcn:City , .\n")
    result = run_cli("--project", str(root), "validate", exit_code=1)
    assert result.stdout.startswith("data/ and ontology/: does not conform (1 violation")
    assert f"violation: data/places.ttl:{lines + 1}:26: invalid Turtle: . is not a valid RDF object" in result.stdout
    finding = json.loads(run_cli("--project", str(root), "validate", "-f", "json", exit_code=1).stdout)["findings"]
    assert [(f["stage"], f["file"], f["line"], f["column"]) for f in finding] == [
        ("syntax", "data/places.ttl", lines + 1, 26)]
    for command in (["query", "ci-partners"], ["query", "ci-partners", "--engine", "rdflib"], ["export"]):
        stderr = run_cli("--project", str(root), *command, exit_code=1).stderr
        assert stderr.startswith(f"kgtool: error: {places}:{lines + 1}:") and "invalid Turtle" in stderr
        assert "Traceback" not in stderr


def test_validate_of_the_bundled_data_runs_without_pyshacl():
    """The fast validator (result for result pySHACL's, tests/test_fastvalidate.py) is what the command
    runs; it used to call pySHACL, so the speed the benchmarks measure was not what users got."""
    code = ("import sys, builtins\nreal = builtins.__import__\n"
            "def guard(name, *a, **k):\n    assert not name.startswith('pyshacl'), 'pyshacl imported'\n"
            "    return real(name, *a, **k)\nbuiltins.__import__ = guard\n"
            "from kgtool.cli import main\nsys.argv = ['kgtool', 'validate']\nmain()\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("data/ and ontology/: conforms")


def test_a_folder_or_a_non_utf8_file_among_the_project_files_is_named(tmp_path):
    """Each was an internal error (IsADirectoryError, UnicodeDecodeError) asking for a bug report."""
    root = copy_project(tmp_path / "project")
    (root / "queries" / "folder.rq").mkdir()
    assert "folder.rq: cannot read" in run_cli("--project", str(root), "queries", exit_code=2).stderr
    (root / "queries" / "folder.rq").rmdir()
    (root / "queries" / "latin1.rq").write_bytes(b'#+ summary: x\nSELECT * WHERE { ?s ?p "caf\xe9" }\n')
    assert "latin1.rq: not UTF-8 text (byte 41)" in run_cli("--project", str(root), "queries", exit_code=2).stderr
    (root / "queries" / "latin1.rq").unlink()
    (root / "data" / "folder.ttl").mkdir()
    for command in (["query", "ci-partners"], ["export"], ["validate"]):
        stderr = run_cli("--project", str(root), *command, exit_code=2).stderr
        assert "folder.ttl: is not a regular file" in stderr and "internal error" not in stderr


def test_an_rdflib_error_while_rows_are_read_is_a_query_error():
    stderr = run_cli("sparql", "-", "--engine", "rdflib", input="SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }",
                     exit_code=1).stderr
    assert stderr.startswith("kgtool: error: query failed:") and "internal error" not in stderr


def test_validate_reports_a_fact_citing_another_articles_reference(tmp_path):
    root = copy_project(tmp_path / "project")
    (root / "data" / "zz-hand-edit.ttl").write_text(
        "@prefix kzcn: <https://w3id.org/kzcn/ontology#> .\n@prefix event: <https://w3id.org/kzcn/id/event/> .\n"
        "@prefix source: <https://w3id.org/kzcn/id/source/> .\n"
        "event:2017-04-17-meeting-on-the-bright-silk-road-concert kzcn:citesReference source:ref-000-kaukenov-2008 .\n",
        encoding="utf-8")
    out = run_cli("--project", str(root), "validate", exit_code=1).stdout
    assert "cites source:ref-000-kaukenov-2008, a reference of source:article-000, which it is not stated in" in out


def test_a_construct_of_everything_gives_the_triples_the_export_gives():
    """Oxigraph stores "25"^^xsd:positiveInteger as "25"^^xsd:integer; graph results put the data's own
    literals back, so the endpoint and the export agree (blank nodes aside: each parse names them anew)."""
    constructed = run_cli("sparql", "-", "-f", "nt", input="CONSTRUCT WHERE { ?s ?p ?o }").stdout
    exported = run_cli("export", "--inferred", "-f", "nt").stdout

    def named(text: str) -> set[str]:
        return {line for line in text.splitlines() if line and "_:" not in line}

    assert named(constructed) == named(exported)
    assert any("XMLSchema#positiveInteger>" in line for line in named(constructed))


def test_validate_reports_two_labels_in_one_language_under_different_tags(tmp_path):
    root = copy_project(tmp_path / "project")
    (root / "data" / "zz-hand-edit.ttl").write_text(
        "@prefix place: <https://w3id.org/kzcn/id/place/> .\n@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        'place:almaty rdfs:label "Alma-Ata"@en-GB .\n', encoding="utf-8")
    out = run_cli("--project", str(root), "validate", exit_code=1).stdout
    assert "Almaty (place:almaty)" in out and "(@en and @en-gb are two labels in the same language)" in out


HAND_EDIT_PREFIXES = (
    "@prefix kzcn: <https://w3id.org/kzcn/ontology#> .\n@prefix event: <https://w3id.org/kzcn/id/event/> .\n"
    "@prefix organization: <https://w3id.org/kzcn/id/organization/> .\n"
    "@prefix agreement: <https://w3id.org/kzcn/id/agreement/> .\n@prefix place: <https://w3id.org/kzcn/id/place/> .\n"
    "@prefix person: <https://w3id.org/kzcn/id/person/> .\n")


def test_validate_checks_hand_edited_links_against_the_ontology(tmp_path):
    """The shapes see the closure, where a link's range types its object: a concert hall given as an
    event's place became a place, and the shape asking for a kzcn:Place was met. `kgtool validate`
    checks data/'s links by the classes data/ asserts, as the gate checks a contribution's."""
    root = copy_project(tmp_path / "project")
    (root / "data" / "zz-hand-edit.ttl").write_text(HAND_EDIT_PREFIXES + (
        "event:2017-04-17-meeting-on-the-bright-silk-road-concert kzcn:place organization:beijing-concert-hall ;\n"
        "    kzcn:subject person:abai-kunanbaev-misspelt .\n"
        "agreement:1992-08-10-cultural-cooperation-kz-cn\n"
        "    kzcn:signatory organization:ministry-of-culture-of-kazakhstan .\n"
        "place:almaty a kzcn:Organization .\n"), encoding="utf-8")
    out = run_cli("--project", str(root), "validate", exit_code=1).stdout
    assert ("kzcn:place links to a kzcn:Place, but organization:beijing-concert-hall is a kzcn:PerformanceVenue"
            in out), out
    assert "kzcn:signatory links to a kzcn:Person, but organization:ministry-of-culture-of-kazakhstan is a" in out
    assert "kzcn:subject links to person:abai-kunanbaev-misspelt, which data/ does not describe" in out
    assert "place:almaty is both a kzcn:Organization and a kzcn:Place, which the ontology declares disjoint" in out
    # the hall is blamed on the link; its clash (place and organization) is not reported a second time
    assert "organization:beijing-concert-hall is both" not in out


def test_a_validation_report_is_the_same_whatever_order_the_snapshot_lists_its_triples(tmp_path):
    """Reports used to follow asserted.nt's line order, which differs between a build and a snapshot made
    from an older one, and named blank-node shapes by labels new at every parse."""
    import random

    import kgtool.snapshot as snapshot_module

    root = copy_project(tmp_path / "project")
    (root / "data" / "zz-hand-edit.ttl").write_text(HAND_EDIT_PREFIXES + "".join(
        f"event:2017-04-17-meeting-on-the-bright-silk-road-concert kzcn:subject person:nobody-{n} .\n"
        for n in range(12)) + 'event:zz-unsourced a kzcn:CulturalEvent ; kzcn:name "A concert"@en .\n',
        encoding="utf-8")
    first = run_cli("--project", str(root), "validate", "--format", "json", exit_code=1).stdout
    findings = json.loads(first)["findings"]
    undescribed = [f["value"] for f in findings if "does not describe" in f["message"]]
    assert len(undescribed) == 12 and undescribed == sorted(undescribed)
    assert not any(f["source_shape"].startswith("_:") for f in findings)
    assert any(f["stage"] == "shacl" for f in findings)
    write_facts = snapshot_module.write_facts

    def shuffled(path, facts):  # the same triples, listed in another order
        lines = [(s, p, o) for p, pairs in facts.items() for s, o in pairs]
        random.Random(7).shuffle(lines)
        grouped: dict = {}
        for s, p, o in lines:
            grouped.setdefault(f"{p}", []).append((s, o))
        write_facts(path, {p: grouped[p] for p in reversed(list(grouped))})

    cache = tmp_path / "cache-2"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KGTOOL_CACHE_DIR", str(cache))
        patch.setattr(snapshot_module, "write_facts", shuffled)
        snapshot_module._found.clear()
        again = run_cli("--project", str(root), "validate", "--format", "json", exit_code=1).stdout
    snapshot_module._found.clear()
    assert again == first


def test_traceback_shows_the_traceback_and_keeps_the_exit_code():
    result = run_cli("--traceback", "query", "no-such-query", exit_code=2)
    assert "Traceback (most recent call last)" in result.stderr
    assert result.stderr.rstrip().splitlines()[-1].startswith("kgtool: error: ")


def test_engine_does_not_apply_to_an_endpoint():
    stderr = run_cli("query", "ci-partners", "--endpoint", "http://127.0.0.1:9/query", "--engine", "rdflib",
                     exit_code=2).stderr
    assert "--engine does not apply to --endpoint" in stderr


def test_a_missing_label_is_reported_once_in_words_that_fit(tmp_path):
    contribution = tmp_path / "no-label.ttl"
    contribution.write_text("@prefix kzcn: <https://w3id.org/kzcn/ontology#> .\n"
                            "<https://w3id.org/kzcn/id/person/nobody-labelled> a kzcn:Person .\n", encoding="utf-8")
    out = run_cli("validate", str(contribution), exit_code=1).stdout
    assert "(1 violation," in out and "Add an English label" in out
    assert "language-tagged literals" not in out


def test_a_second_value_where_one_is_allowed_names_the_value_already_in_data(tmp_path):
    contribution = tmp_path / "second-date.ttl"
    contribution.write_text(
        "@prefix kzcn: <https://w3id.org/kzcn/ontology#> .\n@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"
        "<https://w3id.org/kzcn/id/event/2017-04-17-meeting-on-the-bright-silk-road-concert>"
        ' kzcn:date "2017-05-01"^^xsd:date .\n', encoding="utf-8")
    out = run_cli("validate", str(contribution), exit_code=1).stdout
    assert "data/ already has 2017-04-17 for it" in out


def test_the_alignments_stay_consistent_with_the_vocabularies_they_align_to(tmp_path):
    """Loaded with PROV-O, 65 events were both prov:Activity and prov:Entity (kzcn:statedIn sat under
    prov:wasDerivedFrom, whose domain is prov:Entity); with ORG, Kazakhstan and China became
    org:Organization (kzcn:positionIn sat under org:organization). The axioms of those vocabularies that
    made it so are added here, and validate (which reports disjoint classes) must still pass."""
    root = copy_project(tmp_path / "project")
    ontology = root / "ontology" / "kzcn.ttl"
    ontology.write_text(ontology.read_text(encoding="utf-8") + (
        "\n<http://www.w3.org/ns/prov#wasDerivedFrom> rdfs:domain <http://www.w3.org/ns/prov#Entity> .\n"
        "<http://www.w3.org/ns/prov#wasAssociatedWith> rdfs:domain <http://www.w3.org/ns/prov#Activity> .\n"
        "<http://www.w3.org/ns/prov#Activity> owl:disjointWith <http://www.w3.org/ns/prov#Entity> .\n"
        "<http://www.w3.org/ns/org#organization> rdfs:range <http://www.w3.org/ns/org#Organization> .\n"
        "<http://www.w3.org/ns/org#Organization> owl:disjointWith <https://w3id.org/kzcn/ontology#Place> .\n"),
        encoding="utf-8")
    out = run_cli("--project", str(root), "validate").stdout
    assert out.startswith("data/ and ontology/: conforms"), out[:2000]
