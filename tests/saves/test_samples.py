"""Every sample game in saves/ replays and verifies on every run; the generator is deterministic."""

from __future__ import annotations

import importlib.util

import pytest

from server.engine.orders import Build, Convoy, Disband, Move, Retreat
from server.saves.files import open_save, verify_file
from server.saves.model import EventRecord
from server.saves.replay import boards

from .conftest import ROOT, SAVES

SAMPLES = sorted(SAVES.glob("*.kessen"))


def test_there_are_samples():
    """saves/ holds at least three sample games."""
    assert len(SAMPLES) >= 3


@pytest.mark.parametrize("path", SAMPLES, ids=[p.name for p in SAMPLES])
def test_sample_verifies(path):
    """The sample re-adjudicates phase by phase to every recorded digest; the chain holds."""
    report = verify_file(path)
    assert report.ok, f"{path.name}: {report.problem}"
    assert report.phases > 0


def test_long_selfplay_sample():
    """The self-play sample is long: at least 20 years."""
    save, _ = open_save(SAVES / "classic-selfplay-30y.kessen")
    years = {int(r.phase[1:5]) for r in save.phases}
    assert max(years) - min(years) + 1 >= 20


def test_scripted_sample_has_convoys_retreats_builds_removals():
    """The scripted sample holds a convoy, a retreat, a build, a removal and host events."""
    save, rs = open_save(SAVES / "classic-convoys-retreats.kessen")
    seen = set()
    for b in boards(rs, save):
        if b.turn is None:
            continue
        for r in b.turn.results:
            o = r.order
            if r.ok and isinstance(o, Convoy):
                seen.add("convoy")
            if r.ok and isinstance(o, Move) and o.via_convoy:
                seen.add("convoyed move")
            if r.ok and isinstance(o, Retreat):
                seen.add("retreat")
            if r.ok and isinstance(o, Build):
                seen.add("build")
            if r.ok and isinstance(o, Disband) and b.state.phase == "adjustment":
                seen.add("removal")
    assert seen >= {"convoy", "convoyed move", "retreat", "build", "removal"}
    events = {r.event for r in save.records if isinstance(r, EventRecord)}
    assert events >= {"press", "pause", "extend", "replacement", "rollback"}


def _generator():
    spec = importlib.util.spec_from_file_location("make_sample_saves", ROOT / "tools" / "make_sample_saves.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_generator_is_deterministic(tmp_path):
    """Regenerating the samples twice gives identical bytes."""
    gen = _generator()
    a = gen.make_samples(tmp_path / "a")
    b = gen.make_samples(tmp_path / "b")
    assert [p.name for p in a] == [p.name for p in b]
    for x, y in zip(a, b):
        assert x.read_bytes() == y.read_bytes(), x.name
