"""`kgtool docs`: the pages build, are well-formed and self-contained, and document every term and query."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html import escape
from pathlib import Path

import pytest
from rdflib import OWL, RDF, Graph, Namespace

from helpers import REPO, run_cli
from kgtool.project import find_project
from kgtool.run import load_catalogue

SH = Namespace("http://www.w3.org/ns/shacl#")
KZCN = "https://w3id.org/kzcn/ontology#"
PAGES = ("index.html", "ontology.html", "queries.html")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("site") / "docs"  # not there yet: the command creates it
    result = run_cli("docs", "-o", str(folder))
    assert "wrote 4 files" in result.stderr
    return folder


def page(site: Path, name: str) -> str:
    return (site / name).read_text(encoding="utf-8")


@pytest.mark.parametrize("name", PAGES)
def test_pages_are_well_formed_and_self_contained(site, name):
    text = page(site, name)
    root = ET.fromstring(text)
    assert root.tag.endswith("html")
    assert not re.findall(r'(?:src|href)="(?:https?:)?//', text), "no external resources"
    assert "ontology.html" in text and "queries.html" in text, "every page links the others"


def test_ontology_page_documents_every_class_and_property(site):
    text = page(site, "ontology.html")
    ontology = Graph().parse(REPO / "ontology" / "kzcn.ttl")
    terms = [t for kind in (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)
             for t in ontology.subjects(RDF.type, kind) if str(t).startswith(KZCN)]
    assert len(terms) > 100
    for term in terms:
        assert f'id="{str(term)[len(KZCN):]}"' in text, f"no section for {term}"
    definition = "A higher education institution: university, institute or academy that teaches students."
    assert escape(definition) in text


def test_ontology_page_shows_the_shapes_and_examples(site):
    text = page(site, "ontology.html")
    shapes = Graph().parse(REPO / "ontology" / "shapes.ttl")
    messages = [str(m) for m in shapes.objects(None, SH.message)]
    assert len(messages) > 20
    for message in messages:
        assert escape(message) in text, f"shape message not shown: {message}"
    university = text[text.index('<section id="University">'):]
    university = university[: university.index("</section>")]
    assert "Al-Farabi Kazakh National University" in university, "examples come from the data"


def test_queries_page_runs_every_query(site):
    text = page(site, "queries.html")
    catalogue = list(load_catalogue(find_project(REPO)))
    assert catalogue
    for query in catalogue:
        assert f'<section id="{query.name}">' in text
        assert escape(query.summary) in text
    assert "This query failed" not in text
    ci = text[text.index('<section id="ci-partners">'):]
    assert "Lanzhou University" in ci[: ci.index("</section>")], "the result table is on the page"


def test_index_shows_the_pictures_and_the_void_file(site):
    text = page(site, "index.html")
    assert text.count("<svg") == 2 and "Belt and Road" in text and "Lanzhou University" in text
    assert len(Graph().parse(site / "void.ttl")) > 100


def test_a_file_in_the_way_is_exit_2(tmp_path):
    blocker = tmp_path / "docs"
    blocker.write_text("not a folder")
    run_cli("docs", "-o", str(blocker), exit_code=2)


@pytest.mark.parametrize("name,labels", [
    ("timeline.svg", ("Belt and Road", "25th anniversary", "Agreements")),
    ("graph-ci.svg", ("Al-Farabi Kazakh National University", "Lanzhou University", "Confucius Institute")),
])
def test_readme_shows_a_timeline_and_a_graph(name, labels):
    """The pictures in the README exist, are SVG and show what they should (regenerate: README says how)."""
    path = REPO / "docs" / name
    root = ET.parse(path).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    text = " ".join(" ".join(el.itertext()) for el in root.iter())
    for label in labels:
        assert label in text
    assert path.stat().st_size < 150_000, "keep README pictures small"
    assert f"docs/{name}" in (REPO / "README.md").read_text(encoding="utf-8")


def test_docs_are_written_all_or_nothing_when_a_page_name_is_taken(tmp_path):
    """A folder named index.html stopped the run after ontology.html and queries.html were written."""
    (tmp_path / "index.html").mkdir()
    stderr = run_cli("docs", "-o", str(tmp_path), exit_code=2).stderr
    assert "index.html: is in the way" in stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.html"]


def test_the_readme_shows_the_counts_kgtool_stats_gives():
    """The README's `kgtool stats` excerpt is real output: its first lines are what the command prints now."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    shown = readme.split("$ kgtool stats\n", 1)[1].splitlines()[:2]
    assert shown == run_cli("stats").stdout.splitlines()[:2]
