"""``kessen post`` and ``kessen map`` at the edge: output, files, exit codes, times."""

from __future__ import annotations

import json
import struct
import xml.etree.ElementTree as ET

import pytest

from server.cli import main
from server.render.geometry import SHAPES_VERSION
from server.render_cli import cache_dir, timing_for

from .conftest import SAVES

SAMPLE = str(SAVES / "classic-convoys-retreats.kessen")


@pytest.fixture
def cached(shapes, monkeypatch, tmp_path):
    """A cache directory already holding the classic shapes (no land mask load)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    sh = shapes["classic"]
    from server.ruleset_files import load

    rs = load("classic")
    path = cache_dir() / f"{rs.id}-{rs.digest[:24]}-v{SHAPES_VERSION}.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(sh.to_plain()), encoding="utf-8")
    return tmp_path


def test_post_prints_the_last_phase_by_default(capsys):
    """Without --phase the post is about the last phase played."""
    assert main(["post", SAMPLE, "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# ") and "## Supply centres" in out


def test_post_deadline_from_settings_and_timezone(capsys):
    """With a processing time, the save's deadline_hours gives the deadline in UTC and local time."""
    assert main(["post", SAMPLE, "--phase", "S1902M", "--processed", "2026-01-10T18:00:00Z",
                 "--timezone", "Asia/Tokyo"]) == 0
    out = capsys.readouterr().out
    assert "Deadline: 2026-01-12 18:00 UTC / 2026-01-13 03:00 JST (Asia/Tokyo)" in out


def test_timing_without_deadline_setting_has_no_deadline():
    """No deadline_hours in the settings: no deadline line, only the processing time."""
    t = timing_for({}, 0, "Europe/Paris")
    assert t.processed == "1970-01-01 00:00 UTC" and t.deadline_utc is None
    assert timing_for({"deadline_hours": 48}, None, None).processed is None


def test_post_unknown_phase_is_a_usage_error(capsys):
    """An unknown phase exits 2 naming the game's range."""
    assert main(["post", SAMPLE, "--phase", "S1999M"]) == 2
    assert "runs from" in capsys.readouterr().err


def test_map_writes_svg_from_cached_shapes(cached):
    """kessen map writes a parsable SVG with the phase's orders."""
    out = cached / "m.svg"
    assert main(["map", SAMPLE, "--phase", "S1902M", "--orders", "-o", str(out)]) == 0
    root = ET.fromstring(out.read_text(encoding="utf-8"))
    assert root.find(".//{http://www.w3.org/2000/svg}g[@id='orders']") is not None


def test_map_writes_png(cached):
    """kessen map to .png writes a PNG of the map's size times the scale."""
    pytest.importorskip("resvg_py")
    out = cached / "m.png"
    assert main(["map", SAMPLE, "-o", str(out), "--scale", "0.5"]) == 0
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    w, h = struct.unpack(">II", data[16:24])
    assert 600 < w < 900 and 600 < h < 900


def test_map_refuses_other_suffixes(cached, capsys):
    """An output that is neither .svg nor .png is a usage error."""
    assert main(["map", SAMPLE, "-o", str(cached / "m.jpg")]) == 2
    assert ".svg or .png" in capsys.readouterr().err
