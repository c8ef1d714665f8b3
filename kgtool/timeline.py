"""The timeline picture: dated events and agreements on a time axis, one lane per kind, labelled.

Items are read from the asserted graph (ontology + data; subclass links come from the ontology, so no
reasoning is needed). Each lane packs its labels greedily into rows so that no two overlap; the launch of
the Belt and Road and the anniversaries of diplomatic relations (every five years from 3 January 1992)
are drawn across all lanes, the anniversaries the data records more strongly than the others.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from html import escape

from rdflib import RDF, Graph, URIRef

from .canvas import Canvas, html_page, shorten_text, text_width, wrap_text
from .errors import UsageError
from .hierarchy import is_a, kzcn_types, label_of, most_specific, superclasses
from .namespaces import ONTOLOGY, PREFIXES, shorten
from .project import Project

KZCN = ONTOLOGY
DIPLOMATIC_RELATIONS = PREFIXES["agreement"] + "1992-01-03-establishment-of-diplomatic-relations-kz-cn"
BELT_AND_ROAD = PREFIXES["initiative"] + "belt-and-road-initiative"
FALLBACK_DATES = {DIPLOMATIC_RELATIONS: "1992-01-03", BELT_AND_ROAD: "2013-09"}

#: Lanes, top to bottom: a title, the classes that go in it (with their subclasses), a colour.
LANES = (
    ("Agreements", ("Agreement",), "#0072B2"),
    ("Culture days and festivals", ("CultureDays", "Festival"), "#E69F00"),
    ("Concerts, performances, tours", ("Concert", "Performance", "Tour", "Competition"), "#CC79A7"),
    ("Exhibitions and film", ("Exhibition", "FilmWeek"), "#009E73"),
    ("Forums, meetings, visits", ("Forum", "Meeting", "Visit", "Expedition"), "#3B8FC4"),
    ("Openings and readings", ("Opening", "Reading"), "#8C5A2B"),
    ("Other events", ("CulturalEvent",), "#777777"),
)
BRI_COLOUR, ANNIVERSARY_COLOUR = "#B2182B", "#B8860B"
ROW, LANE_PAD, LABEL_SIZE, LABEL_CHARS = 17, 7, 11, 46
GUTTER, RIGHT, WIDTH = 168, 28, 1200


@dataclass(frozen=True)
class Item:
    iri: str
    label: str
    kind: str  # the most specific class's label
    lane: int
    start: float  # fractional year
    end: float | None
    when: str  # the date as the data gives it
    sources: tuple[str, ...]


@dataclass(frozen=True)
class Marker:
    at: float
    label: str
    colour: str
    strong: bool


@dataclass
class Timeline:
    first: int
    last: int
    items: list[Item]
    markers: list[Marker]
    undated: int
    kind: str | None = None


def fractional_year(value: str, end: bool = False) -> float | None:
    """1992-08-10, 1992-08 or 1992 as a year with a fraction; a month or year sits at its middle."""
    match = re.fullmatch(r"(-?\d{4})(?:-(\d{2})(?:-(\d{2}))?)?(?:Z|[+-]\d{2}:\d{2})?", value.strip())
    if not match:
        return None
    year, month, day = int(match.group(1)), match.group(2), match.group(3)
    if day:
        try:
            doy = datetime.date(year, int(month), int(day)).timetuple().tm_yday
        except ValueError:
            return None
        return year + (doy - 0.5) / 366
    if month:
        return year + (int(month) - (0.0 if end else 0.5)) / 12 if 1 <= int(month) <= 12 else None
    return year + (1.0 if end else 0.5)


#: Years one timeline may span (the bundled data spans 35).
MAX_YEARS = 500


def build_timeline(project: Project, start: int | None = None, end: int | None = None,
                   kind: str | None = None) -> Timeline:
    from .graphs import load_asserted

    graph = load_asserted(project)
    supers = superclasses(graph)
    wanted = resolve_kind(graph, supers, kind) if kind else None
    items, undated = [], 0
    for subject in sorted(_dated_candidates(graph, supers)):
        item = _item(graph, supers, subject, wanted)
        if item is None:
            undated += 1
        elif isinstance(item, Item):
            items.append(item)
    if start is not None and end is not None and start > end:
        raise UsageError(f"--from {start} is after --to {end}")
    first = start if start is not None else min((int(i.start) for i in items), default=1989)
    last = end if end is not None else max((int(i.end or i.start) for i in items), default=2023)
    if last - first >= MAX_YEARS:  # every year is a tick and a column: a million-year axis never finishes
        raise UsageError(f"{first}–{last} is {last - first + 1:,} years: a timeline shows at most {MAX_YEARS}",
                         hint="narrow it with --from and --to")
    items = [i for i in items if (i.end or i.start) >= first and i.start < last + 1]
    items.sort(key=lambda i: (i.lane, i.start, i.label))
    label = label_of(graph, wanted) if wanted else None
    return Timeline(first, last, items, _markers(graph, first, last), undated, label)


def resolve_kind(graph: Graph, supers: dict[URIRef, set[URIRef]], name: str) -> URIRef:
    """A kind of event or agreement named by local name or English label (any case, spaces, hyphens)."""
    roots = {URIRef(KZCN + "Agreement"), URIRef(KZCN + "CulturalEvent")}
    choices = {cls: label_of(graph, cls) for cls, sup in supers.items()
               if sup & roots and str(cls).startswith(KZCN)}
    choices.update({root: label_of(graph, root) for root in roots})
    key = _norm(name.split(":")[-1])
    for cls, label in sorted(choices.items()):
        names = {_norm(str(cls)[len(KZCN):]), _norm(label)}
        if key in names or key.removesuffix("s") in names:
            return cls
    listing = ", ".join(sorted(str(c)[len(KZCN):] for c in choices))
    raise UsageError(f"--type {name!r} is not a kind of event or agreement", hint=f"choose one of: {listing}")


def _norm(text: str) -> str:
    return re.sub(r"[\s_-]+", "", text.lower())


def _dated_candidates(graph: Graph, supers: dict[URIRef, set[URIRef]]) -> set[URIRef]:
    roots = {URIRef(KZCN + "Agreement"), URIRef(KZCN + "CulturalEvent")}
    return {s for s, t in graph.subject_objects(RDF.type)
            if isinstance(s, URIRef) and supers.get(t, {t}) & roots}


def _item(graph: Graph, supers: dict, subject: URIRef, wanted: URIRef | None) -> Item | str | None:
    """An Item; "skip" when filtered out by --type; None when it has no usable date."""
    if wanted is not None and not is_a(graph, supers, subject, wanted):
        return "skip"
    date = graph.value(subject, URIRef(KZCN + "date")) or graph.value(subject, URIRef(KZCN + "startDate"))
    end_value = graph.value(subject, URIRef(KZCN + "endDate"))
    start = fractional_year(str(date)) if date is not None else None
    if start is None:
        return None
    end = fractional_year(str(end_value), end=True) if end_value is not None else None
    specific = most_specific(kzcn_types(graph, subject), supers)
    lane = next(i for i, (_t, classes, _c) in enumerate(LANES)
                if any(URIRef(KZCN + c) in supers.get(specific, {specific}) for c in classes))
    when = str(date) + (f" – {end_value}" if end_value is not None else "")
    articles = graph.objects(subject, URIRef(KZCN + "statedIn"))
    sources = tuple(sorted(label_of(graph, a).split(":")[0] for a in articles))
    return Item(str(subject), label_of(graph, subject), label_of(graph, specific), lane, start,
                end if end is not None and end > start else None, when, sources)


def _markers(graph: Graph, first: int, last: int) -> list[Marker]:
    def date_of(iri: str) -> str:
        value = graph.value(URIRef(iri), URIRef(KZCN + "date"))
        return str(value) if value is not None else FALLBACK_DATES[iri]

    markers = []
    bri = fractional_year(date_of(BELT_AND_ROAD))
    if bri is not None and first <= bri < last + 1:
        markers.append(Marker(bri, f"Belt and Road Initiative launched ({date_of(BELT_AND_ROAD)[:4]})",
                              BRI_COLOUR, True))
    established = date_of(DIPLOMATIC_RELATIONS)
    year = int(established[:4])
    at = fractional_year(established) or year + 0.01
    if first <= year <= last:
        label = f"Diplomatic relations established ({established})"
        markers.append(Marker(at, label, ANNIVERSARY_COLOUR, True))
    recorded = _recorded_anniversaries(graph)
    for n in range(5, last - year + 1, 5):
        if year + n >= first:
            strong = n in recorded
            text = f"{_ordinal(n)} anniversary" + (" of diplomatic relations" if strong else "")
            markers.append(Marker(at + n, text, ANNIVERSARY_COLOUR, strong))
    return sorted(markers, key=lambda m: m.at)


def _recorded_anniversaries(graph: Graph) -> set[int]:
    found = set()
    for anniversary in graph.subjects(URIRef(KZCN + "commemorates"), URIRef(DIPLOMATIC_RELATIONS)):
        ordinal = graph.value(anniversary, URIRef(KZCN + "ordinal"))
        if ordinal is not None and str(ordinal).isdigit():
            found.add(int(str(ordinal)))
    return found


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


# ---------------------------------------------------------------------------------------------- drawing
def _pack(boxes: list[tuple[float, float]]) -> list[int]:
    """Greedy interval packing: the first row where each (left, right) box fits without overlap."""
    rows: list[list[tuple[float, float]]] = []
    placed = []
    for left, right in boxes:
        for index, row in enumerate(rows):
            if all(right <= a or left >= b for a, b in row):
                row.append((left, right))
                placed.append(index)
                break
        else:
            rows.append([(left, right)])
            placed.append(len(rows) - 1)
    return placed


@dataclass
class _Lane:
    title: str
    colour: str
    items: list[Item]
    rows: list[int]
    sides: list[str]
    y: float = 0
    height: float = 0


def draw_timeline(timeline: Timeline, width: float = WIDTH) -> Canvas:
    x0, x1 = GUTTER, width - RIGHT
    per_year = (x1 - x0) / (timeline.last + 1 - timeline.first)

    def x_of(year: float) -> float:
        return x0 + (year - timeline.first) * per_year

    def x_item(year: float) -> float:
        """An item's place, held inside the years shown: a span that began before --from starts at the
        left edge (it was drawn over the lane titles, off the canvas), one that ends after --to at the right."""
        return x_of(min(max(year, timeline.first), timeline.last + 1))

    marker_boxes = []
    for m in timeline.markers:
        w = text_width(m.label, 10.5, "bold" if m.strong else "normal")
        left = min(max(x_of(m.at) - w / 2, x0 - 40), width - w - 6)
        marker_boxes.append((left, left + w + 10))
    marker_rows = _pack(marker_boxes)
    top = 62 + (max(marker_rows, default=-1) + 1) * 15
    lanes = _layout_lanes(timeline, x_item, x1, top + 6)
    bottom = lanes[-1].y + lanes[-1].height if lanes else top + 6
    canvas = Canvas(width, bottom + 44, title=_title(timeline))
    _draw_frame(canvas, timeline, x_of, top, bottom, x0, x1)
    for n, lane in enumerate(lanes):
        canvas.rect(0, lane.y, width, lane.height, "#f6f7f9" if n % 2 == 0 else "#ffffff")
        title_lines = wrap_text(lane.title, 20, 2)
        for line_no, text in enumerate([*title_lines, str(len(lane.items))]):
            last = line_no == len(title_lines)
            canvas.text(10, lane.y + LANE_PAD + 12 + 14 * line_no, text, size=10 if last else 12,
                        weight="normal" if last else "bold", fill="#777777" if last else lane.colour)
    _draw_markers(canvas, timeline, x_of, marker_boxes, marker_rows, bottom)
    for lane in lanes:
        for item, row, side in zip(lane.items, lane.rows, lane.sides, strict=True):
            _draw_item(canvas, item, lane.colour, x_item, lane.y + LANE_PAD + row * ROW + ROW / 2, side)
    return canvas


def _layout_lanes(timeline: Timeline, x_of, x1: float, y: float) -> list[_Lane]:
    lanes = []
    for index, (title, _classes, colour) in enumerate(LANES):
        members = [i for i in timeline.items if i.lane == index]
        if not members:
            continue
        boxes = [_item_box(item, x_of, x1) for item in members]
        rows = _pack([(left, right) for left, right, _side in boxes])
        height = (max(rows) + 1) * ROW + 2 * LANE_PAD
        lanes.append(_Lane(title, colour, members, rows, [side for *_box, side in boxes], y, height))
        y += height
    return lanes


def _item_box(item: Item, x_of, x1: float) -> tuple[float, float, str]:
    x = x_of(item.start)
    end_x = x_of(item.end) if item.end else x
    w = text_width(shorten_text(item.label, LABEL_CHARS), LABEL_SIZE)
    if x + 8 + w <= x1 + RIGHT - 4:
        return x - 6, max(x + 8 + w, end_x) + 8, "right"
    return x - 8 - w - 6, max(x, end_x) + 8, "left"


def _title(timeline: Timeline) -> str:
    what = f"events and agreements ({timeline.kind})" if timeline.kind else "events and agreements"
    return f"Kazakhstan–China cultural relations: {what}, {timeline.first}–{timeline.last}"


def _draw_frame(canvas: Canvas, timeline: Timeline, x_of, top: float, bottom: float, x0: float, x1: float):
    canvas.text(10, 24, _title(timeline), size=17, weight="bold")
    note = f"{len(timeline.items)} dated items, one lane per kind; hover for full names and dates."
    if timeline.undated:
        note += f" {timeline.undated} undated not shown."
    canvas.text(10, 43, note, size=11, fill="#555555")
    step = 1 if (x1 - x0) / (timeline.last + 1 - timeline.first) >= 25 else 2
    for year in range(timeline.first, timeline.last + 2):
        x = x_of(year)
        major = year % 5 == 0
        canvas.line(x, top, x, bottom, stroke="#d0d4da" if major else "#eceef1", width=1)
        canvas.line(x, bottom, x, bottom + (6 if major else 3), stroke="#555555")
        if year <= timeline.last and (year - timeline.first) % step == 0:
            canvas.text(x_of(year + 0.5), bottom + 18, str(year), size=9.5, anchor="middle",
                        weight="bold" if major else "normal", fill="#333333")
    canvas.line(x0, bottom, x1, bottom, stroke="#555555")


def _draw_markers(canvas: Canvas, timeline: Timeline, x_of, boxes, rows, bottom: float) -> None:
    for marker, (left, _right), row in zip(timeline.markers, boxes, rows, strict=True):
        x = x_of(marker.at)
        label_y = 62 + row * 15
        canvas.line(x, label_y + 3, x, bottom, stroke=marker.colour, width=2 if marker.strong else 1.2,
                    dash=None if marker.colour == BRI_COLOUR else ("6 3" if marker.strong else "2 3"),
                    opacity=0.85 if marker.strong else 0.6, title=marker.label)
        canvas.text(left + 2, label_y, marker.label, size=10.5, fill=marker.colour,
                    weight="bold" if marker.strong else "normal", halo=True)


def _draw_item(canvas: Canvas, item: Item, colour: str, x_of, y: float, side: str) -> None:
    x = x_of(item.start)
    tooltip = f"{item.label} — {item.kind}, {item.when}"
    if item.sources:
        tooltip += f" (source: {', '.join(item.sources)})"
    if item.end:
        canvas.rect(x, y - 3, max(x_of(item.end) - x, 2), 6, colour, radius=3, opacity=0.35, title=tooltip)
    canvas.circle(x, y, 4.5, colour, title=tooltip)
    label = shorten_text(item.label, LABEL_CHARS)
    if side == "right":
        canvas.text(x + 8, y + 4, label, size=LABEL_SIZE, halo=True, title=tooltip)
    else:
        canvas.text(x - 8, y + 4, label, size=LABEL_SIZE, anchor="end", halo=True, title=tooltip)


# ---------------------------------------------------------------------------------------------- outputs
FORMATS = ("svg", "png", "html")


def render_timeline(project: Project, fmt: str, start: int | None = None, end: int | None = None,
                    kind: str | None = None) -> str | bytes:
    if fmt not in FORMATS:
        raise UsageError(f"unknown timeline format {fmt!r}", hint=f"choose one of: {', '.join(FORMATS)}")
    timeline = build_timeline(project, start, end, kind)
    if not timeline.items:
        raise UsageError("no dated events or agreements in that range",
                         hint="widen --from/--to or drop --type")
    canvas = draw_timeline(timeline)
    if fmt == "svg":
        return canvas.to_svg()
    if fmt == "png":
        return canvas.to_png()
    return timeline_page(timeline, canvas)


def timeline_page(timeline: Timeline, canvas: Canvas) -> str:
    """A self-contained HTML page: the picture inline, then every item in a table."""
    rows = "\n".join(
        f"<tr><td>{escape(i.when)}</td><td>{escape(i.kind)}</td><td>{escape(i.label)}<br/>"
        f"<code class=\"muted\">{escape(shorten(i.iri))}</code></td>"
        f"<td>{escape(', '.join(i.sources))}</td></tr>"
        for i in sorted(timeline.items, key=lambda i: (i.start, i.label)))
    figure = canvas.to_svg(standalone=False)
    body = (f"<h1>{escape(_title(timeline))}</h1>\n<div class=\"figure\">{figure}</div>\n"
            "<h2>All items</h2>\n<table>\n<tr><th>date</th><th>kind</th><th>name</th><th>source</th></tr>\n"
            f"{rows}\n</table>")
    return html_page(_title(timeline), body)
