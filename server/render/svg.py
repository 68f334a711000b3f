"""The map as SVG (PURE): province areas by owner, centres, units, and a phase's orders.

:func:`render_map` takes the ruleset, the province shapes (:mod:`server.render.geometry`)
and a replayed board (:class:`server.saves.replay.Board`) and returns SVG text. Writing it
to a file or rasterising it to PNG happens at the CLI edge.

What is drawn:

* land provinces in the colour of the nation owning their supply centre; a province without
  a centre takes a pale tint of the nation whose unit stands there; the rest are neutral;
  impassable areas are grey (lakes blue), land outside the game pale grey;
* supply centres as small rings (filled with the owner's colour), province labels;
* units: armies as circles, fleets as squares, in their nation's colour, lettered A/F;
* off-map provinces (``ruleset.offmap``) as labelled boxes along the nearest map edge;
* with ``orders``: moves as arrows, supports as dashed lines (to the supported move's arrow
  or round the supported unit), convoyed moves through the convoying fleets, holds as rings,
  retreats, builds and removals; failed orders red with a cross, illegal or void orders grey;
  units dislodged by the phase ringed in red (a retreat phase's dislodged units are drawn
  beside their province, ringed).
"""

from __future__ import annotations

import math
from typing import Iterable
from xml.sax.saxutils import escape

from ..engine.adjustments import centre_counts
from ..engine.notation import parse_order
from ..engine.orders import Build, Convoy, Disband, Hold, Move, Order, Permit, Retreat, Support
from ..engine.ruleset import Ruleset, province_of
from ..engine.state import GameState
from ..saves.model import OrderEntry
from ..saves.replay import Board
from .geometry import NEUTRAL, MapShapes

SEA_BG = "#a9cbe8"
SEA = "#c3dbf0"
SEA_LINE = "#6f98c4"
LAND = "#f1ead6"
LAND_LINE = "#3d3d3d"
OUTSIDE = "#d8d5cc"
IMPASSABLE = "#b0a994"
LAKE = "#8fbbe3"
OK, FAIL, VOID = "#111111", "#d0021b", "#8a8a8a"
FONT = "DejaVu Sans, Verdana, Arial, sans-serif"
BOX_W, BOX_H = 128, 44
LEGEND_W, LEGEND_CLEAR = 210, 230  # legend width; edge length kept free for it


def _tint(colour: str, amount: float, base: str = LAND) -> str:
    """``colour`` mixed into ``base``: ``amount`` 1 gives the colour itself."""
    c = [int(colour[i:i + 2], 16) for i in (1, 3, 5)]
    b = [int(base[i:i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(bb + (cc - bb) * amount):02x}" for cc, bb in zip(c, b))


def _ink(colour: str) -> str:
    """Black or white, whichever reads better on ``colour``."""
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return "#000" if 0.299 * r + 0.587 * g + 0.114 * b > 140 else "#fff"


def _f(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def _label(pid: str) -> str:
    return pid[:1].upper() + pid[1:]


# --- off-map boxes --------------------------------------------------------------------------


def offmap_boxes(ruleset: Ruleset, shapes: MapShapes) -> dict[str, tuple[float, float]]:
    """Top-left corner of each off-map province's box, on the map edge nearest its anchor."""
    w, h = shapes.width, shapes.height
    cx, cy = w / 2, h / 2
    by_edge: dict[str, list[tuple[float, str]]] = {}
    for pid in sorted(ruleset.offmap):
        x, y = shapes.project(*ruleset.provinces[pid].anchor)
        dx, dy = (x - cx) / (w / 2), (y - cy) / (h / 2)
        if abs(dx) >= abs(dy):
            edge, along = ("left" if dx < 0 else "right"), min(max(y, 0.0), float(h))
        else:
            edge, along = ("top" if dy < 0 else "bottom"), min(max(x, 0.0), float(w))
        by_edge.setdefault(edge, []).append((along, pid))
    out: dict[str, tuple[float, float]] = {}
    for edge, items in sorted(by_edge.items()):
        items.sort()
        size = BOX_H + 8 if edge in ("left", "right") else BOX_W + 8
        # keep clear of the title (top left) and the legend (bottom right)
        first = 48.0 if edge in ("left", "top") else 6.0
        limit = (h if edge in ("left", "right") else w) - size - (LEGEND_CLEAR if edge in ("right", "bottom") else 0)
        pos: list[float] = []
        for along, _ in items:  # spread so boxes do not overlap, then keep them on the map
            p = max(along - size / 2, pos[-1] + size if pos else first)
            pos.append(p)
        shift = max(0.0, pos[-1] - limit) if pos else 0.0
        pos = [max(first, p - shift) for p in pos]
        for k in range(1, len(pos)):
            pos[k] = max(pos[k], pos[k - 1] + size)
        for p, (_, pid) in zip(pos, items):
            if edge == "left":
                out[pid] = (6.0, p)
            elif edge == "right":
                out[pid] = (w - BOX_W - 6.0, p)
            elif edge == "top":
                out[pid] = (p, 30.0)
            else:
                out[pid] = (p, h - BOX_H - 6.0)
    return out


# --- the map --------------------------------------------------------------------------------


class _Svg:
    def __init__(self) -> None:
        self.parts: list[str] = []

    def add(self, text: str) -> None:
        self.parts.append(text)

    def text(self, x: float, y: float, s: str, size: float = 10, anchor: str = "middle",
             weight: str = "normal", fill: str = "#222", halo: str | None = "#fff", cls: str = "") -> None:
        h = (f' stroke="{halo}" stroke-width="2.6" stroke-linejoin="round" paint-order="stroke"'
             if halo else "")
        c = f' class="{cls}"' if cls else ""
        self.add(f'<text x="{_f(x)}" y="{_f(y)}" font-size="{size}" text-anchor="{anchor}" '
                 f'font-weight="{weight}" fill="{fill}"{h}{c}>{escape(s)}</text>')


def render_map(ruleset: Ruleset, shapes: MapShapes, board: Board, *, orders: bool = False,
               title: str = "") -> str:
    """SVG text of ``board`` (module docstring). ``orders`` draws the phase's orders.

    Raises:
        ValueError: ``shapes`` were computed for another ruleset.
    """
    if shapes.ruleset_digest != ruleset.digest:
        raise ValueError("the shapes belong to another ruleset (digest mismatch)")
    st = board.state
    owners = st.owners()
    colour = {n.id: n.colour for n in ruleset.nations}
    boxes = offmap_boxes(ruleset, shapes)
    pos = dict(shapes.points)
    for pid, (x, y) in boxes.items():
        pos[pid] = (x + BOX_W - 18, y + BOX_H / 2)
    for loc in ruleset.fleet_adj:
        if loc not in pos and province_of(loc) in pos:
            pos[loc] = pos[province_of(loc)]
    w, h = shapes.width, shapes.height
    out = _Svg()
    out.add(f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
            f'viewBox="0 0 {w} {h}" font-family="{FONT}">')
    out.add(_defs())
    out.add(f'<rect width="{w}" height="{h}" fill="{SEA_BG}"/>')

    occupant = {u.province: u.nation for u in st.units}
    out.add('<g id="seas">')
    for key in sorted(shapes.paths):
        if shapes.terrain.get(key) == "sea" and key in ruleset.provinces:
            out.add(f'<path id="p-{key}" d="{shapes.paths[key]}" fill="{SEA}" stroke="{SEA_LINE}" '
                    f'stroke-width="0.9" fill-rule="evenodd"/>')
    out.add('</g><g id="lands">')
    for key in sorted(shapes.paths):
        if key == NEUTRAL:
            fill = OUTSIDE
        elif key in ruleset.impassable:
            fill = IMPASSABLE if shapes.terrain[key] == "land" else LAKE
        elif shapes.terrain.get(key) != "land":
            continue
        elif key in owners:
            fill = colour[owners[key]]
        elif key in occupant and key not in ruleset.centres:
            fill = _tint(colour[occupant[key]], 0.4)
        else:
            fill = LAND
        out.add(f'<path id="p-{key}" d="{shapes.paths[key]}" fill="{fill}" stroke="{LAND_LINE}" '
                f'stroke-width="0.8" stroke-linejoin="round" fill-rule="evenodd"/>')
    out.add("</g>")
    _offmap(out, ruleset, boxes, owners, colour)

    # labels and centres
    out.add('<g id="labels">')
    for pid in sorted(ruleset.impassable):
        if pid in shapes.points:
            continue
        x, y = shapes.project(*ruleset.impassable[pid][1])
        out.text(x, y + 4, ruleset.impassable[pid][0], size=9, fill="#444")
    for pid in sorted(ruleset.provinces):
        if pid in boxes or pid not in pos:
            continue
        x, y = pos[pid]
        sea = ruleset.provinces[pid].is_sea
        out.text(x, y + 21, _label(pid), size=10.5 if not sea else 10,
                 fill="#27496d" if sea else "#222", weight="normal" if sea else "bold",
                 cls="label")
    out.add('</g><g id="centres">')
    for pid in sorted(ruleset.centres):
        if pid not in pos:
            continue
        x, y = pos[pid]
        if pid in boxes:
            x, y = boxes[pid][0] + 10, boxes[pid][1] + 10
        else:
            x, y = x + 13, y - 10
        fill = colour.get(owners.get(pid, ""), "#ffffff")
        out.add(f'<circle class="centre" data-province="{pid}" cx="{_f(x)}" cy="{_f(y)}" r="4.2" '
                f'fill="{fill}" stroke="#111" stroke-width="1.3"/>'
                f'<circle cx="{_f(x)}" cy="{_f(y)}" r="1.4" fill="#111"/>')
    out.add("</g>")

    dislodged_now = {d.unit.province for d in (board.turn.dislodged if (orders and board.turn) else ())}
    out.add('<g id="units">')
    for u in st.units:
        x, y = pos.get(u.loc, pos.get(u.province, (0.0, 0.0)))
        _unit(out, u.kind, x, y, colour[u.nation], u.nation, u.loc,
              ring=FAIL if u.province in dislodged_now else None)
    for d in st.dislodged:
        x, y = pos.get(d.unit.loc, pos.get(d.unit.province, (0.0, 0.0)))
        _unit(out, d.unit.kind, x + 13, y + 11, colour[d.unit.nation], d.unit.nation, d.unit.loc,
              ring=FAIL, dislodged=True)
    out.add("</g>")

    if orders and board.record is not None:
        out.add('<g id="orders">')
        _orders(out, ruleset, st, board.record.orders, pos)
        out.add("</g>")
    _title(out, ruleset, board, title)
    _legend(out, ruleset, st, w, h)
    out.add("</svg>")
    return "\n".join(out.parts) + "\n"


def _defs() -> str:
    marks = []
    for name, col in (("ok", OK), ("fail", FAIL), ("void", VOID), ("ret", "#7b2fbe")):
        marks.append(f'<marker id="arrow-{name}" viewBox="0 0 10 10" refX="8" refY="5" '
                     f'markerWidth="5" markerHeight="5" orient="auto-start-reverse">'
                     f'<path d="M0,0 L10,5 L0,10 z" fill="{col}"/></marker>')
    return "<defs>" + "".join(marks) + "</defs>"


def _offmap(out: _Svg, ruleset: Ruleset, boxes: dict[str, tuple[float, float]],
            owners: dict[str, str], colour: dict[str, str]) -> None:
    if not boxes:
        return
    out.add('<g id="offmap">')
    for pid, (x, y) in sorted(boxes.items()):
        p = ruleset.provinces[pid]
        fill = SEA if p.is_sea else (colour[owners[pid]] if pid in owners else LAND)
        out.add(f'<rect id="p-{pid}" class="offmap" x="{_f(x)}" y="{_f(y)}" width="{BOX_W}" '
                f'height="{BOX_H}" rx="5" fill="{fill}" stroke="{LAND_LINE}" stroke-width="1.2" '
                f'stroke-dasharray="5 3"/>')
        out.text(x + 8 + (10 if p.centre else 0), y + 15, p.name, size=10, anchor="start", weight="bold")
        out.text(x + 8, y + 34, "off map", size=8.5, anchor="start", fill="#555")
    out.add("</g>")


def _unit(out: _Svg, kind: str, x: float, y: float, fill: str, nation: str, loc: str,
          ring: str | None = None, dislodged: bool = False) -> None:
    cls = "unit dislodged" if dislodged else "unit"
    attrs = f'class="{cls}" data-nation="{nation}" data-kind="{kind}" data-loc="{loc}"'
    if ring:
        out.add(f'<circle cx="{_f(x)}" cy="{_f(y)}" r="13" fill="none" stroke="{ring}" '
                f'stroke-width="2.2" stroke-dasharray="{"3 2" if dislodged else "none"}"/>')
    if kind == "A":
        out.add(f'<circle {attrs} cx="{_f(x)}" cy="{_f(y)}" r="9" fill="{fill}" '
                f'stroke="#111" stroke-width="1.4"/>')
    else:
        out.add(f'<rect {attrs} x="{_f(x - 8.5)}" y="{_f(y - 8.5)}" width="17" height="17" rx="2" '
                f'fill="{fill}" stroke="#111" stroke-width="1.4"/>')
    out.text(x, y + 4, kind, size=11, weight="bold", fill=_ink(fill), halo=None)


# --- orders ---------------------------------------------------------------------------------


def _style(result: str) -> tuple[str, str, str]:
    """(colour, marker name, dash) for a result."""
    if result == "succeeds":
        return OK, "ok", ""
    if result == "fails":
        return FAIL, "fail", ""
    return VOID, "void", ' stroke-dasharray="2 3"'


def _shorten(x1: float, y1: float, x2: float, y2: float, a: float, b: float) -> tuple[float, float, float, float]:
    d = math.hypot(x2 - x1, y2 - y1) or 1.0
    ux, uy = (x2 - x1) / d, (y2 - y1) / d
    a, b = min(a, d / 3), min(b, d / 3)
    return x1 + ux * a, y1 + uy * a, x2 - ux * b, y2 - uy * b


def _cross(out: _Svg, x: float, y: float, col: str) -> None:
    out.add(f'<path class="failed-mark" d="M{_f(x - 4)},{_f(y - 4)} L{_f(x + 4)},{_f(y + 4)} '
            f'M{_f(x - 4)},{_f(y + 4)} L{_f(x + 4)},{_f(y - 4)}" stroke="{col}" stroke-width="2.4"/>')


def _orders(out: _Svg, ruleset: Ruleset, st: GameState, entries: Iterable[tuple[str, tuple[OrderEntry, ...]]],
            pos: dict[str, tuple[float, float]]) -> None:
    parsed: list[tuple[str, Order, str]] = []
    for nation, lst in entries:
        for e in lst:
            try:
                parsed.append((nation, parse_order(e.text, ruleset), e.result))
            except ValueError:
                continue  # text that no longer parses (e.g. an imported game's oddity): skip

    def at(loc: str) -> tuple[float, float]:
        if loc in pos:
            return pos[loc]
        return pos.get(province_of(loc), (0.0, 0.0))

    def unit_at(loc: str) -> tuple[float, float]:
        u = st.unit_at(province_of(loc))
        if u is None:
            for d in st.dislodged:
                if d.unit.province == province_of(loc):
                    x, y = at(d.unit.loc)
                    return x + 13, y + 11
        return at(u.loc if u is not None else loc)

    convoys = [o for _, o, _ in parsed if isinstance(o, Convoy)]
    # supports and convoys first, so arrows of moves lie on top
    for _, o, res in parsed:
        col, mark, dash = _style(res)
        if isinstance(o, Support):
            x1, y1 = unit_at(o.loc)
            tx, ty = unit_at(o.target)
            if o.dest is None:
                x1, y1, x2, y2 = _shorten(x1, y1, tx, ty, 9, 13)
                out.add(f'<path class="order support" d="M{_f(x1)},{_f(y1)} L{_f(x2)},{_f(y2)}" '
                        f'stroke="{col}" stroke-width="1.8" stroke-dasharray="5 3" fill="none"/>'
                        f'<circle cx="{_f(tx)}" cy="{_f(ty)}" r="13" fill="none" stroke="{col}" '
                        f'stroke-width="1.6" stroke-dasharray="5 3"/>')
            else:
                dx, dy = at(o.dest)
                mx, my = (tx + dx) / 2, (ty + dy) / 2
                x1, y1, x2, y2 = _shorten(x1, y1, mx, my, 9, 2)
                out.add(f'<path class="order support" d="M{_f(x1)},{_f(y1)} Q{_f((x1 + x2) / 2 + (y2 - y1) * 0.15)},'
                        f'{_f((y1 + y2) / 2 - (x2 - x1) * 0.15)} {_f(x2)},{_f(y2)}" stroke="{col}" '
                        f'stroke-width="1.8" stroke-dasharray="5 3" fill="none"/>'
                        f'<circle cx="{_f(x2)}" cy="{_f(y2)}" r="2.6" fill="{col}"/>')
            if res != "succeeds":
                _cross(out, (x1 + x2) / 2, (y1 + y2) / 2, col)
        elif isinstance(o, Convoy):
            x, y = unit_at(o.loc)
            out.add(f'<circle class="order convoy" cx="{_f(x)}" cy="{_f(y)}" r="12" fill="none" '
                    f'stroke="{col if res != "succeeds" else "#1f5fa8"}" stroke-width="2" stroke-dasharray="1.5 2.5"/>')
            if res != "succeeds":
                _cross(out, x + 9, y - 9, col)
    for nation, o, res in parsed:
        col, mark, dash = _style(res)
        if isinstance(o, Hold):
            x, y = unit_at(o.loc)
            out.add(f'<circle class="order hold" cx="{_f(x)}" cy="{_f(y)}" r="11" fill="none" '
                    f'stroke="{col}" stroke-width="2"{dash}/>')
        elif isinstance(o, (Move, Retreat, Permit)):
            if isinstance(o, Permit):
                continue
            x1, y1 = unit_at(o.loc)
            x2, y2 = at(o.dest)
            pts = [(x1, y1)]
            if isinstance(o, Move) and o.via_convoy:
                fleets = [c for c in convoys if province_of(c.target) == province_of(o.loc)
                          and province_of(c.dest) == province_of(o.dest)]
                rest = [unit_at(c.loc) for c in fleets]
                cur = (x1, y1)
                while rest:  # through the convoying fleets, nearest first
                    nxt = min(rest, key=lambda p: math.hypot(p[0] - cur[0], p[1] - cur[1]))
                    rest.remove(nxt)
                    pts.append(nxt)
                    cur = nxt
            pts.append((x2, y2))
            if isinstance(o, Retreat):
                col, mark = (col, mark) if res != "succeeds" else ("#7b2fbe", "ret")
            width = 2.6
            if len(pts) == 2:
                ax, ay, bx, by = _shorten(x1, y1, x2, y2, 9, 9)
                d = f"M{_f(ax)},{_f(ay)} L{_f(bx)},{_f(by)}"
                mid = ((ax + bx) / 2, (ay + by) / 2)
            else:
                ax, ay, _, _ = _shorten(*pts[0], *pts[1], 9, 0)
                _, _, bx, by = _shorten(*pts[-2], *pts[-1], 0, 9)
                inner = " ".join(f"{_f(px)},{_f(py)}" for px, py in pts[1:-1])
                d = f"M{_f(ax)},{_f(ay)} L{inner} {_f(bx)},{_f(by)}"
                mid = pts[len(pts) // 2]
            via = ' stroke-dasharray="9 3"' if isinstance(o, Move) and o.via else dash
            cls = "order retreat" if isinstance(o, Retreat) else "order move"
            out.add(f'<path class="{cls}" d="{d}" stroke="#fff" stroke-width="{width + 2.2}" '
                    f'fill="none" stroke-linejoin="round" opacity="0.8"/>'
                    f'<path class="{cls}" d="{d}" stroke="{col}" stroke-width="{width}" fill="none" '
                    f'stroke-linejoin="round" marker-end="url(#arrow-{mark})"{via}/>')
            if res != "succeeds":
                _cross(out, mid[0], mid[1], col)
        elif isinstance(o, Disband):
            x, y = unit_at(o.loc)
            out.add(f'<path class="order disband" d="M{_f(x - 9)},{_f(y - 9)} L{_f(x + 9)},{_f(y + 9)} '
                    f'M{_f(x - 9)},{_f(y + 9)} L{_f(x + 9)},{_f(y - 9)}" stroke="{FAIL if res == "succeeds" else VOID}" '
                    f'stroke-width="3"/>')
        elif isinstance(o, Build):
            x, y = at(o.loc)
            colr = {n.id: n.colour for n in ruleset.nations}[nation]
            out.add(f'<circle class="order build" cx="{_f(x)}" cy="{_f(y)}" r="12" fill="none" '
                    f'stroke="{"#1b8a2f" if res == "succeeds" else VOID}" stroke-width="2.4" stroke-dasharray="4 2"/>')
            _unit(out, o.unit, x, y, colr if res == "succeeds" else "#dddddd", nation, o.loc)


def _title(out: _Svg, ruleset: Ruleset, board: Board, title: str) -> None:
    st = board.state
    season = ruleset.season(st.season).name
    head = f"{title} \u2014 " if title else ""
    line = f"{head}{season} {st.year}, {st.phase} ({board.phase})"
    width = 14 + 7.6 * len(line)
    out.add(f'<rect x="8" y="8" width="{_f(width)}" height="26" rx="4" fill="#ffffff" '
            f'fill-opacity="0.88" stroke="#555"/>')
    out.text(15, 26, line, size=13, anchor="start", weight="bold", halo=None)


def _legend(out: _Svg, ruleset: Ruleset, st: GameState, w: int, h: int) -> None:
    counts = centre_counts(ruleset, st.centres)
    units = {n.id: 0 for n in ruleset.nations}
    for u in st.units:
        units[u.nation] += 1
    rows = len(ruleset.nations)
    top = h - 10 - 20 * rows - 26
    x0 = w - LEGEND_W - 8
    out.add(f'<g id="legend"><rect x="{x0}" y="{_f(top)}" width="{LEGEND_W}" height="{20 * rows + 30}" '
            f'rx="4" fill="#ffffff" fill-opacity="0.9" stroke="#555"/>')
    out.text(x0 + 8, top + 17, f"centres / units (win: {ruleset.victory_centres})", size=11,
             anchor="start", weight="bold", halo=None)
    for k, n in enumerate(ruleset.nations):
        y = top + 25 + 20 * k
        out.add(f'<rect x="{x0 + 8}" y="{_f(y + 2)}" width="15" height="13" fill="{n.colour}" stroke="#222"/>')
        out.text(x0 + 30, y + 13, n.name, size=11, anchor="start", halo=None)
        out.text(x0 + LEGEND_W - 10, y + 13, f"{counts.get(n.id, 0)} / {units[n.id]}", size=11,
                 anchor="end", halo=None)
    out.add("</g>")


__all__ = ["render_map", "offmap_boxes"]
