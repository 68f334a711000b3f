"""A stored game as a save (:mod:`server.saves`): header, initial board, every adjudicated
phase (superseded ones too) and the game's event history, in the order they happened.

Event history entries become save events: ``pause``, ``resume``, ``extend``, ``rollback``
(``{"to": phase}``: the verifier returns the board to the start of that phase),
``replacement``; every other kind (orders entered by the host, process now, advertised seats,
absences, the end of the game) is a ``note`` whose data names the kind. Press appears only
once released (``press`` events at the end).
"""

from __future__ import annotations

from typing import Any

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
    events = repo.events(game_id)
    phases = repo.phases(game_id)
    record_of: dict[int, int] = {}  # phase row idx -> its record index in the save
    for i in range(len(phases) + 1):
        for ev in events:
            if ev["pos"] == i:
                _add_event(rec, ev, record_of)
        if i < len(phases):
            ph = phases[i]
            record_of[ph["idx"]] = len(rec.records)
            results = [OrderResult(n, parse_order(text, ruleset), res, reason_from_plain(reason))
                       for n, text, res, reason in ph["results"]]
            orders = {n: [(t, by) for t, by in entries] for n, entries in ph["orders"].items()}
            rec.add_phase(ph["phase"], orders, results, ph["digest"])
    for press in repo.db.execute("SELECT * FROM press WHERE game = ? AND released = 1 ORDER BY id", (game_id,)):
        rec.add_event("press", by="", time=int(press["time"]), data={
            "from": None if press["grey"] else press["sender"], "to": press["recipients"],
            "text": press["text"], "phase": press["phase"]})
    return rec.to_save()


_SAME = {"pause": "pause", "resume": "resume", "extend": "extend", "replace": "replacement"}


def _add_event(rec: Any, ev: dict[str, Any], record_of: dict[int, int]) -> None:
    kind, data = ev["kind"], dict(ev["data"])
    if kind == "rollback":  # names the record of the phase it supersedes
        marked = {"to": data["to"]}
        if data.get("idx") in record_of:
            marked["superseded"] = record_of[data["idx"]]
        rec.add_event("rollback", by=ev["by"], reason=ev["reason"], time=ev["time"], data=marked)
    elif kind in _SAME:
        rec.add_event(_SAME[kind], by=ev["by"], reason=ev["reason"], time=ev["time"], data=data)
    else:
        rec.add_event("note", by=ev["by"], reason=ev["reason"], time=ev["time"], data={"kind": kind, **data})


__all__ = ["build_save"]
