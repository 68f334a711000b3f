"""Map SVG and PNG: the SVG parses and shows every unit and centre; the PNG has its size."""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET

import pytest

from server.render.geometry import NEUTRAL, MapShapes
from server.render.svg import render_map
from server.saves.replay import board_at

from .conftest import RULESETS, played_boards

NS = "{http://www.w3.org/2000/svg}"


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


@pytest.mark.parametrize("rid", RULESETS)
def test_every_province_has_an_area_and_a_point(shapes, games, rid):
    """Every on-map province gets a non-empty path and a unit point inside the map."""
    rs, _ = games[rid]
    sh = shapes[rid]
    for pid in rs.provinces:
        if pid in rs.offmap:
            assert pid not in sh.paths
            continue
        assert sh.paths.get(pid), pid
        x, y = sh.points[pid]
        assert 0 <= x <= sh.width and 0 <= y <= sh.height
    assert set(rs.impassable) <= set(sh.paths)
    assert sh.terrain[NEUTRAL] == "land"


@pytest.mark.parametrize("rid", RULESETS)
def test_svg_parses_with_every_unit_and_centre(shapes, games, rid):
    """On every board of a game the SVG parses and holds one symbol per unit and centre."""
    rs, save = games[rid]
    for board in played_boards(rs, save)[::3]:
        root = _parse(render_map(rs, shapes[rid], board, orders=True, title="t"))
        units = [(e.get("data-nation"), e.get("data-kind"), e.get("data-loc"))
                 for e in root.iter() if (e.get("class") or "").startswith("unit")]
        want = [(u.nation, u.kind, u.loc) for u in board.state.units]
        want += [(d.unit.nation, d.unit.kind, d.unit.loc) for d in board.state.dislodged]
        assert sorted(u for u in units if u[2] is not None and
                      not (board.state.phase == "adjustment" and u not in want)) == sorted(want)
        centres = {e.get("data-province") for e in root.iter(f"{NS}circle") if e.get("class") == "centre"}
        assert centres == set(rs.centres)
        if board.record.order_count:
            assert root.find(f".//{NS}g[@id='orders']") is not None


def test_offmap_provinces_are_labelled_boxes(shapes, games):
    """The 1904 off-map provinces are boxes on the map, with their names."""
    rs, save = games["east-asia-1904"]
    svg = render_map(rs, shapes["east-asia-1904"], board_at(rs, save, None))
    root = _parse(svg)
    boxes = {e.get("id") for e in root.iter(f"{NS}rect") if e.get("class") == "offmap"}
    assert boxes == {f"p-{p}" for p in rs.offmap}
    for p in rs.offmap:
        assert rs.provinces[p].name in svg


def test_failed_orders_are_marked(shapes, games):
    """A phase with a failed order draws it in the failure colour with a cross."""
    rs, save = games["classic"]
    for board in played_boards(rs, save):
        if any(e.result == "fails" for _, es in board.record.orders for e in es):
            svg = render_map(rs, shapes["classic"], board, orders=True)
            assert 'class="failed-mark"' in svg and "#d0021b" in svg
            return
    pytest.fail("no failed order in the test game")


def test_shapes_round_trip_through_plain(shapes):
    """Shapes survive the cache's plain form unchanged."""
    sh = shapes["classic"]
    assert MapShapes.from_plain(sh.to_plain()) == sh


def test_shapes_of_another_ruleset_are_refused(shapes, games):
    """Drawing with another ruleset's shapes is an error, not a wrong map."""
    rs, save = games["classic"]
    with pytest.raises(ValueError, match="another ruleset"):
        render_map(rs, shapes["colonial"], board_at(rs, save, None))


def test_png_has_the_svg_size(shapes, games):
    """The PNG rasterised from the SVG decodes to the map's width and height."""
    pytest.importorskip("resvg_py")
    from server.render_cli import rasterise

    rs, save = games["classic"]
    sh = shapes["classic"]
    png = rasterise(render_map(rs, sh, board_at(rs, save, None)))
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    assert struct.unpack(">II", png[16:24]) == (sh.width, sh.height)
    half = rasterise(render_map(rs, sh, board_at(rs, save, None)), scale=0.5)
    assert struct.unpack(">II", half[16:24]) == (round(sh.width / 2), round(sh.height / 2))
