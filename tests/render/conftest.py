"""Shared fixtures for the render tests: small self-played games, sample saves, shapes."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from server.engine.ruleset import Ruleset
from server.ruleset_files import load
from server.saves.builder import record_game_from_turns
from server.saves.files import open_save
from server.saves.model import Save
from server.saves.replay import Board, boards
from server.saves.verify import verify_save
from server.selfplay import play

ROOT = Path(__file__).resolve().parents[2]
SAVES = ROOT / "saves"
GOLDEN = Path(__file__).resolve().parent / "golden"
RULESETS = ("classic", "colonial", "east-asia-1904")
UPDATE = os.environ.get("KESSEN_UPDATE_GOLDEN") == "1"  # rewrite the golden files


@pytest.fixture(scope="session")
def games() -> dict[str, tuple[Ruleset, Save]]:
    """A three-year self-played game per ruleset, made with the engine under test."""
    out = {}
    for rid in RULESETS:
        rs = load(rid)
        out[rid] = (rs, record_game_from_turns(rs, play(rs, seed=1, years=3), f"t-{rid}",
                                               f"Test {rid}", created=1_767_225_600,
                                               players={n: f"P{k}" for k, n in enumerate(rs.nation_ids)}))
    return out


def played_boards(rs: Ruleset, save: Save) -> list[Board]:
    """Every board from which a phase was played."""
    return [b for b in boards(rs, save) if b.record is not None]


def sample(name: str) -> tuple[Save, Ruleset]:
    """A sample save from saves/, skipped (not failed) when it does not replay with this
    engine: tests/saves/test_samples.py reports that, and the samples must be regenerated."""
    save, rs = open_save(SAVES / name)
    report = verify_save(save, rs)
    if not report.ok:
        pytest.skip(f"saves/{name} does not replay with this engine ({report.problem}); "
                    "regenerate the samples, then KESSEN_UPDATE_GOLDEN=1 for the goldens")
    return save, rs


@pytest.fixture(scope="session")
def shapes() -> dict[str, Any]:
    """Province shapes of the three rulesets from the real land mask (the 'maps' extra)."""
    globe = pytest.importorskip("global_land_mask.globe")
    from server.render.geometry import map_shapes

    return {rid: map_shapes(load(rid), globe.is_land) for rid in RULESETS}


def check_golden(name: str, text: str) -> None:
    """``text`` equals tests/render/golden/``name`` (KESSEN_UPDATE_GOLDEN=1 rewrites it)."""
    path = GOLDEN / name
    if UPDATE or not path.exists():
        if not UPDATE:
            pytest.fail(f"missing golden file {path.name}: run with KESSEN_UPDATE_GOLDEN=1")
        path.write_text(text, encoding="utf-8")
        return
    want = path.read_text(encoding="utf-8")
    assert text == want, f"{name} differs from its golden file (KESSEN_UPDATE_GOLDEN=1 rewrites it)"
