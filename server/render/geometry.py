"""Province shapes grown from the ruleset's anchors over real land and sea (PURE).

A ruleset gives every province an anchor (latitude, longitude of its centre) and a terrain.
:func:`map_shapes` turns that into drawable areas:

1. Project the ruleset's bounding box (equirectangular, longitudes scaled by the cosine of
   the middle latitude) onto a grid of square cells (finer when anchors are close).
2. Ask ``is_land`` (a land mask; the CLI passes ``global_land_mask.globe.is_land``) which
   cells are land. Small lakes not reached by any sea province become land.
3. Seed each land/coast province on the land cell nearest its anchor and each sea province
   on the nearest water cell, then grow all areas at once over their own kind of cell (a
   multi-source breadth-first search, so areas stay contiguous), and relax the borders so
   each cell goes to the nearest anchor among its neighbours' areas (straight, Voronoi-like
   borders instead of diamond-shaped ones). Impassable areas are then carved out round
   their anchors (the mask has no lakes, so Lake Baikal is drawn as a round lake).
4. Trace each area's cells into closed SVG paths: cell edges chained into loops, corners cut
   at the edge midpoints (junctions of three areas stay fixed, so neighbours share exactly
   the same border) and collinear points dropped.

Land no land province reaches (islands outside the game) is the neutral land area; water
no sea province reaches is left to the background. The result is a plain value that can be
cached per ruleset digest (:meth:`MapShapes.to_plain`). No I/O here: the mask is a function.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping

import attrs
import numpy as np

from ..engine.ruleset import Ruleset, province_of

SHAPES_VERSION = 2
CELL_PX = 2  # SVG units per grid cell
MIN_CELLS, MAX_CELLS = 700, 1150  # grid cells along the long side, chosen from anchor spacing
NEUTRAL = "_land"  # the key of the neutral land area in MapShapes.paths

IsLand = Callable[[np.ndarray, np.ndarray], np.ndarray]


@attrs.frozen
class MapShapes:
    """Drawable geometry for one ruleset, in SVG units (y grows downwards).

    ``paths`` maps a province id (or impassable id, or :data:`NEUTRAL`) to SVG path data
    (``fill-rule: evenodd``); ``points`` maps each on-map location (``stp/nc`` included) to
    where its unit is drawn; ``terrain`` tells land/sea for each key of ``paths``.
    ``lat_top``, ``lon_left``, ``deg_per_cell`` and ``kx`` rebuild the projection.
    """

    ruleset_digest: str
    width: int
    height: int
    lat_top: float
    lon_left: float
    deg_per_cell: float
    kx: float
    paths: Mapping[str, str]
    points: Mapping[str, tuple[float, float]]
    terrain: Mapping[str, str]

    def project(self, lat: float, lon: float) -> tuple[float, float]:
        """SVG coordinates of a latitude/longitude (may fall outside the map)."""
        x = (lon - self.lon_left) * self.kx / self.deg_per_cell * CELL_PX
        y = (self.lat_top - lat) / self.deg_per_cell * CELL_PX
        return (round(x, 1), round(y, 1))

    def to_plain(self) -> dict[str, Any]:
        """JSON-ready form (for a cache file); :meth:`from_plain` reads it back."""
        d = attrs.asdict(self)
        d["points"] = {k: list(v) for k, v in self.points.items()}
        d["version"] = SHAPES_VERSION
        return d

    @classmethod
    def from_plain(cls, p: Mapping[str, Any]) -> MapShapes:
        """Rebuild from :meth:`to_plain`.

        Raises:
            ValueError: another shapes version, or a malformed document.
        """
        if p.get("version") != SHAPES_VERSION:
            raise ValueError(f"shapes version {p.get('version')!r}, expected {SHAPES_VERSION}")
        try:
            return cls(p["ruleset_digest"], int(p["width"]), int(p["height"]), float(p["lat_top"]),
                       float(p["lon_left"]), float(p["deg_per_cell"]), float(p["kx"]),
                       dict(p["paths"]), {k: (float(v[0]), float(v[1])) for k, v in p["points"].items()},
                       dict(p["terrain"]))
        except (KeyError, TypeError, IndexError) as e:
            raise ValueError(f"malformed shapes document: {e}") from None


# --- 1. the grid ----------------------------------------------------------------------------


@attrs.frozen
class _Grid:
    lat_top: float
    lon_left: float
    deg: float  # degrees of latitude per cell
    kx: float  # cos(middle latitude)
    rows: int
    cols: int

    def cell(self, lat: float, lon: float) -> tuple[float, float]:
        """Fractional (row, col) of a point."""
        return ((self.lat_top - lat) / self.deg, (lon - self.lon_left) * self.kx / self.deg)


def _grid(ruleset: Ruleset, cells: int) -> _Grid:
    pts = [p.anchor for p in ruleset.provinces.values() if p.id not in ruleset.offmap]
    pts += [a for _, a in ruleset.impassable.values()]
    lats = [a[0] for a in pts]
    lons = [a[1] for a in pts]
    kx = math.cos(math.radians((max(lats) + min(lats)) / 2))
    pad_lat = 2.0 + 0.06 * (max(lats) - min(lats))
    pad_lon = 2.0 / kx + 0.06 * (max(lons) - min(lons))
    top, bottom = min(89.0, max(lats) + pad_lat), max(-89.0, min(lats) - pad_lat)
    left, right = min(lons) - pad_lon, max(lons) + pad_lon
    span = max(top - bottom, (right - left) * kx)
    if cells <= 0:  # automatic: the closer the anchors, the finer the grid
        near = sorted(min(math.hypot(a[0] - b[0], (a[1] - b[1]) * kx) for b in pts if b is not a)
                      for a in pts)
        tenth = max(near[len(near) // 10], 1e-3)
        cells = int(min(MAX_CELLS, max(MIN_CELLS, 17 * span / tenth)))
    deg = span / cells
    rows = int(math.ceil((top - bottom) / deg))
    cols = int(math.ceil((right - left) * kx / deg))
    return _Grid(top, left, deg, kx, rows, cols)


# --- 3. growing the areas ---------------------------------------------------------------------


def _grow(group: np.ndarray, seeds: list[tuple[int, int]], seed_group: list[int],
          ar: np.ndarray, ac: np.ndarray) -> np.ndarray:
    """Multi-source BFS on a padded grid; a cell joins a neighbour's area of its own group.

    ``group`` is the padded grid of cell kinds (0 land, 1 water, -9 border). Among the
    areas that reach a cell in the same wave, the one with the nearest anchor wins.
    Returns the padded label grid (-1: unreached).
    """
    rows, cols = group.shape
    flat_g = group.ravel()
    labels = np.full(rows * cols, -1, dtype=np.int32)
    rr = np.repeat(np.arange(rows, dtype=np.float64), cols)
    cc = np.tile(np.arange(cols, dtype=np.float64), rows)
    frontier = []
    for k, (r, c) in enumerate(seeds):
        i = r * cols + c
        if labels[i] == -1:
            labels[i] = k
            flat_g[i] = seed_group[k]
            frontier.append(i)
    front = np.array(frontier, dtype=np.int64)
    offsets = np.array([-cols, cols, -1, 1], dtype=np.int64)
    while front.size:
        cand = (front[:, None] + offsets[None, :]).ravel()
        src = np.repeat(front, 4)
        ok = (labels[cand] == -1) & (flat_g[cand] == flat_g[src])
        cand, src = cand[ok], src[ok]
        if not cand.size:
            break
        lab = labels[src]
        d = (rr[cand] - ar[lab]) ** 2 + (cc[cand] - ac[lab]) ** 2
        order = np.lexsort((lab, d, cand))
        cand, lab = cand[order], lab[order]
        first = np.ones(cand.size, dtype=bool)
        first[1:] = cand[1:] != cand[:-1]
        cand, lab = cand[first], lab[first]
        labels[cand] = lab
        front = cand
    # relax: each cell takes, among its own and its neighbours' areas of the same group,
    # the one whose anchor is nearest; only cells next to a change are looked at again
    active = np.nonzero(labels >= 0)[0]
    for _ in range(200):
        lab = labels[active]
        best = lab.copy()
        bestd = (rr[active] - ar[lab]) ** 2 + (cc[active] - ac[lab]) ** 2
        for off in offsets:
            nb_i = active + off
            nb = labels[nb_i]
            same = (nb >= 0) & (flat_g[nb_i] == flat_g[active])
            nbs = np.where(same, nb, 0)
            dn = np.where(same, (rr[active] - ar[nbs]) ** 2 + (cc[active] - ac[nbs]) ** 2, np.inf)
            better = dn < bestd - 1e-9
            best = np.where(better, nb, best)
            bestd = np.where(better, dn, bestd)
        changed = active[best != lab]
        if not changed.size:
            break
        labels[changed] = best[best != lab]
        around = (changed[:, None] + offsets[None, :]).ravel()
        around = around[labels[around] >= 0]
        active = np.unique(np.concatenate([changed, around]))
    return labels.reshape(rows, cols)


def _nearest_of(mask: np.ndarray, r: int, c: int, radius: int) -> tuple[int, int] | None:
    r0, r1 = max(0, r - radius), min(mask.shape[0], r + radius + 1)
    c0, c1 = max(0, c - radius), min(mask.shape[1], c + radius + 1)
    rs, cs = np.nonzero(mask[r0:r1, c0:c1])
    if not rs.size:
        return None
    d = (rs + r0 - r) ** 2 + (cs + c0 - c) ** 2
    k = int(np.argmin(d))
    return int(rs[k] + r0), int(cs[k] + c0)


def _components_small(water: np.ndarray, reached: np.ndarray, limit: int) -> np.ndarray:
    """Water cells in 4-connected pieces of fewer than ``limit`` cells that no sea reached."""
    todo = water & ~reached
    out = np.zeros_like(water)
    seen = np.zeros_like(water)
    rows, cols = water.shape
    for r0, c0 in zip(*np.nonzero(todo)):
        if seen[r0, c0]:
            continue
        stack = [(int(r0), int(c0))]
        seen[r0, c0] = True
        comp = []
        while stack:
            r, c = stack.pop()
            comp.append((r, c))
            for rr, cc in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)):
                if 0 <= rr < rows and 0 <= cc < cols and todo[rr, cc] and not seen[rr, cc]:
                    seen[rr, cc] = True
                    stack.append((rr, cc))
        if len(comp) < limit:
            for r, c in comp:
                out[r, c] = True
    return out


# --- 4. tracing -------------------------------------------------------------------------------


def _trace(lab: np.ndarray, keys: list[str]) -> dict[str, str]:
    """SVG path data for each label >= 0 of the (unpadded) label grid ``lab``."""
    rows, cols = lab.shape
    pad = np.full((rows + 2, cols + 2), -2, dtype=np.int32)
    pad[1:-1, 1:-1] = lab
    # junctions: grid corners touching three or more areas, or on the map's edge
    a, b = pad[:-1, :-1], pad[:-1, 1:]
    c, d = pad[1:, :-1], pad[1:, 1:]
    distinct = 1 + (b != a) + ((c != a) & (c != b)) + ((d != a) & (d != b) & (d != c))
    fixed = distinct >= 3
    fixed[0, :] = fixed[-1, :] = True
    fixed[:, 0] = fixed[:, -1] = True
    cur = lab
    edges: dict[int, list[tuple[tuple[int, int], tuple[int, int]]]] = {}
    ii, jj = np.nonzero(cur >= 0)
    lv = cur[ii, jj]
    sides = (
        (pad[ii, jj + 1], lambda i, j: ((i, j + 1), (i, j))),          # top
        (pad[ii + 2, jj + 1], lambda i, j: ((i + 1, j), (i + 1, j + 1))),  # bottom
        (pad[ii + 1, jj], lambda i, j: ((i, j), (i + 1, j))),          # left
        (pad[ii + 1, jj + 2], lambda i, j: ((i + 1, j + 1), (i, j + 1))),  # right
    )
    for nb, mk in sides:
        sel = np.nonzero(nb != lv)[0]
        for k in sel.tolist():
            i, j, L = int(ii[k]), int(jj[k]), int(lv[k])
            edges.setdefault(L, []).append(mk(i, j))
    out: dict[str, str] = {}
    for L in sorted(edges):
        nxt: dict[tuple[int, int], list[tuple[int, int]]] = {}
        for s, e in edges[L]:
            nxt.setdefault(s, []).append(e)
        parts = []
        for start in sorted(nxt):
            while nxt.get(start):
                loop = [start]
                v = nxt[start].pop()
                while v != start:
                    loop.append(v)
                    v = nxt[v].pop()
                parts.append(_loop_path(loop, fixed))
        out[keys[L]] = " ".join(p for p in parts if p)
    return out


def _loop_path(loop: list[tuple[int, int]], fixed: np.ndarray) -> str:
    n = len(loop)
    pts: list[tuple[float, float]] = []
    for k in range(n):
        i, j = loop[k]
        i2, j2 = loop[(k + 1) % n]
        if fixed[i, j]:
            pts.append((float(j), float(i)))
        pts.append(((j + j2) / 2, (i + i2) / 2))
    # drop collinear points (fixed corners are kept: they are never collinear-dropped
    # unless on a straight line, which neighbours drop alike)
    keep: list[tuple[float, float]] = []
    m = len(pts)
    for k in range(m):
        p0, p1, p2 = pts[k - 1], pts[k], pts[(k + 1) % m]
        cross = (p1[0] - p0[0]) * (p2[1] - p1[1]) - (p1[1] - p0[1]) * (p2[0] - p1[0])
        if abs(cross) > 1e-9:
            keep.append(p1)
    if len(keep) < 3:
        return ""
    s = CELL_PX
    coords = " ".join(f"{_num(x * s)},{_num(y * s)}" for x, y in keep)
    return f"M{coords}Z"


def _num(v: float) -> str:
    return str(int(v)) if v == int(v) else f"{v:.1f}"


# --- the whole pipeline -----------------------------------------------------------------------


def map_shapes(ruleset: Ruleset, is_land: IsLand, cells: int = 0) -> MapShapes:
    """Grow and trace the province areas of ``ruleset`` (module docstring).

    Args:
        ruleset: the scenario; its anchors, terrains, impassable areas and off-map list.
        is_land: ``is_land(lats, lons) -> bool array`` for arrays of degrees.
        cells: grid cells along the long side of the map (detail against time); 0 picks
            it from the anchors' spacing so that close provinces stay readable.
    """
    g = _grid(ruleset, cells)
    lat_c = g.lat_top - (np.arange(g.rows) + 0.5) * g.deg
    lon_c = g.lon_left + (np.arange(g.cols) + 0.5) * g.deg / g.kx
    lon_w = (lon_c + 180.0) % 360.0 - 180.0
    land = np.asarray(is_land(*np.meshgrid(lat_c, lon_w, indexing="ij")), dtype=bool)

    keys: list[str] = []
    terrain: dict[str, str] = {}
    anchors: list[tuple[float, float]] = []
    for p in sorted(ruleset.provinces.values(), key=lambda p: p.id):
        if p.id in ruleset.offmap:
            continue
        keys.append(p.id)
        terrain[p.id] = "sea" if p.is_sea else "land"
        anchors.append(g.cell(*p.anchor))
    # seeds: the nearest cell of the right kind, forced if none is near (a tiny island)
    seeds: list[tuple[int, int]] = []
    seed_group: list[int] = []
    for k, key in enumerate(keys):
        r = min(g.rows - 1, max(0, int(anchors[k][0])))
        c = min(g.cols - 1, max(0, int(anchors[k][1])))
        want_land = terrain[key] == "land"
        hit = _nearest_of(land if want_land else ~land, r, c, max(3, g.rows // 40))
        if hit is None:
            land[r, c] = want_land
            hit = (r, c)
        seeds.append((hit[0] + 1, hit[1] + 1))
        seed_group.append(0 if want_land else 1)
    ar = np.array([a[0] + 0.5 for a in anchors])  # padded coordinates
    ac = np.array([a[1] + 0.5 for a in anchors])

    def padded(mask: np.ndarray) -> np.ndarray:
        grp = np.full((g.rows + 2, g.cols + 2), -9, dtype=np.int8)
        grp[1:-1, 1:-1] = np.where(mask, 0, 1)
        return grp

    # small lakes that no sea reaches become land, then grow for real
    first = _grow(padded(land), seeds, seed_group, ar, ac)[1:-1, 1:-1]
    lakes = _components_small(~land, first >= 0, limit=max(40, g.rows * g.cols // 2000))
    land = land | lakes
    lab = _grow(padded(land), seeds, seed_group, ar, ac)[1:-1, 1:-1].copy()
    lab = _impassable(ruleset, g, lab, anchors, keys, terrain)
    neutral = len(keys)
    lab[(lab < 0) & land] = neutral
    paths = _trace(lab, keys + [NEUTRAL])
    terrain[NEUTRAL] = "land"

    points = _points(ruleset, g, lab, keys, anchors)
    shapes = MapShapes(ruleset.digest, g.cols * CELL_PX, g.rows * CELL_PX, g.lat_top, g.lon_left,
                       g.deg, g.kx, paths, points, terrain)
    return with_drawn(shapes, ruleset)


def with_drawn(shapes: MapShapes, ruleset: Ruleset) -> MapShapes:
    """Hand-drawn outlines from the ruleset (``shapes.toml``) replace the grown areas; they
    are drawn last so they lie on top of their neighbours."""
    drawn = getattr(ruleset, "drawn", None)
    if not drawn:
        return shapes
    paths = {k: v for k, v in shapes.paths.items() if k not in drawn}
    terrain = dict(shapes.terrain)
    for sid, polys in sorted(drawn.items()):
        parts = []
        for poly in polys:
            pts = [shapes.project(lat, lon) for lat, lon in poly]
            parts.append("M" + " L".join(f"{_num(x)} {_num(y)}" for x, y in pts) + " Z")
        paths[sid] = " ".join(parts)
        if sid in ruleset.provinces:
            terrain[sid] = "sea" if ruleset.provinces[sid].is_sea else "land"
        else:
            terrain.setdefault(sid, "land")
    return attrs.evolve(shapes, paths=paths, terrain=terrain)


def _impassable(ruleset: Ruleset, g: _Grid, lab: np.ndarray, anchors: list[tuple[float, float]],
                keys: list[str], terrain: dict[str, str]) -> np.ndarray:
    """Carve each impassable area out of the grown map: the cells within a radius of its
    anchor (half the distance to the nearest province anchor, at most 4 degrees) that are
    nearer to it than to their own province's anchor.

    The land mask has no lakes, so an area named as water (lake, sea) is drawn as water
    (terrain ``"lake"``); others (deserts, mountains) as impassable land.
    """
    rows, cols = lab.shape
    ar = np.array([a[0] for a in anchors])
    ac = np.array([a[1] for a in anchors])
    rr, cc = np.mgrid[0:rows, 0:cols]
    rr = rr + 0.5
    cc = cc + 0.5
    own = np.where(lab >= 0, (rr - ar[np.maximum(lab, 0)]) ** 2 + (cc - ac[np.maximum(lab, 0)]) ** 2, np.inf)
    for iid in sorted(ruleset.impassable):
        name, (lat, lon) = ruleset.impassable[iid]
        r, c = g.cell(lat, lon)
        near = float(np.sqrt(((ar - r) ** 2 + (ac - c) ** 2).min())) if len(ar) else 10.0
        radius = min(near / 2, 4.0 / g.deg)
        d = (rr - r) ** 2 + (cc - c) ** 2
        take = (d <= radius ** 2) & (d < own)
        k = len(keys)
        keys.append(iid)
        lowered = name.lower()
        terrain[iid] = "lake" if any(w in lowered for w in ("lake", "sea", "gulf", "bay")) else "land"
        lab = np.where(take, k, lab)
        own = np.where(take, d, own)
    return lab


def _points(ruleset: Ruleset, g: _Grid, lab: np.ndarray, keys: list[str],
            anchors: list[tuple[float, float]]) -> dict[str, tuple[float, float]]:
    index = {k: n for n, k in enumerate(keys)}
    out: dict[str, tuple[float, float]] = {}
    rows, cols = lab.shape
    for key, n in index.items():
        if key not in ruleset.provinces:
            continue
        r, c = anchors[n]
        ri, ci = min(rows - 1, max(0, int(r))), min(cols - 1, max(0, int(c)))
        if lab[ri, ci] != n:
            hit = _nearest_of(lab == n, ri, ci, max(rows, cols))
            if hit is not None:
                r, c = hit[0] + 0.5, hit[1] + 0.5
        out[key] = (round(c * CELL_PX, 1), round(r * CELL_PX, 1))
    # split coasts: the province's cells touching the seas that coast reaches
    for loc, dests in ruleset.fleet_adj.items():
        prov = province_of(loc)
        if loc == prov or prov not in index:
            continue
        seas = [index[province_of(d)] for d in dests if province_of(d) in index
                and ruleset.provinces[province_of(d)].is_sea]
        mine = lab == index[prov]
        touch = np.zeros_like(mine)
        for s in seas:
            other = lab == s
            near = np.zeros_like(other)
            near[1:, :] |= other[:-1, :]
            near[:-1, :] |= other[1:, :]
            near[:, 1:] |= other[:, :-1]
            near[:, :-1] |= other[:, 1:]
            touch |= mine & near
        rs, cs = np.nonzero(touch)
        if not rs.size:
            out[loc] = out[prov]
            continue
        mr, mc = rs.mean(), cs.mean()
        k = int(np.argmin((rs - mr) ** 2 + (cs - mc) ** 2))
        # pull the coast point a little inland so the unit symbol sits on the province
        px, py = out[prov]
        x, y = (cs[k] + 0.5) * CELL_PX, (rs[k] + 0.5) * CELL_PX
        out[loc] = (round(x + 0.25 * (px - x), 1), round(y + 0.25 * (py - y), 1))
    return out


__all__ = ["MapShapes", "map_shapes", "NEUTRAL", "CELL_PX", "SHAPES_VERSION", "IsLand"]
