"""Hand-drawn outlines (a ruleset's optional shapes.toml) take precedence over grown areas."""

from __future__ import annotations

import numpy as np
import pytest

from server.engine.errors import RulesetError
from server.engine.ruleset import parse_ruleset
from server.render.geometry import _num, map_shapes
from server.ruleset_files import read_folder, rulesets_dir

SWISS = "[shapes.swi]\noutlines = [[[47.8, 6.0], [47.8, 10.4], [45.8, 10.4], [45.8, 6.0]]]\n"


def _classic(shapes: str) -> dict[str, str]:
    files = read_folder(rulesets_dir() / "classic")
    files["shapes.toml"] = shapes
    return files


def _crude_land(lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
    return (lats > 43.0) & (lons > -10.0)  # enough land for a quick, deterministic grid


def test_drawn_outline_replaces_the_grown_area() -> None:
    """A province or impassable area with an outline is drawn from it, on top of the rest."""
    rs = parse_ruleset(_classic(SWISS), folder="rulesets/classic")
    shapes = map_shapes(rs, _crude_land, cells=120)
    corners = [shapes.project(lat, lon) for lat, lon in rs.drawn["swi"][0]]
    expected = "M" + " L".join(f"{_num(x)} {_num(y)}" for x, y in corners) + " Z"
    assert shapes.paths["swi"] == expected
    assert list(shapes.paths)[-1] == "swi"  # drawn last, on top of its neighbours
    plain = map_shapes(parse_ruleset(read_folder(rulesets_dir() / "classic"), "rulesets/classic"), _crude_land, cells=120)
    assert plain.paths["swi"] != expected  # without the file the area is grown


def test_outline_for_an_unknown_id_is_refused() -> None:
    """shapes.toml naming no province is an error naming the file, the entry and the fix."""
    with pytest.raises(RulesetError) as info:
        parse_ruleset(_classic("[shapes.xyz]\noutlines = [[[1, 2], [3, 4], [5, 6]]]\n"), folder="rulesets/classic")
    assert "shapes.toml [shapes.xyz]" in str(info.value) and "use an id from map.toml" in str(info.value)


def test_outline_with_too_few_points_is_refused() -> None:
    """An outline needs three or more [lat, lon] points."""
    with pytest.raises(RulesetError, match="three or more"):
        parse_ruleset(_classic("[shapes.swi]\noutlines = [[[47.8, 6.0], [45.8, 6.0]]]\n"), folder="rulesets/classic")
