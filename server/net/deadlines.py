"""Deadlines people can live with: reminders (pushed and to a webhook), absences, time zones.

**Reminders.** A game's ``reminders`` setting lists offsets (seconds before the deadline).
At ``deadline - offset`` every acting nation that is *not complete* gets a ``reminder`` push
addressed to it alone (``n:<nation>``). Complete means: no player, in civil disorder, ready,
or orders in with no unit (or build/removal) still missing. A round of one game's phase is
sent once: its ``(game, phase, offset)`` row in ``reminders`` is written in the same
transaction as the pushes (``INSERT OR IGNORE``: a row already there means the round was
sent, and nothing is pushed again), so a restart neither repeats nor loses one. Rules:

- only ``active`` games (not forming, paused, finished, quarantined) and never while the
  phase is being processed;
- a moment at or before the phase's start is skipped (a 1 h reminder in a 10 min phase
  would only repeat the phase's own push); the start is when this process saw the phase
  begin, or after a restart the time its previous phase was processed (for the first phase:
  the latest of creation, ``start.at`` and the last seat claimed);
- nothing is sent once the deadline has passed (a moment missed while the server was down
  and whose deadline passed too is skipped); one that came due while the server was down
  whose deadline is still ahead is sent at the first tick; several offsets due at once make
  one round (the rows of all of them are written);
- if the game has a ``webhook``, each round that reminded someone also posts one
  Discord-compatible message (game, phase, deadline in UTC and the game's zone, the nations
  not complete: never orders or press) through :class:`server.net.webhook.Poster`, off the
  event loop.

:meth:`DeadlineMixin.remind` runs at every scheduler tick: one comparison per game when
nothing changed. It caches the earliest future reminder moment, which
:meth:`DeadlineMixin.next_reminder` returns in O(1) for the main loop's timer.

**Absences** (``absence``) and **time zones** (``profile``, the game view's
``deadline_local``): see PROTOCOL.md, "Deadlines: reminders, absences, time zones".

>>> format_time(1_800_000_000, "UTC")
'2027-01-15 08:00 UTC'
>>> format_time(1_800_000_000, "Asia/Tokyo")
'2027-01-15 17:00 JST'
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import math
import sqlite3
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..protocol.errors import ProtocolError
from ..protocol.messages import Request
from ..protocol.settings import shift_for_absences, zone_ok
from .webhook import Poster

if TYPE_CHECKING:
    from .room import Batch, Room

log = logging.getLogger("kessen.deadlines")

MAX_ABSENCE_SPAN = 60 * 86400
"""The longest absence one may declare (end - start), seconds."""
MAX_FUTURE_ABSENCES = 8
"""Absences per user and game that have not ended yet, at most."""
MAX_REASON = 500


def format_time(ts: int | float, tz: str) -> str:
    """``ts`` (UTC seconds) as ``YYYY-MM-DD HH:MM ZONE`` in the zone ``tz`` (UTC if unknown)."""
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        zone = ZoneInfo("UTC")
    return dt.datetime.fromtimestamp(int(ts), zone).strftime("%Y-%m-%d %H:%M %Z")


def time_view(ts: int | None, tz: str) -> tuple[str | None, dict[str, str] | None]:
    """``(deadline_utc, deadline_local)`` as the game view and reminders show them."""
    if ts is None:
        return None, None
    return format_time(ts, "UTC"), {"tz": tz, "text": format_time(ts, tz)}


def _duration(seconds: int) -> str:
    """A short duration for people.

    >>> _duration(3600), _duration(5400), _duration(90000), _duration(59)
    ('1 h', '1 h 30 min', '1 d 1 h', '59 s')
    """
    if seconds < 60:
        return f"{max(seconds, 0)} s"
    d, rest = divmod(seconds, 86400)
    h, rest = divmod(rest, 3600)
    m = rest // 60
    parts = [f"{d} d"] * bool(d) + [f"{h} h"] * bool(h) + [f"{m} min"] * bool(m and not d)
    return " ".join(parts)


class _Track:
    """What the reminder scheduler knows of one game's current phase."""

    __slots__ = ("phase", "active", "start", "sent", "sig", "next")

    def __init__(self, phase: str, active: bool, start: float, sent: set[int]) -> None:
        self.phase, self.active, self.start, self.sent = phase, active, start, sent
        self.sig: tuple[Any, ...] | None = None  # (phase, status, deadline, settings) last computed for
        self.next = math.inf  # the earliest future reminder moment of this phase


class DeadlineState:
    """The deadline mixin's own state, made on first use (the mixin has no ``__init__``)."""

    def __init__(self) -> None:
        self.tracks: dict[str, _Track] = {}
        self.next = math.inf  # the earliest future reminder moment over all games
        self.tz: dict[int, str | None] = {}  # users' own time zones (cache of users.tz)
        self.tasks: set[asyncio.Task[None]] = set()  # reminder rounds being written
        self.poster: Poster | None = None  # made on the first webhook post (tests may set one)


class DeadlineMixin:
    """``on_absence``, ``on_profile``, :meth:`remind` and :meth:`next_reminder` for
    :class:`server.net.service.Service` (which provides ``rooms``, ``repo``, ``clock``,
    ``room()``, ``now()``, ``wake()``)."""

    rooms: dict[str, Room]
    repo: Any
    clock: Any

    if TYPE_CHECKING:
        def room(self, game: str) -> Room: ...
        def now(self) -> int: ...
        def wake(self) -> None: ...

    def deadline_state(self) -> DeadlineState:
        st: DeadlineState | None = self.__dict__.get("_deadline_state")
        if st is None:
            st = self.__dict__["_deadline_state"] = DeadlineState()
        return st

    # ---- time zones ------------------------------------------------------------------------
    def user_tz(self, user: int | None) -> str | None:
        """The user's own time zone (``profile``), or None; cached."""
        if user is None:
            return None
        cache = self.deadline_state().tz
        if user not in cache:
            row = self.repo.user(user)
            cache[user] = row["tz"] if row is not None else None
        return cache[user]

    def viewer_tz(self, room: Room, user: int | None) -> str:
        """The zone to show ``user`` times of ``room`` in: their own, else the game's."""
        return self.user_tz(user) or room.settings.get("tz") or "UTC"

    async def on_profile(self, conn: Any, req: Request) -> tuple[dict[str, Any], Batch | None]:
        """Set (``tz``: a zone name; ``""`` clears it) or read the user's profile."""
        tz = req.get("tz")
        if tz is not None:
            if tz != "" and not zone_ok(tz):
                raise ProtocolError("bad_message", f"unknown time zone {tz[:64]!r}; use a name like Europe/London",
                                    "tz")
            value, uid = tz or None, conn.user
            await self.repo.submit(lambda db: db.execute("UPDATE users SET tz = ? WHERE id = ?", (value, uid)))
            self.deadline_state().tz[uid] = value
        return {"tz": self.user_tz(conn.user)}, None

    # ---- absences --------------------------------------------------------------------------
    async def on_absence(self, conn: Any, req: Request) -> tuple[dict[str, Any], Batch | None]:
        """Declare an absence; the current deadline moves now if it falls inside it."""
        room = self.room(req.get("game"))
        uid = conn.user
        nation = room.nation_of(uid)
        if nation is None:  # authorise() checked it; the seat may have changed since
            raise ProtocolError("not_seated", f"you play no nation in {room.id}", "game")
        now = self.now()
        start, end, reason = req.get("start"), req.get("end"), req.get("reason") or ""
        if start < 0:
            raise ProtocolError("bad_message", "'start' must be UTC seconds >= 0", "start")
        if end <= start:
            raise ProtocolError("bad_message", "'end' must be after 'start'", "end")
        if end <= now:
            raise ProtocolError("bad_message", "the absence has already ended", "end")
        if end - start > MAX_ABSENCE_SPAN:
            raise ProtocolError("bad_message", f"an absence lasts at most {MAX_ABSENCE_SPAN // 86400} days", "end")
        if len(reason) > MAX_REASON or not reason.isprintable():
            raise ProtocolError("bad_message", f"a reason is at most {MAX_REASON} printable characters", "reason")
        if room.status == "finished":
            raise ProtocolError("game_over", f"game {room.id} has ended", "game")
        if sum(1 for u, _, e in room.absences if u == uid and e > now) >= MAX_FUTURE_ABSENCES:
            raise ProtocolError("over_limit", f"at most {MAX_FUTURE_ABSENCES} absences that have not ended "
                                f"per player and game", "game")
        absence = (uid, start, end)
        phase, old = room.phase, room.deadline
        moved: int | None = None
        if (room.status == "active" and old is not None and not room.closing and old > now
                and start <= old < end):
            seated = {s.user for s in room.seats.values() if s.user is not None}
            new = shift_for_absences(old, [a for a in [*room.absences, absence] if a[0] in seated],
                                     int(room.settings["max_absence"]))
            moved = new if new > old else None
        done = {"moved": False}
        game, name = room.id, conn.name

        def write(db: sqlite3.Connection, b: Batch) -> None:
            db.execute("INSERT INTO absences (game, user, start, end, reason, created) VALUES (?, ?, ?, ?, ?, ?)",
                       (game, uid, start, end, reason, now))
            b.log(db, room, "absence", name, data={"nation": nation, "start": start, "end": end}, now=now)
            if moved is not None and db.execute(
                    "UPDATE games SET deadline = ? WHERE id = ? AND phase = ? AND status = 'active' AND deadline = ?",
                    (moved, game, phase, old)).rowcount == 1:
                b.push(db, "deadline", phase=phase, deadline=moved, reason="absence")
                done["moved"] = True

        # in memory first: a phase processed while this commits computes its next deadline with it
        room.absences.append(absence)
        try:
            batch = await room._awrite(write)
        except BaseException:
            room.absences.remove(absence)
            raise
        if done["moved"] and room.phase == phase and room.deadline == old:
            room.deadline = moved
            room._due = None
        self.wake()
        return {"game": game, "nation": nation, "start": start, "end": end, "deadline": room.deadline,
                "moved": done["moved"]}, batch

    # ---- reminders -------------------------------------------------------------------------
    def next_reminder(self) -> float | None:
        """The earliest future reminder moment (as of the last :meth:`remind`), or None."""
        st = self.__dict__.get("_deadline_state")
        return None if st is None or st.next == math.inf else st.next

    def remind(self, now: float) -> None:
        """Send the reminder rounds that are due (called by the scheduler's tick)."""
        st = self.deadline_state()
        earliest = math.inf
        for room in list(self.rooms.values()):
            try:
                t = self._track(st, room, now)
                if t is None:
                    continue
                sig = (room.phase, room.status, room.deadline, tuple(room.settings.get("reminders") or ()))
                if sig == t.sig and now < t.next:  # nothing changed and nothing due: the common case
                    earliest = min(earliest, t.next)
                    continue
                t.sig = sig
                deadline = room.deadline
                assert deadline is not None
                offsets = [o for o in sig[3] if o not in t.sent and deadline - o > t.start]
                due = [o for o in offsets if deadline - o <= now] if now < deadline else []
                if due and room.closing:  # being processed: look again at the next tick
                    t.sig = None
                    continue
                t.next = min((deadline - o for o in offsets if deadline - o > now), default=math.inf)
                if now >= deadline:
                    t.next = math.inf
                earliest = min(earliest, t.next)
                if due:
                    t.sent.update(due)
                    task = asyncio.get_running_loop().create_task(self._round(room, t, due, now))
                    st.tasks.add(task)
                    task.add_done_callback(st.tasks.discard)
            except Exception:  # one game's failure must not stop the others' reminders
                log.exception("game %s: reminders failed", room.id)
        st.next = earliest

    def _track(self, st: DeadlineState, room: Room, now: float) -> _Track | None:
        """The game's track, updated for phase and status changes; None if it sends none now."""
        active = room.status == "active" and room.deadline is not None
        t = st.tracks.get(room.id)
        if t is None:
            start = self._phase_start(room) if active else now
            t = st.tracks[room.id] = _Track(room.phase, active, start, self._sent(room))
        elif t.phase != room.phase:
            t.phase, t.active, t.start, t.sent, t.sig = room.phase, active, now, self._sent(room), None
        elif active != t.active:
            t.active, t.sig = active, None
            if active:  # started or resumed: moments before now are not reminded
                t.start = now
        return t if active else None

    def _sent(self, room: Room) -> set[int]:
        return {int(r[0]) for r in self.repo.db.execute(
            "SELECT offset FROM reminders WHERE game = ? AND phase = ?", (room.id, room.phase))}

    def _phase_start(self, room: Room) -> float:
        """When the current phase began, as well as the database tells (after a restart)."""
        db = self.repo.db
        row = db.execute("SELECT processed FROM phases WHERE game = ? AND superseded = 0 ORDER BY idx DESC LIMIT 1",
                         (room.id,)).fetchone()
        if row is not None:
            return float(row[0])
        created = db.execute("SELECT created FROM games WHERE id = ?", (room.id,)).fetchone()
        claimed = db.execute("SELECT MAX(start_time) FROM tenures WHERE game = ?", (room.id,)).fetchone()
        return float(max(created[0] if created else 0, room.settings.get("start_at") or 0,
                         claimed[0] if claimed and claimed[0] is not None else 0))

    def incomplete(self, room: Room) -> dict[str, dict[str, Any]]:
        """Acting nations not yet complete: ``{nation: {"orders": bool, "missing": [...]}}``."""
        out: dict[str, dict[str, Any]] = {}
        stored: dict[str, Any] | None = None
        for nation in room.acting():
            seat = room.seats[nation]
            if seat.user is None or seat.disorder or nation in room.ready:
                continue
            if nation in room.orders_in:
                if stored is None:
                    stored = room.repo.orders(room.id, room.phase)
                row = stored.get(nation)
                text = row["text"] if row is not None else ""
                missing = room.check_orders(nation, text)["missing"]
                if missing:
                    out[nation] = {"orders": True, "missing": missing}
            else:
                out[nation] = {"orders": False, "missing": room.check_orders(nation, "")["missing"]}
        return out

    async def _round(self, room: Room, t: _Track, offsets: list[int], now: float) -> None:
        """One reminder round: rows and pushes in one transaction, then broadcast and webhook."""
        game, phase, deadline = room.id, room.phase, room.deadline
        assert deadline is not None
        try:
            todo = self.incomplete(room)
            seats = {n: room.seats[n].user for n in todo}
            tzs = {n: self.viewer_tz(room, seats[n]) for n in todo}
        except Exception:
            log.exception("game %s: reminders of %s failed", game, phase)
            return
        left = int(deadline - now)
        sent = {"any": False, "stale": False}

        def write(db: sqlite3.Connection, b: Batch) -> None:
            row = db.execute("SELECT phase, status, deadline FROM games WHERE id = ?", (game,)).fetchone()
            if row is None or (row[0], row[1], row[2]) != (phase, "active", deadline):
                sent["stale"] = True  # moved on (processed, paused, deadline changed): the next tick decides
                return
            new = [o for o in offsets if db.execute(
                "INSERT OR IGNORE INTO reminders (game, phase, offset) VALUES (?, ?, ?)", (game, phase, o)).rowcount]
            if not new:
                return  # sent before (by an earlier process)
            sent["any"] = True
            for nation in sorted(todo):
                utc, local = time_view(deadline, tzs[nation])
                b.push(db, "reminder", audience=f"n:{nation}", phase=phase, nation=nation, deadline=deadline,
                       seconds_left=left, orders=todo[nation]["orders"], missing=todo[nation]["missing"],
                       deadline_utc=utc, deadline_local=local)

        try:
            batch = await room._awrite(write)
        except Exception:
            log.exception("game %s: reminders of %s not written; retried at the next tick", game, phase)
            if t.phase == phase:
                t.sent.difference_update(offsets)
                t.sig = None
            return
        if sent["stale"] and t.phase == phase:
            t.sent.difference_update(offsets)
            t.sig = None
        room.broadcast(batch.frames)
        url = room.settings.get("webhook")
        if sent["any"] and todo and url:
            st = self.deadline_state()
            if st.poster is None:
                st.poster = Poster()
            st.poster.post(url, webhook_text(room, phase, deadline, left, sorted(todo)))


def webhook_text(room: Room, phase: str, deadline: int, left: int, nations: list[str]) -> str:
    """The webhook's message: game, phase, deadline (UTC and the game's zone), nations not
    complete. Never orders or press. ``@`` is defused so a title cannot ping anyone."""
    tz = room.settings.get("tz") or "UTC"
    names = []
    for n in nations:
        try:
            names.append(room.ruleset.nation(n).name)
        except Exception:
            names.append(n)
    when = format_time(deadline, "UTC")
    if tz != "UTC":
        when += f" ({format_time(deadline, tz)})"
    title = room.title.replace("@", "@\u200b")
    return (f"Reminder: **{title}** ({room.id}), phase {phase}: the deadline is {when}, in {_duration(left)}.\n"
            f"Not complete yet: {', '.join(names)}.")


__all__ = ["DeadlineMixin", "DeadlineState", "format_time", "time_view", "zone_ok", "webhook_text",
           "MAX_ABSENCE_SPAN", "MAX_FUTURE_ABSENCES"]
