"""`kgtool export`: the fast writer (kgtool.fastexport) and the rdflib path give the same bytes, the
exports hold exactly the project's triples, the Turtle form is the documented one, writes are atomic."""

from __future__ import annotations

import os
import subprocess
import sys

import pyoxigraph as ox
import pytest
from rdflib import Dataset, Graph
from rdflib.compare import isomorphic

from helpers import REPO, copy_project, run_cli
from kgtool import fastexport
from kgtool.export import serialize
from kgtool.exporting import export_graph, export_graph_rdflib, export_inferences
from kgtool.project import find_project
from kgtool.snapshot import get_snapshot, parse_file

OPTIONS = [(False, False), (True, False), (False, True), (True, True)]
TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"

#: Everything the writer has a rule for: bare and quoted literals, long strings, escapes, prefixed and
#: full IRIs, nested blank nodes, lists, shared and cyclic blank nodes.
TRICKY = r'''
@prefix kzcn: <https://w3id.org/kzcn/ontology#> .
@prefix person: <https://w3id.org/kzcn/id/person/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix ex: <http://example.org/> .

person:b rdfs:label "B"@en ; a kzcn:Person , kzcn:Actor ; kzcn:note "x" .
person:a kzcn:note """two
lines with "quotes", a \\ backslash and a "final quote\"""" ,
        "a backslash before an n: \\n, not a line break" , "tab\there" , "ends with \"" ;
    kzcn:value 13 , -7 , 1.50 , .5 , 1e3 , "1."^^xsd:decimal , true , "01"^^xsd:integer ,
        "1"^^xsd:positiveInteger , "2019-13-01"^^xsd:date , "Нұрлы жол"@kk , "塔城"@zh ;
    rdfs:label "A"@en ;
    kzcn:link <https://w3id.org/kzcn/id/person/with/slash> , <https://w3id.org/kzcn/id/person/-dash> ,
        <https://w3id.org/kzcn/id/person/dot.> , <https://w3id.org/kzcn/id/person/a.b-c_d> , <http://example.org/x> ,
        <urn:isbn:123> ;
    kzcn:chain ( kzcn:runBy kzcn:hostInstitution ) ;
    kzcn:nested [ a kzcn:Figure ; kzcn:value 3 ; kzcn:about [ rdfs:label "deep" ] ] ;
    kzcn:empty [] ;
    kzcn:listOfNodes ( [ kzcn:value 1 ] "two" ( 3 ) ) ;
    kzcn:shared _:s .
person:c kzcn:shared _:s .
_:s rdfs:label "shared" .
_:cycle1 kzcn:next _:cycle2 .
_:cycle2 kzcn:next _:cycle1 .
_:alone a kzcn:Thing ; rdfs:label "unreferenced" .
ex:notAList kzcn:list _:l1 .
_:l1 <http://www.w3.org/1999/02/22-rdf-syntax-ns#first> 1 ; <http://www.w3.org/1999/02/22-rdf-syntax-ns#rest> ex:end .
'''


def _lines(text: str) -> list[bytes]:
    return [f"{t.subject} {t.predicate} {t.object}".encode()
            for t in ox.parse(text, format=ox.RdfFormat.TURTLE, rename_blank_nodes=True)]


def _ox_set(text: str, fmt=ox.RdfFormat.TURTLE) -> set[tuple[str, str, str]]:
    return {(str(t.subject), str(t.predicate), str(t.object)) for t in ox.parse(text, format=fmt)}


def _nt(path) -> set[tuple[str, str, str]]:
    return {tuple(line.split(" ", 2)) for line in path.read_text(encoding="utf-8").split(" .\n") if line}


def _same_graph(got: set, expected: set) -> bool:
    """Equal, blank nodes up to renaming."""
    def ground(ts):
        return {t for t in ts if t[0][0] != "_" and t[2][0] != "_"}

    def blank(ts):
        return Graph().parse(data="".join(f"{s} {p} {o} .\n" for s, p, o in ts - ground(ts)), format="nt")

    return ground(got) == ground(expected) and isomorphic(blank(got), blank(expected))


@pytest.fixture(scope="module")
def project():
    return find_project(REPO)


# ------------------------------------------------------------------------------------------ one writer
@pytest.mark.parametrize("fmt", fastexport.FAST_FORMATS)
@pytest.mark.parametrize("inferred,data_only", OPTIONS)
def test_the_fast_path_and_the_rdflib_path_give_the_same_bytes(project, fmt, inferred, data_only):
    fast = export_graph(project, fmt, inferred=inferred, data_only=data_only)
    assert fast == export_graph_rdflib(project, fmt, inferred=inferred, data_only=data_only)
    assert len(fast) > 100_000


@pytest.mark.parametrize("fmt", ["ttl", "nt"])
def test_reason_fast_path_equals_the_rdflib_serialization(project, fmt):
    from kgtool.graphs import inferred_triples

    assert export_inferences(project, fmt) == serialize(inferred_triples(project), fmt)


def test_an_rdflib_graph_and_its_ntriples_lines_give_the_same_turtle():
    # literals in the forms rdflib's parser keeps (it writes .5 as 0.5, 1e3 as 1000.0, "01" as "1" ...)
    text = TRICKY.replace('.5 , 1e3 , "1."^^xsd:decimal', '0.5 , "1000.0"^^xsd:double , 1.0').replace(
        '"01"^^xsd:integer', "1").replace('"2019-13-01"', '"2019-12-01"')
    graph = Graph().parse(data=text, format="turtle")
    assert serialize(graph, "ttl").encode() == fastexport.turtle(_lines(text))
    assert serialize(graph, "nt").encode() == fastexport.ntriples(_lines(text))


# ------------------------------------------------------------------------------------------ exact triples
@pytest.mark.parametrize("fmt,reader", [("ttl", ox.RdfFormat.TURTLE), ("nt", ox.RdfFormat.N_TRIPLES)])
@pytest.mark.parametrize("inferred,data_only", OPTIONS)
def test_export_holds_exactly_the_projects_triples(project, fmt, reader, inferred, data_only):
    snapshot = get_snapshot(project)
    ontology = {tuple(t) for t in parse_file(project.ontology_file)}
    if data_only:
        expected = {tuple(t) for path in project.data_files for t in parse_file(path)} - ontology
    else:
        expected = _nt(snapshot.asserted_file)
    if inferred:
        expected |= _nt(snapshot.inferred_file)
    got = _ox_set(export_graph(project, fmt, inferred=inferred, data_only=data_only), reader)
    assert len(got) == len(expected)
    assert _same_graph(got, expected)
    if data_only:  # the ontology's blank nodes (property chains) stay out too
        assert not any("propertyChainAxiom" in p or "rdf-syntax-ns#first" in p for _s, p, _o in got)


def test_trig_has_ontology_data_and_inferences_in_their_graphs(project):
    dataset = ox.Dataset(ox.parse(export_graph(project, "trig"), format=ox.RdfFormat.TRIG))
    graphs: dict[str, set] = {}
    for q in dataset:
        graphs.setdefault(q.graph_name.value, set()).add((str(q.subject), str(q.predicate), str(q.object)))
    ontology = {tuple(t) for t in parse_file(project.ontology_file)}
    data = {tuple(t) for path in project.data_files for t in parse_file(path)} - ontology
    assert set(graphs) == set(fastexport.GRAPH_NAMES.values())
    assert _same_graph(graphs[fastexport.GRAPH_NAMES["ontology"]], ontology)
    assert _same_graph(graphs[fastexport.GRAPH_NAMES["asserted"]], data)
    assert graphs[fastexport.GRAPH_NAMES["inferred"]] == _nt(get_snapshot(project).inferred_file)
    rdflib_dataset = Dataset()
    rdflib_dataset.parse(data=export_graph(project, "trig"), format="trig")
    assert sum(len(g) for g in rdflib_dataset.graphs()) == len(dataset)


# ------------------------------------------------------------------------------------------ the writer
def test_turtle_round_trips_every_term_exactly():
    written = fastexport.turtle(_lines(TRICKY)).decode()
    assert _same_graph(_ox_set(written), _ox_set(TRICKY))
    assert isomorphic(Graph().parse(data=written, format="turtle"), Graph().parse(data=TRICKY, format="turtle"))
    assert "        01,\n" in written and '"1"^^xsd:positiveInteger' in written  # lexical forms kept
    assert '"1."^^xsd:decimal' in written and '"2019-13-01"^^xsd:date' in written


def test_turtle_form():
    written = fastexport.turtle(_lines(TRICKY)).decode()
    prefixes, _, body = written.partition("\n\n")
    assert prefixes.splitlines() == sorted(prefixes.splitlines())
    assert "@prefix ex:" not in prefixes and "<http://example.org/x>" in body  # only project prefixes
    blocks = body.split("\n\n")
    heads = [block.split(" ", 1)[0] for block in blocks]
    # sorted by N-Triples form (<http://example.org/…> before <https://w3id.org/…>), labelled blank nodes last
    assert heads[:4] == ["<http://example.org/notAList>", "person:a", "person:b", "person:c"]
    assert heads[4:] and all(head.startswith("_:") for head in heads[4:])
    b = blocks[2].splitlines()
    assert b[0] == "person:b a kzcn:Actor," and b[1] == "        kzcn:Person ;"
    assert b[2] == '    rdfs:label "B"@en ;' and b[3] == '    kzcn:note "x" .'
    a = blocks[1]
    assert '        """two\nlines with "quotes", a \\\\ backslash and a "final quote\\""""' in a
    assert '"a backslash before an n: \\\\n, not a line break"' in a
    for bare in ("13,", "-7,", "1.50,", ".5,", "1e3,", "true,"):
        assert f"        {bare}\n" in a or f"kzcn:value {bare}" in a
    assert "kzcn:chain ( kzcn:runBy kzcn:hostInstitution )" in a
    assert "kzcn:listOfNodes ( [ kzcn:value 1 ] \"two\" ( 3 ) )" in a
    assert "kzcn:empty []" in a
    assert "kzcn:nested [ a kzcn:Figure ;" in a and '[ rdfs:label "deep" ]' in a
    assert "person:a.b-c_d" in a and "<https://w3id.org/kzcn/id/person/dot.>" in a
    assert "<https://w3id.org/kzcn/id/person/with/slash>" in a and "<https://w3id.org/kzcn/id/person/-dash>" in a
    assert "kzcn:shared _:" in a  # used twice: labelled
    assert "rdf:first 1" in written  # not a well-formed list (ends in ex:end): written as it is


def test_same_bytes_whatever_the_blank_node_labels_and_input_order():
    first = fastexport.turtle(_lines(TRICKY))
    again = _lines(TRICKY)  # new random blank-node labels
    again.reverse()
    assert fastexport.turtle(again) == first
    assert fastexport.ntriples(_lines(TRICKY)) == fastexport.ntriples(list(reversed(_lines(TRICKY))))


def test_trig_keeps_blank_nodes_of_different_graphs_apart():
    shared = "<urn:a> <urn:p> _:x . <urn:b> <urn:p> _:x . _:x <urn:q> 1 ."
    document = fastexport.trig([("urn:g1", _lines(shared)), ("urn:g2", _lines(shared))]).decode()
    quads = list(ox.parse(document, format=ox.RdfFormat.TRIG))
    assert len(quads) == 6
    assert len({q.subject for q in quads if q.subject.__class__ is ox.BlankNode}) == 2


def test_empty_graph():
    assert fastexport.turtle([]) == b""
    assert fastexport.ntriples([]) == b""


# ------------------------------------------------------------------------------------------ the command
@pytest.mark.parametrize("fmt", ["ttl", "nt", "trig", "nq"])
def test_data_only_export_is_deterministic_across_processes(fmt, tmp_path):
    outputs = []
    for seed in ("1", "2"):
        target = tmp_path / f"out-{seed}.{fmt}"
        subprocess.run([sys.executable, "-m", "kgtool", "export", "--format", fmt, "--data-only", "-o", str(target)],
                       check=True, cwd=REPO, env={**os.environ, "PYTHONHASHSEED": seed})
        outputs.append(target.read_bytes())
    assert outputs[0] == outputs[1] and len(outputs[0]) > 100_000


def test_stdout_and_file_give_the_same_bytes(tmp_path):
    target = tmp_path / "out.ttl"
    run_cli("export", "--inferred", "-o", str(target))
    assert target.read_text(encoding="utf-8") == run_cli("export", "--inferred").stdout


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(project, tmp_path, monkeypatch):
    get_snapshot(project)  # built before os.replace fails (publishing it renames too)
    target = tmp_path / "kzcn.ttl"
    target.write_text("old\n", encoding="utf-8")

    def refuse(*_args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    result = run_cli("export", "-o", str(target), exit_code=2)
    assert result.stderr.strip().splitlines() == [f"kgtool: error: {target}: cannot write (No space left on device)"]
    assert target.read_text(encoding="utf-8") == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["kzcn.ttl"]


def test_unwritable_output_is_a_one_line_error(tmp_path):
    result = run_cli("export", "-o", str(tmp_path / "missing" / "kzcn.ttl"), exit_code=2)
    assert len(result.stderr.strip().splitlines()) == 1 and "does not exist" in result.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_output_to_a_pipe_or_device_is_written_in_place(tmp_path):
    """A rename would replace the device node (as root, `-o /dev/null` became a regular file)."""
    import stat
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    run_cli("export", "--format", "nt", "-o", str(fifo))
    reader.join(timeout=60)
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert received and received[0].decode("utf-8") == run_cli("export", "--format", "nt").stdout


def test_data_with_blank_nodes_is_exported_apart_from_the_ontologys(tmp_path):
    """Data-only exports subtract the ontology from the snapshot when the data has no blank nodes, and
    parse the data files when it has: both ways leave the ontology's property chains out."""
    root = copy_project(tmp_path / "project")
    (root / "data" / "extra.ttl").write_text(
        "@prefix kzcn: <https://w3id.org/kzcn/ontology#> .\n"
        "<https://w3id.org/kzcn/id/event/x> kzcn:note [ kzcn:value 1 ] ; kzcn:chain ( 1 2 ) .\n", encoding="utf-8")
    project = find_project(root)
    for fmt in fastexport.FAST_FORMATS:
        assert export_graph(project, fmt, data_only=True) == export_graph_rdflib(project, fmt, data_only=True)
    written = export_graph(project, "ttl", data_only=True)
    assert "kzcn:note [ kzcn:value 1 ]" in written and "kzcn:chain ( 1 2 )" in written
    assert "propertyChainAxiom" not in written
    assert "propertyChainAxiom" not in export_graph(project, "trig").split("graph/asserted>")[1].split("}")[0]


def test_an_output_through_a_symbolic_link_replaces_the_file_and_keeps_the_link(tmp_path):
    target = tmp_path / "real.csv"
    target.write_text("old\n", encoding="utf-8")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    run_cli("query", "ci-partners", "-f", "csv", "-o", str(link))
    assert link.is_symlink() and link.resolve() == target.resolve()
    assert target.read_text(encoding="utf-8").startswith("host_university,")


# ------------------------------------------------------------------------------ literals as written
ODD_LITERALS = {"INF": "double", "-INF": "double", "NaN": "double", "1.50E0": "double", "abc": "double",
                "01": "integer", "x": "integer", "1.50": "decimal", "1": "boolean"}


def _strict_json(text: str):
    import json

    def refuse(constant):
        raise AssertionError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def _value_objects(doc) -> set[tuple[str, str]]:
    found = set()

    def walk(node):
        if isinstance(node, dict):
            if "@value" in node and "@type" in node:
                found.add((node["@value"], node["@type"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        else:
            assert not isinstance(node, int | float), f"a native JSON number {node!r} loses its lexical form"

    walk(doc)
    return found


def test_json_ld_and_rdf_xml_keep_every_literal_as_written(tmp_path):
    """rdflib's JSON-LD writer made ``"INF"^^xsd:double`` the invalid JSON ``Infinity``, an ill-typed
    ``"abc"^^xsd:double`` a plain string, and its parser turned ``"01"`` into ``"1"``: the export of
    these formats carries the lexical forms the Turtle and N-Triples exports carry."""
    root = copy_project(tmp_path / "project")
    objects = " , ".join(f'"{lex}"^^xsd:{dt}' for lex, dt in ODD_LITERALS.items())
    (root / "data" / "odd.ttl").write_text(
        "@prefix kzcn: <https://w3id.org/kzcn/ontology#> .\n@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"
        f"<https://w3id.org/kzcn/id/event/odd> kzcn:note {objects} .\n", encoding="utf-8")
    project = find_project(root)
    found = _value_objects(_strict_json(export_graph(project, "jsonld", data_only=True)))
    assert {(lex, f"xsd:{dt}") for lex, dt in ODD_LITERALS.items()} <= found
    xml = export_graph(project, "xml", data_only=True)
    for lex, dt in ODD_LITERALS.items():
        assert f'rdf:datatype="http://www.w3.org/2001/XMLSchema#{dt}">{lex}</' in xml
    nt = export_graph(project, "nt", data_only=True)
    assert Graph().parse(data=xml, format="xml").__len__() == len(nt.splitlines())


@pytest.mark.parametrize("engine", ["oxigraph", "rdflib"])
def test_construct_results_keep_odd_literals_in_every_graph_format(engine, tmp_path):
    query = tmp_path / "odd.rq"
    query.write_text('CONSTRUCT { <http://example.org/a> <http://example.org/v> ?o } WHERE { VALUES ?o { '
                     '"INF"^^xsd:double "NaN"^^xsd:double "abc"^^xsd:double } }', encoding="utf-8")
    turtle = run_cli("sparql", str(query), "--engine", engine, "-f", "ttl").stdout
    for literal in ('"INF"^^xsd:double', '"NaN"^^xsd:double', '"abc"^^xsd:double'):
        assert literal in turtle
    assert len(list(ox.parse(turtle.encode(), format=ox.RdfFormat.TURTLE))) == 3
    doc = _strict_json(run_cli("sparql", str(query), "--engine", engine, "-f", "jsonld").stdout)
    assert _value_objects(doc) == {("INF", "xsd:double"), ("NaN", "xsd:double"), ("abc", "xsd:double")}


# ------------------------------------------------------------------------------------------ N-Quads
def _quads(text: str, fmt) -> set[tuple[str, str, str, str]]:
    return {(str(q.subject), str(q.predicate), str(q.object), str(q.graph_name))
            for q in ox.parse(text, format=fmt)}


@pytest.mark.parametrize("data_only", [False, True])
def test_nquads_hold_the_same_quads_as_trig_sorted_per_graph(project, data_only):
    nq = export_graph(project, "nq", data_only=data_only)
    got, expected = (_quads(nq, ox.RdfFormat.N_QUADS),
                     _quads(export_graph(project, "trig", data_only=data_only), ox.RdfFormat.TRIG))
    assert {q[3] for q in got} == {q[3] for q in expected}
    for graph in {q[3] for q in expected}:  # TriG writes lists and single-use blank nodes unlabelled
        assert _same_graph({q[:3] for q in got if q[3] == graph}, {q[:3] for q in expected if q[3] == graph})
    lines = nq.splitlines()
    names = [line.rsplit(" ", 2)[1] for line in lines]
    graphs = [f"<{fastexport.GRAPH_NAMES[g]}>" for g in ("ontology", "asserted", "inferred")][data_only:]
    assert list(dict.fromkeys(names)) == graphs  # one run per graph, in the TriG order
    for graph in graphs:
        mine = [line for line in lines if line.endswith(f" {graph} .")]
        assert mine == sorted(set(mine))
    assert len(lines) == len(set(lines)) and nq.endswith(" .\n")


def test_nquads_keep_blank_nodes_of_different_graphs_apart():
    shared = "<urn:a> <urn:p> _:x . <urn:b> <urn:p> _:x . _:x <urn:q> 1 ."
    document = fastexport.nquads([("urn:g1", _lines(shared)), ("urn:g2", _lines(shared)), ("urn:g3", [])]).decode()
    quads = list(ox.parse(document, format=ox.RdfFormat.N_QUADS))
    assert len(quads) == 6
    assert len({q.subject for q in quads if q.subject.__class__ is ox.BlankNode}) == 2
    assert fastexport.nquads([("urn:g1", [])]) == b""


def test_export_nq_through_the_command(tmp_path):
    target = tmp_path / "kzcn.nq"
    run_cli("export", "--format", "nq", "-o", str(target))
    assert target.read_text(encoding="utf-8") == run_cli("export", "-f", "nq").stdout
    assert len(list(ox.parse(path=str(target), format=ox.RdfFormat.N_QUADS))) > 8000
