"""Tests for server.saves.mila: importing the peer's saved games and re-checking them."""

from __future__ import annotations

import copy
import json

import pytest

from server.saves.mila import MilaError, convert_game, games_from_text, kessen_board, mila_board
from server.saves.model import PhaseRecord
from server.saves.replay import boards
from server.saves.verify import verify_save

from .conftest import DATA


@pytest.fixture(scope="module")
def games():
    return games_from_text((DATA / "mila-games.jsonl").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def imported(classic, games):
    return [convert_game(classic, g) for g in games]


def test_reads_json_lines_and_single_games(games):
    """A JSON-lines file gives every game; a file holding one JSON game gives that one."""
    assert [g["id"] for g in games] == [f"peer-100{k}" for k in range(5)]
    assert games_from_text(json.dumps(games[1]))[0]["id"] == "peer-1001"


def test_bad_json_line_is_named():
    """A line that is not JSON is named by number."""
    with pytest.raises(MilaError, match="line 2 is not JSON"):
        games_from_text('{"id": "a", "phases": [{}]}\n{nope\n', "f.jsonl")


def test_every_phase_is_rechecked_and_differences_named(imported, games):
    """All recorded phases are re-adjudicated; every difference is named by a DATC case."""
    assert [i.phases for i in imported] == [len(g["phases"]) - 1 for g in games]
    assert sum(i.phases for i in imported) == 305
    diffs = [d for i in imported for d in i.diffs]
    assert diffs, "the peer follows DATC 6.G.8 pre-3.0: some phases differ"
    for d in diffs:
        assert d.explanation and d.explanation.startswith("DATC 6.G.8"), str(d)
        assert d.differences


def test_imported_saves_verify(classic, imported):
    """Each imported game is a save that re-adjudicates cleanly."""
    for imp in imported:
        report = verify_save(imp.save, classic)
        assert report.ok, report.problem
        assert imp.save.header.settings["source"] == "mila"
        assert imp.save.header.created > 1_700_000_000


def test_imported_boards_are_the_recorded_ones(classic, games, imported):
    """The board at the start of every phase of the save is the board MILA recorded."""
    for game, imp in zip(games, imported):
        bs = list(boards(classic, imp.save))
        played = [b for b in bs if b.index is not None]
        assert [b.phase for b in played] == [p["name"] for p in game["phases"][:-1]]
        for b, ph in zip(played, game["phases"]):
            assert kessen_board(classic, b.state) == mila_board(ph["state"]), (game["id"], ph["name"])
        assert kessen_board(classic, bs[-1].state) == mila_board(game["phases"][-1]["state"])


def test_board_events_mark_the_differences(imported):
    """There is one board event per differing phase, just after that phase's record."""
    for imp in imported:
        events = [k for k, r in enumerate(imp.save.records) if not isinstance(r, PhaseRecord)]
        assert len(events) == len(imp.diffs)
        assert [d.index + 1 for d in imp.diffs] == events


def test_unreadable_order_names_game_and_phase(classic, games):
    """A MILA order Kessen cannot read is an error naming the game id and phase."""
    g = copy.deepcopy(games[0])
    g["phases"][1]["orders"]["FRANCE"][0] = "A PAR -> XYZ"
    with pytest.raises(MilaError, match=r"game peer-1000, phase F1901M: FRANCE order 'A PAR -> XYZ' cannot be read"):
        convert_game(classic, g)


def test_unsupported_map(classic, games):
    """Only the standard map is supported (as the classic ruleset)."""
    g = dict(games[0], map="ancmed")
    with pytest.raises(MilaError, match="map 'ancmed' is not supported"):
        convert_game(classic, g)
