"""Tests for server.analysis.stats (numpy over replays); kept here beside the saves they read."""

from __future__ import annotations

import json

import numpy as np
import pytest

from server.analysis.stats import aggregate, aggregate_plain, aggregate_text, game_plain, game_stats, game_text
from server.engine import canonical
from server.engine.orders import Support
from server.engine.state import GameState
from server.saves.builder import new_save
from server.saves.files import open_save
from server.saves.replay import boards
from server.selfplay import play

from .conftest import SAVES, small_game


def test_game_stats_shapes_and_sums(small, classic):
    """Centres and units per nation per year; totals never exceed the map's centres."""
    s = game_stats(classic, small)
    assert s.nations == classic.nation_ids
    assert s.years.tolist() == [1901, 1902]
    assert s.centres.shape == s.units.shape == (7, 2)
    assert (s.centres.sum(axis=0) <= len(classic.centres)).all()
    assert s.phases == small.phase_count
    assert s.result == f"draw {len(s.survivors)}-way" and s.winner is None


def test_support_matrix_counts_matched_supports(small, classic):
    """supports[i, j] counts matched supports by nation i of nation j's units."""
    s = game_stats(classic, small)
    idx = {n: k for k, n in enumerate(classic.nation_ids)}
    expected = np.zeros((7, 7), dtype=int)
    for b in boards(classic, small):
        if b.turn is None:
            continue
        owner = {u.province: u.nation for u in b.state.units}
        for r in b.turn.results:
            if isinstance(r.order, Support) and r.result in ("succeeds", "fails"):
                expected[idx[r.nation], idx[owner[r.order.target.split("/")[0]]]] += 1
    assert (s.supports == expected).all()
    assert (s.supports_ok <= s.supports).all()


def test_eliminations_in_the_long_sample():
    """A nation left with no centre and no unit is eliminated in that year."""
    save, rs = open_save(SAVES / "classic-selfplay-30y.kessen")
    s = game_stats(rs, save)
    for n, y in s.eliminated:
        k = s.nations.index(n)
        col = int(y - s.years[0])
        assert s.centres[k, col] == 0 and s.units[k, col] == 0


def test_solo_result(classic):
    """A game whose final board has a winner is a solo."""
    rec = new_save(classic, "solo")
    for p in play(classic, 1, 1):
        rec.add_turn(classic, p.orders, p.turn)
        last = p.turn.state
    won = GameState.build(last.year, last.season, last.phase, last.units, last.centres, winner="france")
    rec.add_event("board", by="host", reason="france conceded to", data={"state": canonical.state_plain(won)})
    s = game_stats(classic, rec.to_save())
    assert s.winner == "france" and s.result == "solo france"


def test_aggregate_over_games_of_different_lengths(classic):
    """Means over games ignore years a game did not reach."""
    a_game = game_stats(classic, small_game(classic, years=2, seed=1))
    b_game = game_stats(classic, small_game(classic, years=3, seed=2))
    agg = aggregate([a_game, b_game])
    assert agg.games == 2 and agg.years.tolist() == [1901, 1902, 1903]
    assert np.allclose(agg.mean_centres[:, 2], b_game.centres[:, 2])
    assert np.allclose(agg.mean_centres[:, 0], (a_game.centres[:, 0] + b_game.centres[:, 0]) / 2)
    assert (agg.supports == a_game.supports + b_game.supports).all()
    assert agg.draws == 2
    json.dumps(aggregate_plain(agg))
    assert "mean supply centres" in aggregate_text(agg)
    with pytest.raises(ValueError):
        aggregate([])


def test_plain_and_text(small, classic):
    """The plain form is JSON; the text names the result and the tables."""
    s = game_stats(classic, small)
    json.dumps(game_plain(s))
    text = game_text(s)
    assert "supply centres at the end of each year" in text and "supports" in text
