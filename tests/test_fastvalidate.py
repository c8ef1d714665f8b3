"""The fast validator gives pySHACL's results, result for result, on the bundled data and on a fixture
with a fault for every kind of constraint; its contribution check equals "full pySHACL on the merged
graph minus full pySHACL on the data" while reading only the contribution's neighbourhood."""

from __future__ import annotations

import logging
import shutil
from collections import Counter
from pathlib import Path

import pytest

from helpers import REPO, copy_project
from kgtool.fastvalidate import check_contribution_fast, project_shapes, validate_project_fast
from kgtool.project import find_project
from kgtool.shapes_fast import compile_shapes
from kgtool.validate import validate_project

FAULTS = Path(__file__).parent / "fixtures" / "validation" / "every-fault.ttl"


def keys(report) -> Counter:
    def blank(text: str) -> str:  # blank-node labels differ between parsers
        return "_:b" if text.startswith("_:") else text

    return Counter((f.severity, f.message, blank(f.focus), f.path, blank(f.value), blank(f.source_shape))
                   for f in report.findings)


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cache")
    patch = pytest.MonkeyPatch()
    patch.setenv("KGTOOL_CACHE_DIR", str(folder))
    yield folder
    patch.undo()


@pytest.fixture(scope="module")
def faulty(tmp_path_factory, cache):
    root = copy_project(tmp_path_factory.mktemp("faulty"))
    shutil.copy(FAULTS, root / "data" / "zz-every-fault.ttl")
    return find_project(root)


def test_the_project_shapes_compile():
    assert project_shapes(find_project(REPO)) is not None


def test_unsupported_features_are_refused():
    shape = ("<urn:s>", "<http://www.w3.org/ns/shacl#targetClass>", "<urn:C>")
    closed = ("<urn:s>", "<http://www.w3.org/ns/shacl#closed>", '"true"^^<http://www.w3.org/2001/XMLSchema#boolean>')
    assert compile_shapes([shape]) is not None
    assert compile_shapes([shape, closed]) is None


@pytest.fixture(scope="module")
def reference(faulty, cache):
    """pySHACL's reports (kgtool validate before this work) for the bundled data and with the faults."""
    logging.disable(logging.CRITICAL)  # rdflib logs every ill-typed literal of the fixture
    try:
        return {"bundled": validate_project(find_project(REPO)), "every-fault": validate_project(faulty)}
    finally:
        logging.disable(logging.NOTSET)


@pytest.mark.parametrize("which", ["bundled", "every-fault"])
def test_same_results_as_pyshacl(which, faulty, reference):
    fast = validate_project_fast(find_project(REPO) if which == "bundled" else faulty)
    assert sum(keys(reference[which]).values()) >= (5 if which == "bundled" else 50)
    assert keys(fast) == keys(reference[which])
    assert fast.conforms == reference[which].conforms


def test_contribution_check_equals_full_runs_before_and_after(reference):
    report = check_contribution_fast(find_project(REPO), [FAULTS])
    caused = keys(reference["every-fault"]) - keys(reference["bundled"])
    assert not report.conforms
    assert keys(report) == caused


def test_a_clean_contribution_conforms(tmp_path, cache):
    clean = tmp_path / "clean.ttl"
    clean.write_text(
        "@prefix kzcn: <https://w3id.org/kzcn/ontology#> .\n"
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        "<https://w3id.org/kzcn/id/person/test-person> a kzcn:Person ; rdfs:label \"Test Person\"@en ;\n"
        "    kzcn:affiliation <https://w3id.org/kzcn/id/organization/al-farabi-kazakh-national-university>"
        " .\n",
        encoding="utf-8")
    assert check_contribution_fast(find_project(REPO), [clean]).conforms
