"""The network picture: actors, agreements, events and partnerships, and how they are linked.

Nodes are the entities people refer to (sources, references, figures, positions and vocabulary
concepts are left out, or everything would hang off the two articles); edges are the asserted object
properties between them. ``--focus`` walks the links in both directions up to ``--depth`` steps; without
it the picture shows the Confucius Institute partnerships. A node cap keeps the nearest nodes (in
breadth-first order) and says how many were left out.

Output: SVG and PNG (drawn by :mod:`kgtool.network_picture`), DOT (Graphviz) and GraphML.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from rdflib import RDF, Graph, URIRef

from .canvas import VIZ_HINT, wrap_text
from .errors import UsageError
from .hierarchy import is_a, kzcn_types, label_of, most_specific, superclasses
from .namespaces import INSTANCE_BASE, ONTOLOGY, PREFIXES, shorten
from .project import Project

#: Colour groups, first match wins: (legend name, class local name, colour).
GROUPS = (
    ("Confucius Institute", "ConfuciusInstitute", "#D55E00"),
    ("University", "University", "#0072B2"),
    ("Government body", "GovernmentBody", "#6A3D9A"),
    ("Organization", "Organization", "#56B4E9"),
    ("Person", "Person", "#CC79A7"),
    ("Place", "Place", "#009E73"),
    ("Partnership", "Partnership", "#E69F00"),
    ("Agreement", "Agreement", "#882255"),
    ("Event", "CulturalEvent", "#C9A227"),
    ("Event", "EventSeries", "#C9A227"),
    ("Event", "Anniversary", "#C9A227"),
    ("Education programme", "EducationProgram", "#44AA99"),
    ("Work", "Work", "#999933"),
    ("Initiative", "Initiative", "#BB5566"),
)
LEFT_OUT = ("Article", "Reference", "Figure", "Position", "Field", "Measure", "Qualifier")
DEFAULT_SEED_CLASS = "ConfuciusInstitutePartnership"
FORMATS = ("svg", "png", "dot", "graphml")
MAX_NODES = 150


@dataclass(frozen=True)
class Node:
    iri: str
    label: str
    group: str
    colour: str
    kind: str  # label of the most specific class
    depth: int


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    prop: str
    label: str


@dataclass
class Network:
    title: str
    nodes: dict[str, Node]
    edges: list[Edge]
    seeds: list[str]
    left_out: int = 0  # nodes within reach that the cap dropped
    positions: dict[str, tuple[float, float]] = field(default_factory=dict)
    label_modes: dict[str, tuple[str, float]] = field(default_factory=dict)  # iri -> (mode, angle)

    @property
    def note(self) -> str | None:
        if not self.left_out:
            return None
        return (f"{self.left_out} more nodes are within reach; showing the {len(self.nodes)} nearest "
                "(raise --max-nodes or lower --depth)")


def build_network(project: Project, focus: str | None = None, depth: int = 1,
                  max_nodes: int = MAX_NODES) -> Network:
    from .graphs import load_asserted

    if depth < 0:
        raise UsageError("--depth must be 0 or more")
    if max_nodes < 1:
        raise UsageError("--max-nodes must be at least 1")
    graph = load_asserted(project)
    supers = superclasses(graph)
    groups = _groups(graph, supers)
    adjacency, edges = _links(graph, groups)
    if focus:
        seed = _resolve_focus(graph, focus, groups)
        seeds, title = [seed], f"Around {label_of(graph, URIRef(seed))} ({depth} step{'s' * (depth != 1)})"
    else:
        cls = URIRef(ONTOLOGY + DEFAULT_SEED_CLASS)
        seeds = sorted(str(s) for s in graph.subjects(RDF.type, cls) if str(s) in groups)
        title = "Confucius Institutes in Kazakhstan with their host and partner universities"
    reach = _breadth_first(seeds, adjacency, depth, graph, groups)
    kept = dict(list(reach.items())[:max_nodes])
    nodes = {}
    for iri, hops in kept.items():
        name, colour = groups[iri]
        specific = most_specific(kzcn_types(graph, URIRef(iri)), supers)
        nodes[iri] = Node(iri, label_of(graph, URIRef(iri)), name, colour,
                          label_of(graph, specific) if specific else name, hops)
    shown = [e for e in edges if e.source in nodes and e.target in nodes]
    return Network(title, nodes, shown, [s for s in seeds if s in nodes], len(reach) - len(kept))


def _groups(graph: Graph, supers: dict) -> dict[str, tuple[str, str]]:
    """Every entity that can be a node, with its legend group and colour."""
    left_out = [URIRef(ONTOLOGY + name) for name in LEFT_OUT]
    found: dict[str, tuple[str, str]] = {}
    for node in set(graph.subjects(RDF.type, None)):
        if not isinstance(node, URIRef) or not str(node).startswith(INSTANCE_BASE):
            continue
        if any(is_a(graph, supers, node, cls) for cls in left_out):
            continue
        for name, local, colour in GROUPS:
            if is_a(graph, supers, node, URIRef(ONTOLOGY + local)):
                found[str(node)] = (name, colour)
                break
    return found


def _links(graph: Graph, groups: dict) -> tuple[dict[str, set[str]], list[Edge]]:
    adjacency: dict[str, set[str]] = {}
    edges = []
    for s, p, o in graph:
        s_, o_ = str(s), str(o)
        if s_ in groups and o_ in groups and s_ != o_ and str(p).startswith(ONTOLOGY):
            edges.append(Edge(s_, o_, str(p), label_of(graph, p)))
            adjacency.setdefault(s_, set()).add(o_)
            adjacency.setdefault(o_, set()).add(s_)
    edges.sort(key=lambda e: (e.source, e.prop, e.target))
    return adjacency, edges


def _resolve_focus(graph: Graph, focus: str, groups: dict) -> str:
    iri = focus.strip().strip("<>")
    prefix, _, local = iri.partition(":")
    if prefix in PREFIXES and not iri.startswith(("http://", "https://")):
        iri = PREFIXES[prefix] + local
    if iri in groups:
        return iri
    if (URIRef(iri), None, None) in graph:
        raise UsageError(f"{focus} is a source, reference, figure or concept: the network leaves those out",
                         hint="focus on an actor, agreement, event or partnership")
    import difflib

    names = {shorten(i): i for i in groups}
    close = difflib.get_close_matches(shorten(iri), names, n=3, cutoff=0.5)
    hint = f"did you mean: {', '.join(close)}?" if close else "use a prefixed name like place:almaty"
    raise UsageError(f"--focus {focus}: no such entity in the graph", hint=hint)


def _breadth_first(seeds: list[str], adjacency: dict[str, set[str]], depth: int, graph: Graph,
                   groups: dict) -> dict[str, int]:
    """Every node within ``depth`` steps of a seed, in breadth-first order (neighbours by group, label)."""
    order = {name: i for i, (name, _l, _c) in enumerate(GROUPS)}

    def key(iri: str) -> tuple[int, str]:
        return order[groups[iri][0]], label_of(graph, URIRef(iri)).lower()

    reach = {seed: 0 for seed in seeds}
    queue = deque(seeds)
    while queue:
        node = queue.popleft()
        if reach[node] >= depth:
            continue
        for neighbour in sorted(adjacency.get(node, ()), key=key):
            if neighbour not in reach:
                reach[neighbour] = reach[node] + 1
                queue.append(neighbour)
    return reach


# ---------------------------------------------------------------------------------------------- outputs
def render_network(network: Network, fmt: str) -> str | bytes:
    if fmt not in FORMATS:
        raise UsageError(f"unknown graph format {fmt!r}", hint=f"choose one of: {', '.join(FORMATS)}")
    if not network.nodes:
        raise UsageError("nothing to draw: no nodes matched")
    if fmt == "dot":
        return to_dot(network)
    from .network_picture import draw_network, layout

    if fmt == "graphml":
        layout(network)
        return to_graphml(network)
    canvas = draw_network(network)
    return canvas.to_svg() if fmt == "svg" else canvas.to_png()


def _dot_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(network: Network) -> str:
    """Graphviz DOT, ready for ``dot -Tsvg`` or ``sfdp``: labels, colours, edge names, tooltips."""
    lines = [f"digraph kzcn {{\n  graph [label={_dot_string(network.title)}, labelloc=t, fontname=Helvetica, "
             "overlap=false, splines=true, rankdir=LR];",
             '  node [shape=box, style="rounded,filled", fontname=Helvetica, fontsize=10];',
             "  edge [fontname=Helvetica, fontsize=8, color=\"#888888\", fontcolor=\"#555555\"];"]
    for iri, node in network.nodes.items():
        label = _dot_string("\n".join(wrap_text(node.label, 28, 3)))
        lines.append(f'  {_dot_string(iri)} [label={label}, fillcolor="{node.colour}40", '
                     f'color="{node.colour}", tooltip={_dot_string(node.kind + ": " + node.label)}];')
    for edge in network.edges:
        ends = f"{_dot_string(edge.source)} -> {_dot_string(edge.target)}"
        lines.append(f"  {ends} [label={_dot_string(edge.label)}];")
    return "\n".join(lines) + "\n}\n"


def to_graphml(network: Network) -> str:
    """GraphML (networkx's writer, from ``kgtool[viz]``): node label, kind, group, colour, x, y."""
    try:
        import networkx as nx
    except ImportError:
        raise UsageError("GraphML output needs networkx", hint=VIZ_HINT) from None
    graph = nx.MultiDiGraph(name=network.title)
    for iri, node in network.nodes.items():
        x, y = network.positions.get(iri, (0.0, 0.0))
        graph.add_node(iri, label=node.label, kind=node.kind, group=node.group, colour=node.colour,
                       x=round(x, 1), y=round(y, 1))
    # GraphML edge ids are XML ids, unique in the document: numbered, the property kept as data
    for number, edge in enumerate(network.edges):
        graph.add_edge(edge.source, edge.target, key=f"e{number}", property=edge.prop, label=edge.label)
    return "\n".join(nx.generate_graphml(graph, prettyprint=True)) + "\n"
