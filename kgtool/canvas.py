"""A small drawing surface shared by the timeline and the network picture.

Layout code draws lines, rectangles, circles and text in pixel coordinates (y down, as in SVG); the
canvas then writes them as SVG (plain text, no dependency, deterministic), as PNG (through matplotlib,
from the optional ``kgtool[viz]`` extra, imported only when asked for) or as a self-contained HTML page
with the SVG inline. One layout, several outputs, so the pictures agree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from html import escape

from .errors import UsageError

FONT = "Helvetica, Arial, 'DejaVu Sans', sans-serif"
VIZ_HINT = "install kgtool[viz] (pip install 'kgtool[viz]')"

# Rough advance widths in em for a sans-serif font, generous enough for DejaVu Sans (matplotlib's font).
_NARROW = set("fijlrtI.,:;'!|()[] ")
_WIDE = set("mwMW@%")


def text_width(text: str, size: float, weight: str = "normal") -> float:
    """An estimate of the rendered width of ``text`` in pixels; layout uses it to avoid overlaps."""
    em = 0.0
    for ch in text:
        if ch in _NARROW:
            em += 0.32
        elif ch in _WIDE:
            em += 0.86
        elif ch.isupper() or ch.isdigit():
            em += 0.66 if ch.isupper() else 0.58
        else:
            em += 0.56
    return em * size * (1.21 if weight == "bold" else 1.08)  # calibrated on DejaVu Sans, the widest


def shorten_text(text: str, max_chars: int) -> str:
    """Cut at a word boundary and add an ellipsis when longer than ``max_chars``."""
    if len(text) <= max_chars:
        return text
    cut = text[: max_chars - 1]
    if " " in cut[max_chars // 2:]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:–-") + "…"


def wrap_text(text: str, max_chars: int, max_lines: int) -> list[str]:
    """Greedy word wrap into at most ``max_lines`` lines, the last one shortened if needed."""
    lines: list[str] = []
    current = ""
    words = text.split()
    for index, word in enumerate(words):
        candidate = f"{current} {word}".strip()
        if len(candidate) <= max_chars or not current:
            current = candidate
            continue
        lines.append(current)
        if len(lines) == max_lines - 1:
            current = shorten_text(" ".join(words[index:]), max_chars)
            break
        current = word
    if current:
        lines.append(shorten_text(current, max_chars))
    return lines


@dataclass
class Shape:
    kind: str  # line | rect | circle | text
    geometry: tuple[float, ...]
    style: dict[str, object] = field(default_factory=dict)
    text: str = ""
    title: str | None = None


@dataclass
class Canvas:
    width: float
    height: float
    title: str = ""
    background: str = "#ffffff"
    shapes: list[Shape] = field(default_factory=list)

    def line(self, x1: float, y1: float, x2: float, y2: float, stroke: str = "#999", width: float = 1,
             dash: str | None = None, opacity: float = 1.0, title: str | None = None) -> None:
        style = {"stroke": stroke, "width": width, "dash": dash, "opacity": opacity}
        self.shapes.append(Shape("line", (x1, y1, x2, y2), style, title=title))

    def rect(self, x: float, y: float, w: float, h: float, fill: str, stroke: str | None = None,
             radius: float = 0, opacity: float = 1.0, title: str | None = None) -> None:
        style = {"fill": fill, "stroke": stroke, "radius": radius, "opacity": opacity}
        self.shapes.append(Shape("rect", (x, y, w, h), style, title=title))

    def circle(self, cx: float, cy: float, r: float, fill: str, stroke: str | None = "#ffffff",
               title: str | None = None) -> None:
        self.shapes.append(Shape("circle", (cx, cy, r), {"fill": fill, "stroke": stroke}, title=title))

    def text(self, x: float, y: float, text: str, size: float = 11, anchor: str = "start",
             weight: str = "normal", fill: str = "#222222", rotate: float = 0, halo: bool = False,
             italic: bool = False, title: str | None = None) -> None:
        style = {"size": size, "anchor": anchor, "weight": weight, "fill": fill, "rotate": rotate,
                 "halo": halo, "italic": italic}
        self.shapes.append(Shape("text", (x, y), style, text=text, title=title))

    # ------------------------------------------------------------------ SVG
    def to_svg(self, standalone: bool = True) -> str:
        """The picture as SVG 1.1 text; with ``standalone`` an XML declaration comes first."""
        w, h = _num(self.width), _num(self.height)
        head = '<?xml version="1.0" encoding="UTF-8"?>\n' if standalone else ""
        out = [f'{head}<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
               f'viewBox="0 0 {w} {h}" font-family="{escape(FONT)}" role="img">']
        if self.title:
            out.append(f"<title>{escape(self.title)}</title>")
        out.append("<style>.h { stroke: #ffffff; stroke-width: 3px; stroke-linejoin: round; "
                   "paint-order: stroke; }</style>")
        out.append(f'<rect x="0" y="0" width="{w}" height="{h}" fill="{self.background}"/>')
        out += [_svg_shape(shape) for shape in self.shapes]
        out.append("</svg>\n")
        return "\n".join(out)

    # ------------------------------------------------------------------ PNG
    def to_png(self, scale: float = 2.0) -> bytes:
        """The picture as PNG bytes, drawn by matplotlib (``kgtool[viz]``) at ``scale`` × the SVG size."""
        try:
            import matplotlib

            matplotlib.use("Agg", force=True)
            from matplotlib.figure import Figure
        except ImportError:
            raise UsageError("PNG output needs matplotlib", hint=VIZ_HINT) from None
        import io

        fig = Figure(figsize=(self.width / DPI, self.height / DPI), dpi=DPI, facecolor=self.background)
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_xlim(0, self.width)
        ax.set_ylim(self.height, 0)
        ax.set_axis_off()
        for order, shape in enumerate(self.shapes):
            _draw_matplotlib(ax, shape, order)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=DPI * scale, facecolor=self.background,
                    metadata={"Software": None})
        return buffer.getvalue()


DPI = 96.0
PT = 72.0 / DPI  # one pixel in points


def _draw_matplotlib(ax, shape: Shape, order: int) -> None:
    from matplotlib import patheffects
    from matplotlib.patches import Circle, FancyBboxPatch

    s = shape.style
    if shape.kind == "line":
        x1, y1, x2, y2 = shape.geometry
        ax.plot([x1, x2], [y1, y2], color=s["stroke"], linewidth=float(s["width"]) * PT, alpha=s["opacity"],
                linestyle=(0, _dashes(s["dash"])) if s["dash"] else "-", zorder=order, solid_capstyle="butt")
    elif shape.kind == "rect":
        x, y, w, h = shape.geometry
        ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle=f"round,pad=0,rounding_size={s['radius']}",
                                    facecolor=s["fill"], edgecolor=s["stroke"] or "none", linewidth=PT,
                                    alpha=s["opacity"], zorder=order))
    elif shape.kind == "circle":
        cx, cy, r = shape.geometry
        ax.add_patch(Circle((cx, cy), r, facecolor=s["fill"], edgecolor=s["stroke"] or "none",
                            linewidth=1.2 * PT, zorder=order))
    else:
        x, y = shape.geometry
        halo = [patheffects.withStroke(linewidth=3 * PT, foreground="white")] if s["halo"] else None
        ax.text(x, y, shape.text, fontsize=float(s["size"]) * PT, color=s["fill"],
                ha={"start": "left", "middle": "center", "end": "right"}[str(s["anchor"])], va="baseline",
                rotation=-float(s["rotate"]), rotation_mode="anchor", fontweight=s["weight"],
                fontstyle="italic" if s["italic"] else "normal", path_effects=halo, zorder=order,
                family="DejaVu Sans")


def html_page(title: str, body: str, css: str = "") -> str:
    """A self-contained, well-formed (XML-parsable) HTML5 page: no external URL, CSS inline."""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\" xmlns=\"http://www.w3.org/1999/xhtml\">\n<head>\n"
        "<meta charset=\"utf-8\"/>\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n"
        f"<title>{escape(title)}</title>\n<style>\n{BASE_CSS}{css}</style>\n</head>\n<body>\n"
        f"{body}\n</body>\n</html>\n"
    )


BASE_CSS = """body { font-family: Helvetica, Arial, sans-serif; margin: 1.5rem auto; max-width: 82rem;
  padding: 0 1rem; color: #222; line-height: 1.45; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.3rem; margin-top: 2rem; border-bottom: 1px solid #ddd; }
h3 { font-size: 1.1rem; margin-top: 1.6rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .9rem; }
th, td { border: 1px solid #ddd; padding: .25rem .5rem; text-align: left; vertical-align: top; }
th { background: #f4f4f4; } code, pre { font-family: Menlo, Consolas, monospace; font-size: .85rem; }
pre { background: #f7f7f7; padding: .6rem; overflow-x: auto; border: 1px solid #eee; }
.figure { overflow-x: auto; } .muted { color: #666; } a { color: #1a5fb4; }
"""


def _num(value: float) -> str:
    rounded = round(float(value), 1)
    return str(int(rounded)) if rounded == int(rounded) else str(rounded)


def _dashes(dash: object) -> tuple[float, ...]:
    return tuple(float(part) for part in str(dash).replace(",", " ").split())


def _svg_shape(shape: Shape) -> str:
    s = shape.style
    tooltip = f"<title>{escape(shape.title)}</title>" if shape.title else ""
    if shape.kind == "line":
        x1, y1, x2, y2 = map(_num, shape.geometry)
        extra = f' stroke-dasharray="{s["dash"]}"' if s["dash"] else ""
        extra += f' stroke-opacity="{s["opacity"]}"' if s["opacity"] != 1.0 else ""
        attrs = (f'x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="{s["stroke"]}" '
                 f'stroke-width="{s["width"]}"{extra}')
        return f"<line {attrs}>{tooltip}</line>" if tooltip else f"<line {attrs}/>"
    if shape.kind == "rect":
        x, y, w, h = map(_num, shape.geometry)
        extra = f' stroke="{s["stroke"]}"' if s["stroke"] else ""
        extra += f' rx="{s["radius"]}"' if s["radius"] else ""
        extra += f' fill-opacity="{s["opacity"]}"' if s["opacity"] != 1.0 else ""
        attrs = f'x="{x}" y="{y}" width="{w}" height="{h}" fill="{s["fill"]}"{extra}'
        return f"<rect {attrs}>{tooltip}</rect>" if tooltip else f"<rect {attrs}/>"
    if shape.kind == "circle":
        cx, cy, r = map(_num, shape.geometry)
        extra = f' stroke="{s["stroke"]}" stroke-width="1.2"' if s["stroke"] else ""
        attrs = f'cx="{cx}" cy="{cy}" r="{r}" fill="{s["fill"]}"{extra}'
        return f"<circle {attrs}>{tooltip}</circle>" if tooltip else f"<circle {attrs}/>"
    x, y = map(_num, shape.geometry)
    attrs = f'x="{x}" y="{y}" font-size="{s["size"]}" fill="{s["fill"]}"'
    if s["anchor"] != "start":
        attrs += f' text-anchor="{s["anchor"]}"'
    if s["weight"] != "normal":
        attrs += f' font-weight="{s["weight"]}"'
    if s["italic"]:
        attrs += ' font-style="italic"'
    if s["rotate"]:
        attrs += f' transform="rotate({_num(float(s["rotate"]))} {x} {y})"'
    if s["halo"]:
        attrs += ' class="h"'
    return f"<text {attrs}>{tooltip}{escape(shape.text)}</text>"


def polar(cx: float, cy: float, radius: float, angle: float) -> tuple[float, float]:
    return cx + radius * math.cos(angle), cy + radius * math.sin(angle)
