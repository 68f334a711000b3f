"""The shipped scenarios load, play, save, verify and replay; the 1904 map plays plausibly."""

from __future__ import annotations

from collections import deque

import pytest

from server.cli import main
from server.engine.notation import parse_order
from server.engine.state import GameState, Unit
from server.engine.turn import step
from server.ruleset_files import load
from server.saves.builder import record_game_from_turns
from server.saves.format import to_bytes
from server.saves.files import ruleset_for
from server.saves.verify import verify_bytes
from server.selfplay import play

SCENARIOS = ["classic", "colonial", "east-asia-1904"]


@pytest.mark.parametrize("ruleset_id", SCENARIOS)
def test_ruleset_check_passes(ruleset_id: str, capsys: pytest.CaptureFixture[str]) -> None:
    """`kessen ruleset check` accepts every shipped scenario and prints its summary."""
    assert main(["ruleset", "check", ruleset_id]) == 0
    assert capsys.readouterr().out.startswith(f"ok  {ruleset_id}")


@pytest.mark.parametrize("ruleset_id", ["colonial", "east-asia-1904"])
def test_seeded_games_play_save_and_verify(ruleset_id: str) -> None:
    """Twelve seeded random games of eight years play without error and their saves verify."""
    rs = load(ruleset_id)
    for seed in range(12):
        played = list(play(rs, seed, 8))
        assert played, "a game plays at least one phase"
        save = record_game_from_turns(rs, played, f"t-{seed}", "test")
        report = verify_bytes(to_bytes(save), ruleset_for)
        assert report.ok, report


def _fleet_moves(rs, start: str, goal: str) -> int:
    seen, queue = {start: 0}, deque([start])
    while queue:
        loc = queue.popleft()
        for nxt in rs.fleet_adj.get(loc, ()):
            if nxt not in seen:
                seen[nxt] = seen[loc] + 1
                queue.append(nxt)
    return seen[goal]


def test_baltic_fleet_needs_several_moves_to_arrive() -> None:
    """The Baltic Fleet starts on the off-map chain, at least three moves from the South China Sea."""
    rs = load("east-asia-1904")
    (baltic,) = [u for u in rs.start_units if u[0] == "russia" and u[2] == "bal"]
    assert "bal" in rs.offmap
    assert _fleet_moves(rs, baltic[2], "scs") >= 3
    assert _fleet_moves(rs, baltic[2], "yel") > _fleet_moves(rs, baltic[2], "scs")


def test_trans_siberian_moves_one_army_a_phase() -> None:
    """The Trans-Siberian carries one Russian army a phase: a second rail order makes both fail."""
    rs = load("east-asia-1904")
    state = GameState.build(1904, "spring", "movement", [Unit("russia", "A", "chi"), Unit("russia", "A", "kra")], dict(rs.start_centres))
    one = step(rs, state, {"russia": [parse_order("A chi - irk via tsr", rs)]})
    assert [r.result for r in one.results] == ["succeeds"]
    two = step(rs, state, {"russia": [parse_order("A chi - irk via tsr", rs), parse_order("A kra - oms via tsr", rs)]})
    assert [r.result for r in two.results] == ["fails", "fails"]
    assert {u.loc for u in two.after_phase} == {"chi", "kra"}


@pytest.mark.parametrize(("season", "result"), [("winter", "illegal"), ("spring", "succeeds")])
def test_vladivostok_is_closed_in_winter(season: str, result: str) -> None:
    """A fleet cannot sail from ice-bound Vladivostok in winter, but can in spring."""
    rs = load("east-asia-1904")
    state = GameState.build(1904, season, "movement", [Unit("russia", "F", "vla")], dict(rs.start_centres))
    turn = step(rs, state, {"russia": [parse_order("F vla - nsj", rs)]})
    assert turn.results[0].result == result


def test_port_arthur_is_a_fortress() -> None:
    """Port Arthur's garrison survives an attack with one support (2 against 1 + 1)."""
    rs = load("east-asia-1904")
    assert rs.fortresses == {"por": 1}
    units = [Unit("russia", "F", "por"), Unit("japan", "A", "dal"), Unit("japan", "F", "yel")]
    state = GameState.build(1904, "autumn", "movement", units, dict(rs.start_centres))
    turn = step(rs, state, {"japan": [parse_order("A dal - por", rs), parse_order("F yel S A dal - por", rs)]})
    assert not turn.dislodged


def test_briefing_covers_every_nation() -> None:
    """The 1904 ruleset carries a player briefing for each of its seven nations."""
    rs = load("east-asia-1904")
    assert set(rs.briefing) == set(rs.nation_ids) and len(rs.nation_ids) == 7
    assert all(len(text.split()) > 60 for text in rs.briefing.values())
