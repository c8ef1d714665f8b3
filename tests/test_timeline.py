"""`kgtool timeline`: the file is produced, valid for its format, marked, labelled and free of overlaps."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from helpers import REPO, run_cli
from kgtool.canvas import text_width
from kgtool.project import find_project
from kgtool.timeline import LABEL_SIZE, build_timeline, draw_timeline, fractional_year

SVG = "{http://www.w3.org/2000/svg}"
KNOWN_EVENT = "Days of Culture and Art of Kazakhstan in Xinjiang"
KNOWN_AGREEMENT = "Agreement on Cultural Cooperation between Kazakhstan and China"


@pytest.fixture(scope="module")
def project():
    return find_project(REPO)


@pytest.fixture(scope="module")
def svg(tmp_path_factory) -> ET.Element:
    path = tmp_path_factory.mktemp("timeline") / "timeline.svg"
    run_cli("timeline", "-o", str(path))
    return ET.parse(path).getroot()


def all_text(root: ET.Element) -> str:
    return " ".join(" ".join(el.itertext()) for el in root.iter())


def test_svg_is_svg_with_items_and_labels(svg):
    assert svg.tag == f"{SVG}svg"
    assert len(svg.findall(f"{SVG}circle")) > 40, "expected dozens of dated events and agreements"
    text = all_text(svg)
    for label in (KNOWN_EVENT, KNOWN_AGREEMENT, "Agreements", "Culture days and festivals"):
        assert label in text


def test_belt_and_road_and_anniversaries_are_marked(svg, project):
    text = all_text(svg)
    assert "Belt and Road Initiative launched (2013)" in text
    assert "Diplomatic relations established (1992-01-03)" in text
    for ordinal in ("5th", "10th", "15th", "20th", "25th", "30th"):
        assert f"{ordinal} anniversary" in text
    markers = {round(m.at): m for m in build_timeline(project, 1989, 2023).markers}
    assert markers[2017].strong and markers[2022].strong, "the data records the 25th and 30th anniversaries"
    assert int(next(m.at for m in markers.values() if "Belt and Road" in m.label)) == 2013


def test_default_span_covers_1989_to_2023(project):
    timeline = build_timeline(project)
    assert timeline.first <= 1989 and timeline.last >= 2023


def test_no_two_item_labels_overlap(project):
    canvas = draw_timeline(build_timeline(project, 1989, 2023))
    boxes = []
    for shape in canvas.shapes:
        if shape.kind == "text" and shape.style["size"] == LABEL_SIZE:
            x, y = shape.geometry
            w = text_width(shape.text, LABEL_SIZE)
            left = x - w if shape.style["anchor"] == "end" else x
            boxes.append((left, y - 10, left + w, y + 3, shape.text))
    assert len(boxes) > 40
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            overlap = a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
            assert not overlap, f"labels overlap: {a[4]!r} and {b[4]!r}"
    assert all(box[2] <= canvas.width for box in boxes), "a label runs off the picture"


def test_filters_by_year_and_type(project):
    timeline = build_timeline(project, 2013, 2023, "concert")
    assert timeline.items, "the data has concerts between 2013 and 2023"
    assert all(item.kind == "concert" for item in timeline.items)
    assert all(2013 <= item.start < 2024 for item in timeline.items)
    agreements = build_timeline(project, kind="Agreement")
    assert {i.kind for i in agreements.items} >= {"agreement", "treaty"}, "subkinds are included"


def test_a_span_reaching_outside_the_years_shown_is_drawn_inside_them(project):
    """With --from 2005 a programme begun in 2003 was drawn at x = -83, over the lane titles and off the
    canvas; it now starts at the left edge of the years shown."""
    from kgtool.timeline import GUTTER, RIGHT, WIDTH

    timeline = build_timeline(project, 2005, 2010)
    assert any(item.start < 2005 for item in timeline.items), "the data has a span begun before 2005"
    svg = draw_timeline(timeline).to_svg()
    xs = [float(x) for x in re.findall(r'<circle cx="([-0-9.]+)"', svg)]
    assert xs and all(GUTTER <= x <= WIDTH - RIGHT for x in xs), (min(xs), max(xs))


def test_html_is_self_contained_and_well_formed(tmp_path):
    path = tmp_path / "timeline.html"
    run_cli("timeline", "-o", str(path), "--from", "1989", "--to", "2023")
    text = path.read_text(encoding="utf-8")
    root = ET.fromstring(text)
    assert root.tag.endswith("html")
    assert "<svg" in text and KNOWN_EVENT in text and "Belt and Road" in text
    assert not re.findall(r'(?:src|href)="(?:https?:)?//', text), "no external resources"


def test_png_is_a_png(tmp_path):
    path = tmp_path / "timeline.png"
    run_cli("timeline", "--from", "2010", "-o", str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_png_without_matplotlib_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "matplotlib", None)
    result = run_cli("timeline", "-o", str(tmp_path / "t.png"), exit_code=2)
    assert "kgtool[viz]" in result.stderr
    assert not (tmp_path / "t.png").exists()


@pytest.mark.parametrize("args,message", [
    (("--type", "banquet"), "is not a kind of event or agreement"),
    (("--from", "2020", "--to", "2010"), "is after"),
    (("--from", "1700", "--to", "1710"), "no dated events or agreements"),
], ids=["unknown-type", "reversed-range", "empty-range"])
def test_bad_usage_is_exit_2(tmp_path, args, message):
    result = run_cli("timeline", *args, "-o", str(tmp_path / "t.svg"), exit_code=2)
    assert message in result.stderr


def test_format_comes_from_the_file_name(tmp_path):
    result = run_cli("timeline", "-o", str(tmp_path / "t.txt"), exit_code=2)
    assert "add --format" in result.stderr


@pytest.mark.parametrize("value,expected", [
    ("1992-01-03", 1992.0), ("1991-05", 1991.375), ("1989", 1989.5), ("2013-09-07", 2013.68),
])
def test_fractional_year(value, expected):
    assert fractional_year(value) == pytest.approx(expected, abs=0.01)


@pytest.mark.parametrize("value", ["", "May 1991", "1991-13", "2021-02-30"])
def test_fractional_year_refuses_bad_dates(value):
    assert fractional_year(value) is None


def test_same_data_same_bytes(project):
    from kgtool.timeline import render_timeline

    assert render_timeline(project, "svg") == render_timeline(project, "svg")


def test_a_range_too_wide_to_draw_is_refused_at_once(tmp_path):
    """`--from -99999999 --to 99999999` ran until it was killed: every year is drawn."""
    import time

    started = time.monotonic()
    stderr = run_cli("timeline", "-o", str(tmp_path / "t.svg"), "--from", "-99999999", "--to", "99999999",
                     exit_code=2).stderr
    assert "a timeline shows at most 500" in stderr and time.monotonic() - started < 30
    assert not (tmp_path / "t.svg").exists()
