"""Host tools: pause, resume, extend, process now, preview, rollback, replace a player, enter
orders for a player, advertise a seat, export.

Only the game's host may send these (``who="host"`` in the message table, checked by
:meth:`Service.authorise`). Every use is logged in the game's event history
(:meth:`Batch.log`: the ``events`` table and an ``event`` push to everyone), in the same
transaction as the change it makes, so the log never misses an action nor shows one that did
not happen. Preview and export change nothing in the game; the history still records that
the host looked (never what they saw).
"""

from __future__ import annotations

import sqlite3
from typing import Any

import msgpack

from ..engine import canonical
from ..protocol.errors import ProtocolError
from ..protocol.messages import Request
from ..protocol.settings import shift_for_absences
from ..saves.format import to_bytes
from ..storage.export import build_save
from .room import Batch, Room

Reply = tuple[dict[str, Any], "Batch | None"]
MAX_REASON = 500


def _reason(req: Request, required: bool = False) -> str:
    reason = (req.get("reason") or "").strip()
    if required and not reason:
        raise ProtocolError("bad_message", f"{req.type} needs a reason (players read it in the history)", "reason")
    if len(reason) > MAX_REASON or not reason.replace("\n", " ").isprintable():
        raise ProtocolError("bad_message", f"a reason is at most {MAX_REASON} printable characters", "reason")
    return reason


class HostMixin:
    """The host's requests for :class:`server.net.service.Service`."""

    repo: Any
    clock: Any

    def room(self, game: str) -> Room: ...  # provided by Service
    def start_processing(self, room: Room, now: float) -> None: ...  # provided by Service
    async def _hashed(self) -> tuple[str, bytes]: ...  # provided by Service

    def _active(self, room: Room, what: str) -> None:
        if room.status == "paused":
            raise ProtocolError("bad_state", f"game {room.id} is paused; resume it before you {what}", "game")
        if room.status != "active":
            raise ProtocolError("bad_state", f"game {room.id} is {room.status}; cannot {what}", "game")
        if room.closing:
            raise ProtocolError("stale_phase", f"game {room.id} is processing {room.phase}", "phase")

    # ---- pause, resume, extend -------------------------------------------------------------
    async def on_pause(self, conn: Any, req: Request) -> Reply:
        room = self.room(req.get("game"))
        reason = _reason(req, required=True)
        self._active(room, "pause")
        now = self.clock.now()
        left = max(0, int(room.deadline - now)) if room.deadline is not None else None

        def write(db: sqlite3.Connection, b: Batch) -> None:
            cur = db.execute("UPDATE games SET status = 'paused', paused_left = ?, deadline = NULL "
                             "WHERE id = ? AND status = 'active'", (left, room.id))
            if cur.rowcount != 1:
                raise ProtocolError("bad_state", f"game {room.id} is no longer active", "game")
            b.log(db, room, "pause", conn.name, reason, {"left": left}, now)

        batch = await room._awrite(write)
        room.status, room.paused_left, room.deadline = "paused", left, None
        room._due = None
        return {"game": room.id, "status": "paused", "left": left}, batch

    async def on_resume(self, conn: Any, req: Request) -> Reply:
        """The deadline is recomputed: the time that was left at the pause, at least the
        game's ``resume_min``, from now (then moved by absences); never the stale one."""
        room = self.room(req.get("game"))
        reason = _reason(req)
        if room.status != "paused":
            raise ProtocolError("bad_state", f"game {room.id} is {room.status}, not paused", "game")
        now = self.clock.now()
        left = max(room.paused_left or 0, int(room.settings["resume_min"]))
        seated = {s.user for s in room.seats.values() if s.user is not None}
        deadline = shift_for_absences(int(now) + left, [a for a in room.absences if a[0] in seated],
                                      room.settings["max_absence"])

        def write(db: sqlite3.Connection, b: Batch) -> None:
            cur = db.execute("UPDATE games SET status = 'active', paused_left = NULL, deadline = ? "
                             "WHERE id = ? AND status = 'paused'", (deadline, room.id))
            if cur.rowcount != 1:
                raise ProtocolError("bad_state", f"game {room.id} is no longer paused", "game")
            b.log(db, room, "resume", conn.name, reason, {"deadline": deadline}, now)

        batch = await room._awrite(write)
        room.status, room.paused_left, room.deadline = "active", None, deadline
        room._due = None
        return {"game": room.id, "status": "active", "deadline": deadline}, batch

    async def on_extend(self, conn: Any, req: Request) -> Reply:
        """Move the deadline later; the total for one phase is bounded by ``max_extend``."""
        room = self.room(req.get("game"))
        room.check_phase(req.get("phase"))
        reason = _reason(req)
        self._active(room, "extend its deadline")
        seconds = req.get("seconds")
        if seconds <= 0:
            raise ProtocolError("bad_message", "'seconds' must be positive", "seconds")
        bound = int(room.settings["max_extend"])
        if room.extended + seconds > bound:
            raise ProtocolError("over_limit", f"this phase has been extended by {room.extended} s; the game allows "
                                f"{bound} s in all", "seconds")
        if room.deadline is None:
            raise ProtocolError("bad_state", f"game {room.id} has no deadline to extend", "game")
        now = self.clock.now()
        deadline, extended, phase = room.deadline + seconds, room.extended + seconds, room.phase

        def write(db: sqlite3.Connection, b: Batch) -> None:
            cur = db.execute("UPDATE games SET deadline = ?, extended = ? WHERE id = ? AND phase = ? "
                             "AND status = 'active'", (deadline, extended, room.id, phase))
            if cur.rowcount != 1:
                raise ProtocolError("stale_phase", f"game {room.id} is no longer at {phase}", "phase")
            b.log(db, room, "extend", conn.name, reason, {"seconds": seconds, "deadline": deadline}, now)

        batch = await room._awrite(write)
        room.deadline, room.extended = deadline, extended
        room._due = None
        return {"game": room.id, "phase": phase, "deadline": deadline, "extended": extended}, batch

    # ---- process now, preview ----------------------------------------------------------------
    async def on_process(self, conn: Any, req: Request) -> Reply:
        """Adjudicate the named phase now (a wrong phase is refused with ``stale_phase``)."""
        room = self.room(req.get("game"))
        room.check_phase(req.get("phase"))
        reason = _reason(req)
        self._active(room, "process it")
        now = self.clock.now()
        phase = room.phase

        def write(db: sqlite3.Connection, b: Batch) -> None:
            b.log(db, room, "process", conn.name, reason, {}, now)

        batch = await room._awrite(write)
        room.broadcast(batch.frames)  # the log entry goes out before the results
        if room.phase == phase and room.status == "active" and not room.closing:
            self.start_processing(room, now)
        return {"game": room.id, "phase": phase, "processing": True}, None

    async def on_preview(self, conn: Any, req: Request) -> Reply:
        """A dry run of the orders in now, for the host's eyes only: the game does not change
        (only the history records that the host looked, as it records every host action)."""
        room = self.room(req.get("game"))
        room.check_phase(req.get("phase"))
        payload = room.results_payload(self.repo.orders(room.id, room.phase))
        batch = await self._log_only(room, conn, "preview")
        return {"game": room.id, "phase": room.phase, **payload}, batch

    async def _log_only(self, room: Room, conn: Any, kind: str) -> Batch:
        now = self.clock.now()

        def write(db: sqlite3.Connection, b: Batch) -> None:
            b.log(db, room, kind, conn.name, "", {}, now)

        return await room._awrite(write)

    # ---- rollback ----------------------------------------------------------------------------
    async def on_rollback(self, conn: Any, req: Request) -> Reply:
        """Undo the last adjudicated phase: the board, seats (missed phases, civil disorder) and
        orders are as they were before it; its phase row stays, marked superseded, and the new
        deadline is computed from now. ``phase`` must name the current phase (a guard against
        rolling back twice)."""
        room = self.room(req.get("game"))
        if req.get("phase") != room.phase:
            raise ProtocolError("stale_phase", f"game {room.id} is at {room.phase}, not {req.get('phase')}", "phase")
        reason = _reason(req, required=True)
        if room.closing:
            raise ProtocolError("stale_phase", f"game {room.id} is processing {room.phase}", "phase")
        if room.status not in ("active", "paused") and not (room.status == "finished" and room.result == "victory"):
            raise ProtocolError("bad_state", f"game {room.id} is {room.status}; only active, paused or won games "
                                "can be rolled back", "game")
        last = self.repo.last_phase(room.id)
        if last is None or last["before"] is None:
            raise ProtocolError("bad_state", f"game {room.id} has no adjudicated phase to roll back", "game")
        room.closing = True  # as while processing: no orders or flags for the phase being discarded
        try:
            return await self._rollback(conn, room, last, reason)
        finally:
            room.closing = False
            self.wake()  # type: ignore[attr-defined]

    async def _rollback(self, conn: Any, room: Room, last: Any, reason: str) -> Reply:
        await room.settle()  # writes accepted before the rollback land first (and are discarded with it)
        before = msgpack.unpackb(last["before"], raw=False, strict_map_key=False)
        state = canonical.state_from_plain(before["state"])
        now = self.clock.now()
        to, current, paused = last["phase"], room.phase, room.status == "paused"
        if paused:
            deadline, left = None, int(room.settings["deadlines"][state.phase].get("after", room.settings["resume_min"]))
        else:
            deadline, left = room.next_deadline(state.phase, now), None
        seats = {n: (int(m), bool(cd)) for n, (m, cd) in before["seats"].items()}

        def write(db: sqlite3.Connection, b: Batch) -> None:
            db.execute("UPDATE phases SET superseded = 1 WHERE game = ? AND idx = ?", (room.id, last["idx"]))
            db.execute("DELETE FROM orders WHERE game = ? AND phase = ?", (room.id, current))
            db.execute("DELETE FROM ready WHERE game = ? AND phase IN (?, ?)", (room.id, current, to))
            db.execute("DELETE FROM reminders WHERE game = ? AND phase IN (?, ?)", (room.id, current, to))
            cur = db.execute("UPDATE games SET phase = ?, state = ?, deadline = ?, status = ?, result = NULL, "
                             "extended = 0, paused_left = ? WHERE id = ? AND phase = ?",
                             (to, canonical.encode(before["state"]), deadline, "paused" if paused else "active",
                              left, room.id, current))
            if cur.rowcount != 1:
                raise ProtocolError("stale_phase", f"game {room.id} is no longer at {current}", "phase")
            for nation, (missed, cd) in seats.items():
                db.execute("UPDATE seats SET missed = ?, civil_disorder = ? WHERE game = ? AND nation = ?",
                           (missed, int(cd), room.id, nation))
            b.log(db, room, "rollback", conn.name, reason, {"to": to, "from": current, "idx": last["idx"]}, now)
            b.push(db, "rolled_back", phase=to, state=before["state"], deadline=deadline)

        batch = await room._awrite(write)
        room.phase, room.state, room.deadline = to, state, deadline
        room.status, room.result, room.extended, room.paused_left = ("paused" if paused else "active"), None, 0, left
        for nation, (missed, cd) in seats.items():
            room.seats[nation].missed, room.seats[nation].disorder = missed, cd
        room._load_phase()
        room.forget_phase()
        return {"game": room.id, "phase": to, "deadline": deadline}, batch

    # ---- seats -------------------------------------------------------------------------------
    async def on_replace(self, conn: Any, req: Request) -> Reply:
        """Give ``nation`` a new player; the old one loses the seat at once.

        With ``name`` of an existing user, that user is seated. With a new ``name``, an
        account is made and its token returned (once) for the host to pass on. Without
        ``name``, the seat is vacated and an invite code for it returned. Tenures record who
        played when.
        """
        room = self.room(req.get("game"))
        nation = req.get("nation")
        reason = _reason(req)
        if nation not in room.seats:
            raise ProtocolError("not_found", f"{nation!r} is not a nation of {room.ruleset.id}", "nation")
        if room.status in ("finished", "quarantined"):
            raise ProtocolError("game_over", f"game {room.id} is {room.status}", "game")
        name = req.get("name")
        out: dict[str, Any] = {"game": room.id, "nation": nation}
        new_user: int | None = None
        if name is not None:
            user = self.repo.user_by_name(name)
            if user is None:
                uid, token = self.add_user(name, "player", await self._hashed())  # type: ignore[attr-defined]
                out["token"] = token
                new_user = uid
            else:
                new_user = int(user["id"])
                if room.nation_of(new_user) is not None:
                    raise ProtocolError("already_seated", f"{name} already plays {room.nation_of(new_user)}", "name")
            out["player"] = name
        else:
            out["invite"] = self.add_invite(room, conn.user, nation, await self._hashed())  # type: ignore[attr-defined]
        seat, now = room.seats[nation], self.clock.now()
        old = seat.player

        def write(db: sqlite3.Connection, b: Batch) -> None:
            db.execute("UPDATE seats SET user = ?, missed = 0, civil_disorder = 0, advertised = 0 "
                       "WHERE game = ? AND nation = ?", (new_user, room.id, nation))
            room.end_tenure(db, nation, "replaced by the host", now)
            if new_user is not None:
                db.execute("INSERT INTO tenures (game, nation, user, player, start_phase, start_time) "
                           "VALUES (?, ?, ?, ?, ?, ?)", (room.id, nation, new_user, name, room.phase, int(now)))
            b.log(db, room, "replace", conn.name, reason, {"nation": nation, "old": old, "new": name}, now)
            b.push(db, "seat", nation=nation, player=name)

        batch = await room._awrite(write)
        seat.user, seat.player, seat.missed, seat.disorder, seat.advertised = new_user, name, 0, False, False
        room.seats_changed()
        room._due = None
        self.schedule_recount(room)  # type: ignore[attr-defined]
        return out, batch

    async def on_advertise(self, conn: Any, req: Request) -> Reply:
        """Open the seat of a nation in civil disorder (or without a player) to a standby,
        who takes it over with ``join``; ``value: false`` withdraws the advertisement."""
        room = self.room(req.get("game"))
        nation, value = req.get("nation"), req.get("value", True)
        if nation not in room.seats:
            raise ProtocolError("not_found", f"{nation!r} is not a nation of {room.ruleset.id}", "nation")
        seat = room.seats[nation]
        if value and seat.user is not None and not seat.disorder:
            raise ProtocolError("bad_state", f"{nation} is not in civil disorder", "nation")
        if room.status in ("finished", "quarantined"):
            raise ProtocolError("game_over", f"game {room.id} is {room.status}", "game")
        now = self.clock.now()

        def write(db: sqlite3.Connection, b: Batch) -> None:
            db.execute("UPDATE seats SET advertised = ? WHERE game = ? AND nation = ?", (int(value), room.id, nation))
            b.log(db, room, "advertise", conn.name, "", {"nation": nation, "open": value}, now)

        batch = await room._awrite(write)
        seat.advertised = value
        return {"game": room.id, "nation": nation, "advertised": value}, batch

    # ---- orders entered by the host ------------------------------------------------------------
    async def on_enter_orders(self, conn: Any, req: Request) -> Reply:
        """Enter ``nation``'s orders from pasted text (a forum private message). They are
        stored as entered by the host, and that nation's player is sent the exact text."""
        room = self.room(req.get("game"))
        nation, text = req.get("nation"), req.get("text")
        if nation not in room.seats:
            raise ProtocolError("not_found", f"{nation!r} is not a nation of {room.ruleset.id}", "nation")
        room.check_phase(req.get("phase"))
        reason = _reason(req)
        now = self.clock.now()
        phase = room.phase

        def also(db: sqlite3.Connection, b: Batch, checked: dict[str, Any]) -> None:
            b.log(db, room, "enter_orders", conn.name, reason, {"nation": nation, "orders": len(checked["orders"])}, now)
            b.push(db, "orders_entered", audience=f"n:{nation}", phase=phase, nation=nation, text=text,
                   orders=checked["orders"], rejected=checked["rejected"], by=conn.name)

        checked, batch = await room.submit(nation, text, conn.name, now, also)
        return {"game": room.id, "phase": phase, "nation": nation, **checked}, batch

    # ---- export --------------------------------------------------------------------------------
    async def on_export(self, conn: Any, req: Request) -> Reply:
        room = self.room(req.get("game"))
        data = to_bytes(build_save(self.repo, room.id))
        batch = await self._log_only(room, conn, "export")
        return {"game": room.id, "name": f"{room.id}.kessen", "save": data}, batch


__all__ = ["HostMixin"]
