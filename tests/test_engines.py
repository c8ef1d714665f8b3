"""The two engines agree: every canned query, with its header's example parameters, gives the same rows
on Oxigraph (the cached snapshot) and on rdflib (the in-memory graph), with and without inference."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from helpers import REPO
from kgtool.project import find_project
from kgtool.run import load_catalogue, open_store
from kgtool.store import ENGINES, OxigraphStore, RdflibStore
from kgtool.terms import AskResult, GraphResult, SelectResult

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
