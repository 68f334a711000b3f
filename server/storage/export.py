"""A stored game as a save (:mod:`server.saves`): header, initial board, every adjudicated phase."""

from __future__ import annotations

from ..engine.canonical import reason_from_plain
from ..engine.notation import parse_order
from ..engine.outcome import OrderResult
from ..ruleset_files import load
from ..saves.builder import new_save
from ..saves.model import Save
from .repository import Repository


def build_save(repo: Repository, game_id: str) -> Save:
    """The save of ``game_id``, phases in the order they were adjudicated.

    Raises:
        KeyError: no such game.
    """
    row = repo.game(game_id)
    if row is None:
        raise KeyError(game_id)
    ruleset = load(row["ruleset"])
    players = {s["nation"]: s["player"] for s in repo.seats(game_id)}
    rec = new_save(ruleset, game_id, row["title"], players=players, settings=repo.settings(row),
                   created=int(row["created"]))
    for ph in repo.phases(game_id):
        results = [OrderResult(n, parse_order(text, ruleset), res, reason_from_plain(reason))
                   for n, text, res, reason in ph["results"]]
        orders = {n: [(t, by) for t, by in entries] for n, entries in ph["orders"].items()}
        rec.add_phase(ph["phase"], orders, results, ph["digest"])
    return rec.to_save()


__all__ = ["build_save"]
