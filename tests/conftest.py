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


@pytest.fixture(scope="session", autouse=True)
def own_cache(tmp_path_factory: pytest.TempPathFactory):
    """One cache for the session, its own (tests that need an empty one set their own): the suite builds
    hundreds of snapshots of altered projects, which must not fill, or come from, the user's cache. Set in
    the environment, so the kgtool processes the tests start use it too."""
    import os

    before = os.environ.get("KGTOOL_CACHE_DIR")
    os.environ["KGTOOL_CACHE_DIR"] = str(tmp_path_factory.mktemp("kgtool-cache"))
    yield
    if before is None:
        del os.environ["KGTOOL_CACHE_DIR"]
    else:
        os.environ["KGTOOL_CACHE_DIR"] = before


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
