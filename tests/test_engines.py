"""The two engines agree: every canned query, with its header's example parameters, gives the same rows
on Oxigraph (the cached snapshot) and on rdflib (the in-memory graph), with and without inference."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from helpers import REPO, copy_project
from kgtool.binding import bind_parameters
from kgtool.errors import QueryError
from kgtool.project import find_project
from kgtool.run import load_catalogue, open_store
from kgtool.store import ENGINES, OxigraphStore, RdflibStore
from kgtool.terms import AskResult, GraphResult, SelectResult, Term

PROJECT = find_project(REPO)
QUERIES = sorted(load_catalogue(PROJECT), key=lambda q: q.name)


def example_values(query) -> dict[str, str]:
    values = {}
    for item in query.example:
        name, _, value = item.partition("=")
        values[name.strip()] = value.strip()
    return values


@pytest.fixture(scope="module", params=[True, False], ids=["inference", "asserted-only"])
def stores(request):
    return {engine: open_store(PROJECT, inference=request.param, engine=engine) for engine in ENGINES}


def comparable(result):
    if isinstance(result, SelectResult):
        return result.variables, result.sorted_rows()
    if isinstance(result, AskResult):
        return result.value
    assert isinstance(result, GraphResult)
    data = "\n".join(result.ntriples)
    return sorted(str(t) for t in ox.parse(data, format=ox.RdfFormat.N_TRIPLES))


def test_there_are_queries_and_both_engines():
    assert len(QUERIES) >= 5, "queries/ holds almost nothing"
    assert set(ENGINES) == {"oxigraph", "rdflib"}


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: q.name)
def test_every_canned_query_gives_the_same_rows_on_both_engines(stores, query):
    assert isinstance(stores["oxigraph"], OxigraphStore) and isinstance(stores["rdflib"], RdflibStore)
    bindings = query.bind(example_values(query))
    results = {engine: store.query(query.text, bindings) for engine, store in stores.items()}
    oxigraph, rdflib = comparable(results["oxigraph"]), comparable(results["rdflib"])
    assert oxigraph == rdflib, f"{query.name}: the engines disagree"


def test_inference_adds_rows_on_both_engines(stores):
    query = "SELECT ?x WHERE { ?x a <https://w3id.org/kzcn/ontology#Actor> }"
    counts = {engine: len(store.query(query).rows) for engine, store in stores.items()}
    assert counts["oxigraph"] == counts["rdflib"]


# ------------------------------------------------------------------------- sparse data (missing values)

KZCN = "https://w3id.org/kzcn/ontology#"
#: What the sparse copy drops for every other subject: sources, labels, dates, places and notes.
DROPPED = {f"{KZCN}statedIn", "http://www.w3.org/2000/01/rdf-schema#label", f"{KZCN}date", f"{KZCN}startDate",
           f"{KZCN}locatedIn", f"{KZCN}heldIn", f"{KZCN}note"}


@pytest.fixture(scope="module")
def sparse_stores(tmp_path_factory):
    """The bundled data with sources, labels, dates, places and notes missing for half of the subjects:
    the per-row lists and optional columns then meet groups where a value is unbound everywhere (rdflib
    raised on GROUP_CONCAT(DISTINCT ?v) of such a group, which the bundled data never shows)."""
    import rdflib

    target = copy_project(tmp_path_factory.mktemp("sparse"))
    for path in sorted((target / "data").glob("*.ttl")):
        graph = rdflib.Graph().parse(path, format="turtle")
        subjects = sorted({str(s) for s in graph.subjects()})
        thinned = set(subjects[::2])
        for s, p, o in list(graph):
            if str(p) in DROPPED and str(s) in thinned:
                graph.remove((s, p, o))
        graph.serialize(path, format="turtle")
    project = find_project(target)
    return {engine: open_store(project, inference=True, engine=engine) for engine in ENGINES}


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: q.name)
def test_the_engines_agree_where_values_are_missing(sparse_stores, query):
    bindings = query.bind(example_values(query))
    results = {engine: store.query(query.text, bindings) for engine, store in sparse_stores.items()}
    assert comparable(results["oxigraph"]) == comparable(results["rdflib"]), f"{query.name}: the engines disagree"


# ------------------------------------------------------------------------------- parameter binding

EX = "http://example.org/"
TINY = f"""<{EX}a> <{EX}p> "1" . <{EX}a> <{EX}p> "2" . <{EX}b> <{EX}p> "3" . <{EX}c> <{EX}q> "4" ."""
X = {"x": Term.iri(f"{EX}a")}


@pytest.fixture(scope="module")
def tiny_stores():
    import rdflib

    store = ox.Store()
    store.load(TINY, format=ox.RdfFormat.TURTLE)
    return {"oxigraph": OxigraphStore(store, [""]),
            "rdflib": RdflibStore(rdflib.Graph().parse(data=TINY, format="turtle"))}


@pytest.mark.parametrize("sparql, variables, rows", [
    # not projected: bound all the same, and not shown
    (f"SELECT ?v WHERE {{ ?x <{EX}p> ?v }} ORDER BY ?v", ["v"], [["1"], ["2"]]),
    # a FILTER in a group of its own (evaluated bottom-up: a row at the start of WHERE alone is not seen)
    (f"SELECT ?v WHERE {{ {{ ?y <{EX}p> ?v FILTER(?y = ?x) }} }} ORDER BY ?v", ["v"], [["1"], ["2"]]),
    # a sub-select that projects the parameter sees it bound (the canned queries' per-row lists rely on it)
    (f"SELECT ?v WHERE {{ {{ SELECT ?x ?v WHERE {{ ?x <{EX}p> ?v }} ORDER BY DESC(?v) }} }}", ["v"], [["2"], ["1"]]),
    (f"SELECT (GROUP_CONCAT(?v) AS ?all) WHERE {{ {{ SELECT ?x ?v WHERE {{ ?x <{EX}p> ?v }} ORDER BY ?v }} }} "
     "GROUP BY ?x", ["all"], [["1 2"]]),
    # read by a BIND before any pattern binds it (pyoxigraph's substitutions leave it unbound there)
    (f"SELECT ?v WHERE {{ BIND(?x AS ?y) ?y <{EX}p> ?v }} ORDER BY ?v", ["v"], [["1"], ["2"]]),
    (f"SELECT ?v WHERE {{ ?y <{EX}p> ?v BIND(?x AS ?z) FILTER(?y = ?z) }} ORDER BY ?v", ["v"], [["1"], ["2"]]),
    # an aggregate that does not group by it
    (f"SELECT (COUNT(*) AS ?n) WHERE {{ ?x <{EX}p> ?v }}", ["n"], [["2"]]),
    ("SELECT DISTINCT ?x WHERE { ?x ?p ?v }", ["x"], [[f"{EX}a"]]),
    (f'SELECT ?v WHERE {{ ?x <{EX}p> ?v FILTER(?v != "GROUP BY ?y SELECT") }} ORDER BY ?v', ["v"], [["1"], ["2"]]),
])
def test_a_parameter_is_bound_everywhere_and_not_shown_unless_projected(tiny_stores, sparql, variables, rows):
    for engine, store in tiny_stores.items():
        result = store.query(sparql, X)
        assert result.variables == variables, engine
        assert [[t.value for t in row] for row in result.rows] == rows, engine


def test_parameter_rows_go_where_the_variable_is_in_scope_and_nowhere_else():
    term = "(<http://example.org/a>)"
    bound = bind_parameters("SELECT ?v WHERE { ?x ?p ?v OPTIONAL { ?v ?q ?w } { FILTER(?x != ?v) } }", X)
    # the WHERE clause and the group that names ?x; not the OPTIONAL, which does not
    assert bound.count(term) == 2 and "OPTIONAL { VALUES" not in bound
    assert "{ VALUES (?x) { " + term + " }  FILTER" in bound
    # a sub-select that projects ?x is bound inside; one that does not has a ?x of its own
    bound = bind_parameters("SELECT ?v WHERE { { SELECT ?x ?v WHERE { ?x ?p ?v } } "
                            "{ SELECT ?v WHERE { ?x ?p ?v } } }", X)
    assert bound.count(term) == 2 and "SELECT ?v WHERE { VALUES" not in bound.split("} }", 1)[1]
    # a sub-select alone in the WHERE clause: the row goes inside it (VALUES cannot stand beside it)
    bound = bind_parameters("SELECT ?x WHERE { SELECT ?x WHERE { ?x ?p ?v } }", X)
    assert bound.startswith("SELECT ?x WHERE { SELECT ?x WHERE { VALUES (?x)")
    # VALUES data blocks, strings, IRIs and comments are not groups or variables
    text = 'SELECT ?v WHERE { VALUES ?v { "{ ?x" } ?v ?p <http://e/?x> # { ?x\n}'
    assert bind_parameters(text, X).count(term) == 1
    # braces cannot be in an IRI (IRIREF), so "<" there is a "less than" and what follows is query text
    bound = bind_parameters("SELECT ?v WHERE { ?v ?p ?n FILTER(?n<3){?x?q?v.FILTER(?n>1)} }", X)
    assert bound.count(term) == 2
    ox.Store().query(bound)
    # every bound query parses, on both parsers
    for sparql in ("ASK { ?x ?p ?v }", "CONSTRUCT { ?x ?p ?v } WHERE { ?x ?p ?v }",
                   "SELECT (COUNT(*) AS ?n) WHERE { { ?x ?p ?v } UNION { ?v ?p ?x } }"):
        bound = bind_parameters(sparql, X)
        ox.Store().query(bound)
        from rdflib.plugins.sparql.parser import parseQuery
        parseQuery(bound)


@pytest.mark.parametrize("sparql", [
    "SELECT ?x WHERE { { SELECT ?x } }", "SELECT ?x WHERE { { ?x ?p ?o }", "SELECT ?x WHERE { SELECT",
    "SELECT ?x WHERE { ?x ?p ?o } }", "SELECT ?x WHERE { { SELECT ?x WHERE { ?x ?p ?o } }", "?x ?p ?o",
])
def test_a_malformed_query_with_parameters_is_a_query_error(tiny_stores, sparql):
    with pytest.raises(QueryError):
        tiny_stores["oxigraph"].query(sparql, X)


@pytest.mark.parametrize("engine", ["oxigraph", "rdflib"])
def test_select_star_gives_the_columns_in_the_order_the_query_names_them(engine):
    from helpers import run_cli

    text = "SELECT * WHERE { ?s kzcn:party ?p . OPTIONAL { ?s kzcn:date ?d } BIND(1 AS ?one) } LIMIT 1"
    assert run_cli("sparql", "-", "--engine", engine, "-f", "csv", input=text).stdout.splitlines()[0] == "s,p,d,one"
    nested = "SELECT * WHERE { { SELECT ?z ?a WHERE { ?a rdfs:label ?z } LIMIT 1 } ?a a ?t } LIMIT 1"
    assert run_cli("sparql", "-", "--engine", engine, "-f", "csv", input=nested).stdout.splitlines()[0] == "z,a,t"
