"""Shared pytest options and session fixtures: the project, the query catalogue, the graph loaded once.

``pytest --update-golden`` rewrites the golden results of the canned queries (tests/golden/NAME.tsv)
instead of comparing against them; review the diff before committing it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kgtool.project import find_project
from kgtool.queries import Catalogue

REPO = Path(__file__).resolve().parents[1]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite tests/golden/*.tsv from the current results of the canned queries")


@pytest.fixture(scope="session")
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture(scope="session")
def project():
    return find_project(REPO)


@pytest.fixture(scope="session")
def catalogue(project) -> Catalogue:
    return Catalogue(project.queries_dir)


@pytest.fixture(scope="session")
def rdflib_store(project):
    """The bundled graph with its OWL RL inferences, in memory, built once for the whole session."""
    from kgtool.graphs import load_graphs
    from kgtool.store import RdflibStore

    return RdflibStore(load_graphs(project).union())
