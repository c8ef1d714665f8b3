"""`kgtool graph`: SVG, PNG, DOT and GraphML are produced, valid, labelled, and laid out apart."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import pytest
from rdflib import RDFS, URIRef

from helpers import REPO, run_cli
from kgtool.graphs import load_asserted
from kgtool.network import build_network
from kgtool.network_picture import layout
from kgtool.project import find_project

SVG = "{http://www.w3.org/2000/svg}"
GRAPHML = "{http://graphml.graphdrawing.org/xmlns}"
KZCN = "https://w3id.org/kzcn/ontology#"


@pytest.fixture(scope="module")
def project():
    return find_project(REPO)


@pytest.fixture(scope="module")
def ci_labels(project) -> dict[str, set[str]]:
    """The labels the Confucius Institute picture must hold, read from the data."""
    graph = load_asserted(project)
    labels: dict[str, set[str]] = {}
    for role in ("hostInstitution", "partnerInstitution", "confuciusInstitute"):
        labels[role] = {str(graph.value(o, RDFS.label)) for o in graph.objects(None, URIRef(KZCN + role))}
    return labels


def all_text(root: ET.Element) -> str:
    return " ".join(" ".join(el.itertext()) for el in root.iter())


def test_default_svg_shows_the_confucius_institutes(tmp_path, ci_labels):
    path = tmp_path / "ci.svg"
    run_cli("graph", "-o", str(path))
    root = ET.parse(path).getroot()
    assert root.tag == f"{SVG}svg"
    text = all_text(root)
    assert len(ci_labels["hostInstitution"]) == 5 and len(ci_labels["confuciusInstitute"]) == 5
    for label in set().union(*ci_labels.values()):
        assert label in text, f"{label!r} missing from the picture"
    assert "Al-Farabi Kazakh National University" in text
    for legend in ("Confucius Institute", "University", "Partnership"):
        assert legend in text
    assert "host institution" in text, "edges carry their property names"


def test_dot_is_graphviz_with_labels_and_edges(tmp_path, ci_labels):
    path = tmp_path / "ci.dot"
    run_cli("graph", "-o", str(path))
    text = path.read_text(encoding="utf-8")
    assert text.startswith("digraph kzcn {") and text.rstrip().endswith("}")
    assert text.count(" -> ") >= 15
    assert "Lanzhou University" in text and 'label="host institution"' in text


def test_graphml_parses_with_every_node_and_edge(tmp_path, project, ci_labels):
    path = tmp_path / "almaty.graphml"
    run_cli("graph", "--focus", "place:almaty", "-o", str(path))
    root = ET.parse(path).getroot()
    assert root.tag == f"{GRAPHML}graphml"
    network = build_network(project, focus="place:almaty")
    nodes = root.findall(f"{GRAPHML}graph/{GRAPHML}node")
    assert len(nodes) == len(network.nodes) > 10
    edges = root.findall(f"{GRAPHML}graph/{GRAPHML}edge")
    assert len(edges) == len(network.edges)
    assert len({e.get("id") for e in edges}) == len(edges), "GraphML edge ids are XML ids: unique"
    text = all_text(root)
    assert "Almaty" in text and "Al-Farabi Kazakh National University" in text


def test_png_is_a_png(tmp_path):
    path = tmp_path / "ci.png"
    run_cli("graph", "-o", str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("module,suffix", [("matplotlib", "png"), ("networkx", "graphml")])
def test_missing_extra_says_what_to_install(tmp_path, monkeypatch, module, suffix):
    monkeypatch.setitem(__import__("sys").modules, module, None)
    result = run_cli("graph", "-o", str(tmp_path / f"g.{suffix}"), exit_code=2)
    assert "kgtool[viz]" in result.stderr


def test_focus_walks_links_both_ways(project):
    network = build_network(project, focus="place:almaty", depth=1)
    almaty = "https://w3id.org/kzcn/id/place/almaty"
    assert network.seeds == [almaty]
    neighbours = {e.target for e in network.edges if e.source == almaty}
    neighbours |= {e.source for e in network.edges if e.target == almaty}
    assert set(network.nodes) - {almaty} == neighbours
    assert any(e.target == almaty for e in network.edges), "incoming links (located in Almaty) are followed"
    assert any(e.source == almaty for e in network.edges), "outgoing links (Almaty located in …) are followed"
    deeper = build_network(project, focus="place:almaty", depth=2, max_nodes=1000)
    assert set(network.nodes) < set(deeper.nodes)
    assert build_network(project, focus="place:almaty", depth=0).nodes.keys() == {almaty}


def test_node_cap_keeps_the_nearest_and_says_so(tmp_path, project):
    result = run_cli("graph", "--focus", "place:kazakhstan", "--depth", "2", "--max-nodes", "12",
                     "-o", str(tmp_path / "kz.svg"))
    assert "more nodes are within reach; showing the 12 nearest" in result.stderr
    network = build_network(project, focus="place:kazakhstan", depth=2, max_nodes=12)
    assert len(network.nodes) == 12
    assert all(node.depth <= 1 for node in network.nodes.values()), "nearest first"


@pytest.mark.parametrize("focus,message", [
    ("place:almati", "did you mean: place:almaty"),
    ("source:article-000", "leaves those out"),
], ids=["typo", "source-node"])
def test_bad_focus_is_exit_2(tmp_path, focus, message):
    result = run_cli("graph", "--focus", focus, "-o", str(tmp_path / "g.svg"), exit_code=2)
    assert message in result.stderr


@pytest.mark.parametrize("focus,depth", [(None, 1), ("place:almaty", 1), ("place:almaty", 2)])
def test_layout_keeps_nodes_apart(project, focus, depth):
    network = build_network(project, focus=focus, depth=depth)
    width, height = layout(network)
    points = list(network.positions.values())
    assert len(points) == len(network.nodes)
    assert all(0 <= x <= width and 0 <= y <= height for x, y in points)
    closest = min(math.dist(a, b) for i, a in enumerate(points) for b in points[i + 1:])
    assert closest >= 15, f"two nodes are {closest:.1f}px apart"


def test_same_data_same_bytes(project):
    from kgtool.network import render_network

    assert render_network(build_network(project), "svg") == render_network(build_network(project), "svg")
    assert render_network(build_network(project), "dot") == render_network(build_network(project), "dot")
