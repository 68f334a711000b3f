"""Draw votes, concession, and what happens when a game ends (summary, released press).

Who counts (:func:`survivors`, :func:`voters`): a nation survives while it has at least one
unit (dislodged ones included) or one supply centre. The voters who count are the surviving
nations whose seat has a player and is not in civil disorder: a nation in civil disorder
cannot block a draw or a concession (its vote is kept and counts again once it is back). A
nation that is eliminated stops counting. Votes stand until changed (table ``votes``).

- **Draw**: every counted voter votes ``draw`` (and at least two nations survive): the game
  ends as a draw of all surviving nations.
- **Concession**: the leader is the one nation with the most supply centres (a tie: nobody
  leads, and conceding is refused with ``bad_state``); every counted voter other than the
  leader votes ``concede`` (at least one): the leader wins by concession. A concession vote
  counts for whoever leads alone when the count is made.

``draw_votes`` ``secret``: a vote is pushed only to the voter's own nation; ``public``: to
everyone. Agreement is checked after each vote has committed and after each processed phase
(an elimination may complete it), with the room claimed (``closing``) so that no phase is
processed meanwhile, and checked again inside the one write that ends the game.

The end of a game (:meth:`VoteMixin.game_ended`, for victory, draw and concession alike):
one write logs a ``summary`` event (result, winner, survivors, tenures, centres at the end of
each year) and pushes ``summary``; in the same write, if ``release_press`` is on, every press
message is released (:func:`server.net.press.release_press`). It is idempotent, and the
server calls it at start for finished games that have no summary yet.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from typing import Any

from ..engine.adjustments import centre_counts
from ..engine.ruleset import Ruleset
from ..engine.state import GameState
from ..protocol.errors import ProtocolError
from ..protocol.messages import Request
from .press import release_press
from .room import Batch, Room

log = logging.getLogger("kessen.votes")

KINDS = ("draw", "concede")


def survivors(ruleset: Ruleset, state: GameState) -> list[str]:
    """Nations with at least one unit (dislodged included) or one supply centre, in id order."""
    counts = centre_counts(ruleset, state.centres)
    alive = {u.nation for u in state.units} | {d.unit.nation for d in state.dislodged}
    return [n for n in ruleset.nation_ids if counts.get(n, 0) > 0 or n in alive]


def leader(ruleset: Ruleset, state: GameState) -> str | None:
    """The one nation with the most supply centres; None on a tie for the lead."""
    counts = centre_counts(ruleset, state.centres)
    top = max(counts.values(), default=0)
    first = [n for n, c in counts.items() if c == top]
    return first[0] if len(first) == 1 and top > 0 else None


def voters(room: Room, alive: list[str]) -> list[str]:
    """Surviving nations whose votes count: seated and not in civil disorder."""
    return [n for n in alive if room.seats[n].user is not None and not room.seats[n].disorder]


def agreement(alive: list[str], counted: list[str], lead: str | None,
              votes: dict[tuple[str, str], bool]) -> tuple[str, str | None] | None:
    """``("draw", None)``, ``("concession", leader)`` or None (no agreement).

    >>> agreement(["a", "b"], ["a", "b"], "a", {("a", "draw"): True, ("b", "draw"): True})
    ('draw', None)
    >>> agreement(["a", "b", "c"], ["a", "b"], "a", {("b", "concede"): True})
    ('concession', 'a')
    >>> agreement(["a", "b"], ["a", "b"], None, {("b", "concede"): True}) is None
    True
    """
    if len(alive) >= 2 and counted and all(votes.get((n, "draw")) for n in counted):
        return "draw", None
    if lead is not None:
        others = [n for n in counted if n != lead]
        if others and all(votes.get((n, "concede")) for n in others):
            return "concession", lead
    return None


def _votes(db: sqlite3.Connection, game: str) -> dict[tuple[str, str], bool]:
    return {(r[0], r[1]): bool(r[2]) for r in db.execute("SELECT nation, kind, value FROM votes WHERE game = ?",
                                                         (game,))}


class VoteMixin:
    """``on_vote`` and :meth:`game_ended` for :class:`server.net.service.Service`."""

    # ---- votes -----------------------------------------------------------------------------
    async def on_vote(self, conn: Any, req: Request) -> tuple[dict[str, Any], Batch | None]:
        room: Room = self.room(req.get("game"))  # type: ignore[attr-defined]
        nation: str = self._seat(conn, room)  # type: ignore[attr-defined]
        room.check_phase(req.get("phase"))
        kind, value = req.get("kind"), bool(req.get("value"))
        if kind not in KINDS:
            raise ProtocolError("bad_message", "'kind' must be 'draw' or 'concede'", "kind")
        if nation not in survivors(room.ruleset, room.state):
            raise ProtocolError("bad_state", f"{nation} has been eliminated and no longer votes", "game")
        if kind == "concede" and value:
            lead = leader(room.ruleset, room.state)
            if lead is None:
                raise ProtocolError("bad_state", "no nation leads alone (a tie for the most supply centres): "
                                    "there is nobody to concede to", "kind")
            if lead == nation:
                raise ProtocolError("bad_state", f"{nation} leads: the leader cannot concede", "kind")
        now = int(self.clock.now())  # type: ignore[attr-defined]
        game, phase = room.id, room.phase
        audience = "all" if room.settings.get("draw_votes") == "public" else f"n:{nation}"

        def write(db: sqlite3.Connection, b: Batch) -> None:
            db.execute("INSERT OR REPLACE INTO votes (game, nation, kind, value, phase, time) "
                       "VALUES (?, ?, ?, ?, ?, ?)", (game, nation, kind, int(value), phase, now))
            b.push(db, "vote", audience=audience, phase=phase, nation=nation, kind=kind, value=value)

        batch = await room._awrite(write)
        counted = nation in voters(room, survivors(room.ruleset, room.state))
        self.schedule_recount(room)  # after the reply and the push
        return {"game": game, "phase": phase, "nation": nation, "kind": kind, "value": value,
                "counted": counted}, batch

    def schedule_recount(self, room: Room) -> None:
        """Count the standing votes again once the current request is answered: after a vote,
        and after a seat changes hands (a vacated seat no longer counts; a new player inherits
        the nation's standing votes)."""
        if room.status not in ("active", "paused"):
            return
        task = asyncio.get_running_loop().create_task(self._settle(room))
        self.tasks.add(task)  # type: ignore[attr-defined]
        task.add_done_callback(self.tasks.discard)  # type: ignore[attr-defined]

    async def recount_votes(self, room: Room) -> None:
        """After a processed phase (the caller holds ``room.closing``): end the game if the
        standing votes now agree (an elimination may complete a draw)."""
        await self._end_if_agreed(room)

    async def _settle(self, room: Room) -> None:
        """End the game if the votes agree, unless a phase is being processed (processing
        recounts when it is done)."""
        if room.closing or room.status in ("forming", "finished", "quarantined"):
            return
        room.closing = True
        try:
            await self._end_if_agreed(room)
        except Exception:
            log.exception("game %s: counting votes failed", room.id)
        finally:
            room.closing = False
            self.wake()  # type: ignore[attr-defined]

    async def _end_if_agreed(self, room: Room) -> None:
        alive = survivors(room.ruleset, room.state)
        counted = voters(room, alive)
        lead = leader(room.ruleset, room.state)
        if agreement(alive, counted, lead, _votes(room.repo.db, room.id)) is None:
            return
        now = int(self.clock.now())  # type: ignore[attr-defined]
        game, phase, status = room.id, room.phase, room.status
        done: list[tuple[str, str | None]] = []

        def write(db: sqlite3.Connection, b: Batch) -> None:
            got = agreement(alive, counted, lead, _votes(db, game))  # again, inside the transaction
            if got is None:
                return
            result, winner = got
            cur = db.execute("UPDATE games SET status = 'finished', result = ?, deadline = NULL, "
                             "paused_left = NULL WHERE id = ? AND phase = ? AND status = ?",
                             (result, game, phase, status))
            if cur.rowcount != 1:
                return
            b.log(db, room, result, "votes", "", {"result": result, "winner": winner, "survivors": alive}, now)
            b.push(db, "ended", result=result, winner=winner, survivors=alive, phase=phase)
            done.append(got)

        batch = await room._awrite(write)
        if not done:
            return
        room.status, room.result, room.deadline, room.paused_left = "finished", done[0][0], None, None
        room._due = None
        room.broadcast(batch.frames)
        self.game_ended(room)

    # ---- the end of a game -----------------------------------------------------------------
    def game_ended(self, room: Any) -> None:
        """Called once a game's end has committed (victory, draw, concession), and at start for
        finished games: write the summary (and release press) once. Never raises."""
        if room.status != "finished":
            return
        try:
            self._summarise(room)
        except Exception:
            log.exception("game %s: the end-of-game summary failed", room.id)

    def _summarise(self, room: Room) -> None:
        repo = room.repo
        if repo.db.execute("SELECT 1 FROM events WHERE game = ? AND kind = 'summary'", (room.id,)).fetchone():
            return
        summary = self._summary(room)
        release = bool(room.settings.get("release_press"))
        now = int(self.clock.now())  # type: ignore[attr-defined]
        game = room.id

        def write(db: sqlite3.Connection, b: Batch) -> None:
            if db.execute("SELECT 1 FROM events WHERE game = ? AND kind = 'summary'", (game,)).fetchone():
                return
            b.log(db, room, "summary", "server", "", summary, now)
            b.push(db, "summary", **summary)
            if release:
                release_press(db, b, game)

        batch = room._write(write)  # rare: once per game
        room.broadcast(batch.frames)

    def _summary(self, room: Room) -> dict[str, Any]:
        repo, rs, state = room.repo, room.ruleset, room.state
        result = room.result or "victory"
        winner: str | None = None
        if result == "victory":
            winner = state.winner
        elif result == "concession":
            for ev in reversed(repo.events(room.id)):
                if ev["kind"] == "concession":
                    winner = ev["data"].get("winner")
                    break
        return {"result": result, "winner": winner, "survivors": survivors(rs, state),
                "tenures": repo.tenures(room.id), "centres_by_year": self._centres_by_year(room)}

    def _centres_by_year(self, room: Room) -> dict[str, dict[str, int]]:
        """Supply centres per nation at the end of each game year (the year in progress: as
        it stands), from a replay of the game's record."""
        from ..analysis.stats import game_stats
        from ..storage.export import build_save

        try:
            stats = game_stats(room.ruleset, build_save(room.repo, room.id))
        except Exception:  # the record does not replay: the final board is still known
            log.exception("game %s: replaying the record for the summary failed", room.id)
            counts = centre_counts(room.ruleset, room.state.centres)
            return {str(room.state.year): {n: int(counts[n]) for n in room.ruleset.nation_ids}}
        return {str(int(y)): {n: int(stats.centres[k, col]) for k, n in enumerate(stats.nations)}
                for col, y in enumerate(stats.years)}


__all__ = ["VoteMixin", "survivors", "leader", "voters", "agreement"]
