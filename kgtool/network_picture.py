"""The network picture: where each node goes, and the drawing.

Layout (:func:`layout`) is a set of concentric rings per connected component: the focus (or seed) in
the middle, each ring one step further out, its nodes in their parents' order and evenly spaced, so that
none crowd; the first ring leaves a gap at the bottom for the centre's label. Crowded rings get labels
along the radius, sparse ones beside the node. Components are packed in rows. It is deterministic, needs
no numerical library, and reads well for the stars and neighbourhoods this graph is made of.
"""

from __future__ import annotations

import math
from collections import deque

from .canvas import Canvas, polar, shorten_text, text_width, wrap_text
from .namespaces import shorten
from .network import GROUPS, Network

RING, LABEL_SIZE, MARGIN = 120, 11, 24
SIDE_LABELS = 6  # rings with more nodes get their labels along the radius


# ---------------------------------------------------------------------------------------------- layout
def layout(network: Network) -> tuple[float, float]:
    """Give every node a position and a label mode; return the width and height the picture needs."""
    neighbours: dict[str, list[str]] = {iri: [] for iri in network.nodes}
    for edge in network.edges:
        if edge.target not in neighbours[edge.source]:
            neighbours[edge.source].append(edge.target)
            neighbours[edge.target].append(edge.source)
    placed: set[str] = set()
    components = []
    roots = network.seeds + sorted(network.nodes, key=lambda i: (-len(neighbours[i]), network.nodes[i].label))
    for root in roots:
        if root not in placed:
            components.append(_radial(network, root, neighbours, placed))
    return _pack(network, components)


def _radial(network: Network, root: str, neighbours: dict, placed: set) -> dict[str, tuple[float, float]]:
    """A radial tree around ``root``: positions relative to the root, and label modes set on the network."""
    children: dict[str, list[str]] = {root: []}
    level = {root: 0}
    placed.add(root)
    queue = deque([root])
    while queue:
        node = queue.popleft()
        for other in sorted(neighbours[node], key=lambda i: (network.nodes[i].group, network.nodes[i].label)):
            if other not in placed:
                placed.add(other)
                level[other] = level[node] + 1
                children[node].append(other)
                children[other] = []
                queue.append(other)
    rings: dict[int, list[str]] = {}
    for node, ring in level.items():  # BFS order: children follow their parents' order
        rings.setdefault(ring, []).append(node)
    angle = {root: math.pi / 2}
    positions = {root: (0.0, 0.0)}
    network.label_modes[root] = ("below", 0.0)
    radius = _ring_radii(network, rings)
    # Ring 1 leaves a gap at the bottom for the root's label; outer rings go all round, in their
    # parents' order, evenly spaced so that no two nodes crowd each other.
    gap = math.radians(80) if len(rings.get(1, ())) > 1 else 0.0
    parent = {child: node for node, kids in children.items() for child in kids}
    for ring in range(1, len(rings)):
        members = rings[ring]
        if ring > 1:
            members = sorted(members, key=lambda n: (angle[parent[n]], members.index(n)))
        span, start = 2 * math.pi - (gap if ring == 1 else 0.0), math.pi / 2 + (gap / 2 if ring == 1 else 0.0)
        crowded = len(members) > SIDE_LABELS
        for index, node in enumerate(members):
            angle[node] = start + span * (index + 0.5) / len(members)
            positions[node] = polar(0, 0, radius[ring], angle[node])
            network.label_modes[node] = ("radial" if crowded else "side", angle[node])
    return positions


def _ring_radii(network: Network, rings: dict[int, list[str]]) -> dict[int, float]:
    """Ring radii: far enough apart for the inner ring's labels, long enough for the ring's nodes."""
    radius, previous, step = {0: 0.0}, 0.0, float(RING)
    for ring in range(1, len(rings)):
        members = rings[ring]
        crowded = len(members) > SIDE_LABELS
        circumference = len(members) * (20 if crowded else 100)
        radius[ring] = previous = max(previous + step, circumference / (2 * math.pi))
        lines = [line for n in members for line in _label_lines_for(network.nodes[n].label, crowded)]
        step = max(float(RING), max(text_width(line, LABEL_SIZE) for line in lines) + 40)
    return radius


def _label_lines(network: Network, iri: str) -> list[str]:
    return _label_lines_for(network.nodes[iri].label, network.label_modes[iri][0] == "radial")


def _label_lines_for(label: str, radial: bool) -> list[str]:
    return [shorten_text(label, 42)] if radial else wrap_text(label, 26, 3)


def _label_box(network: Network, iri: str, x: float, y: float) -> tuple[float, float, float, float]:
    """The box (left, top, right, bottom) a node's label covers, for the bounding box of a component."""
    mode, angle = network.label_modes[iri]
    lines = _label_lines(network, iri)
    w = max(text_width(line, LABEL_SIZE) for line in lines)
    h = 13 * len(lines)
    if mode == "radial":
        ex, ey = polar(x, y, 12 + w, angle)
        return min(x, ex) - 4, min(y, ey) - 8, max(x, ex) + 4, max(y, ey) + 8
    if mode == "below":
        return x - w / 2, y + 14, x + w / 2, y + 14 + h
    cos = math.cos(angle)
    left = x + 12 if cos > 0.3 else (x - 12 - w if cos < -0.3 else x - w / 2)
    top = y - h / 2 if abs(cos) > 0.3 else (y + 14 if math.sin(angle) > 0 else y - 14 - h)
    return left, top, left + w, top + h


def _pack(network: Network, components: list[dict[str, tuple[float, float]]]) -> tuple[float, float]:
    boxes = []
    for positions in components:
        extents = [_label_box(network, iri, x, y) for iri, (x, y) in positions.items()]
        boxes.append((min(e[0] for e in extents), min(e[1] for e in extents),
                      max(e[2] for e in extents), max(e[3] for e in extents)))
    target = max(1240.0, *(b[2] - b[0] + 2 * MARGIN for b in boxes)) if boxes else 600.0
    x, y, row_height, width = MARGIN, 70.0, 0.0, 0.0
    for positions, (left, top, right, bottom) in zip(components, boxes, strict=True):
        if x > MARGIN and x + (right - left) > target - MARGIN:
            x, y, row_height = MARGIN, y + row_height + 36, 0.0
        for iri, (px, py) in positions.items():
            network.positions[iri] = (px - left + x, py - top + y)
        x += right - left + 48
        row_height = max(row_height, bottom - top)
        width = max(width, x - 48 + MARGIN)
    return max(width, 600.0), y + row_height + 60


# ---------------------------------------------------------------------------------------------- drawing
def draw_network(network: Network) -> Canvas:
    width, height = layout(network)
    names = [name for name, _l, _c in GROUPS]
    groups = sorted({(n.group, n.colour) for n in network.nodes.values()}, key=lambda g: names.index(g[0]))
    width = max(width, text_width(network.title, 17, "bold") + 2 * MARGIN)
    legend_lines = _legend_rows(groups, width)
    canvas = Canvas(width, height + 20 * (len(legend_lines) - 1), title=network.title)
    canvas.text(MARGIN, 28, network.title, size=17, weight="bold")
    subtitle = f"{len(network.nodes)} nodes, {len(network.edges)} links"
    canvas.text(MARGIN, 47, subtitle + (f". {network.note}" if network.note else ""), size=11, fill="#555555")
    pos = network.positions
    taken = [_label_box(network, iri, *pos[iri]) for iri in network.nodes]
    taken += [(x - 10, y - 10, x + 10, y + 10) for x, y in pos.values()]
    for edge in network.edges:
        (x1, y1), (x2, y2) = pos[edge.source], pos[edge.target]
        tooltip = f"{network.nodes[edge.source].label} — {edge.label} → {network.nodes[edge.target].label}"
        canvas.line(x1, y1, x2, y2, stroke="#9aa3ad", width=1.2, title=tooltip)
    for edge in network.edges:  # edge names where they fit, never over another label
        (x1, y1), (x2, y2) = pos[edge.source], pos[edge.target]
        mx, my, half = (x1 + x2) / 2, (y1 + y2) / 2, text_width(edge.label, 8.5) / 2
        box = (mx - half - 2, my - 7, mx + half + 2, my + 5)
        if math.dist((x1, y1), (x2, y2)) > 2 * half + 30 and not any(_overlap(box, t) for t in taken):
            taken.append(box)
            canvas.text(mx, my + 3, edge.label, size=8.5, anchor="middle", fill="#6b7280", halo=True,
                        italic=True)
    for iri, node in network.nodes.items():
        x, y = pos[iri]
        tooltip = f"{node.label} ({node.kind}) {shorten(iri)}"
        seed = iri in network.seeds
        canvas.circle(x, y, 10 if seed else 7, node.colour, stroke="#333333" if seed else "#ffffff",
                      title=tooltip)
        _draw_label(canvas, network, iri, x, y, tooltip)
    for row, entries in enumerate(legend_lines):
        for x, name, colour in entries:
            y = canvas.height - 24 - 20 * (len(legend_lines) - 1 - row)
            canvas.circle(x + 6, y - 4, 6, colour)
            canvas.text(x + 16, y, name, size=11)
    return canvas


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _legend_rows(groups: list[tuple[str, str]], width: float) -> list[list[tuple[float, str, str]]]:
    rows: list[list[tuple[float, str, str]]] = [[]]
    x = MARGIN
    for name, colour in groups:
        w = text_width(name, 11) + 30
        if x + w > width - MARGIN and rows[-1]:
            rows.append([])
            x = MARGIN
        rows[-1].append((x, name, colour))
        x += w
    return rows


def _draw_label(canvas: Canvas, network: Network, iri: str, x: float, y: float, tooltip: str) -> None:
    mode, angle = network.label_modes[iri]
    lines = _label_lines(network, iri)
    weight = "bold" if iri in network.seeds else "normal"
    if mode == "radial":
        degrees = math.degrees(angle)
        flip = math.cos(angle) < 0
        tx, ty = polar(x, y, 12, angle)
        canvas.text(tx, ty + 4, lines[0], size=LABEL_SIZE, anchor="end" if flip else "start",
                    rotate=degrees + 180 if flip else degrees, halo=True, title=tooltip, weight=weight)
        return
    left, top, right, _bottom = _label_box(network, iri, x, y)
    anchor = "start" if mode == "side" and math.cos(angle) > 0.3 else (
        "end" if mode == "side" and math.cos(angle) < -0.3 else "middle")
    tx = {"start": left, "end": right, "middle": (left + right) / 2}[anchor]
    for n, line in enumerate(lines):
        canvas.text(tx, top + 10 + 13 * n, line, size=LABEL_SIZE, anchor=anchor, halo=True, title=tooltip,
                    weight=weight)


