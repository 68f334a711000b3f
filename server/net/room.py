"""One live game: its board, seats, orders and ready flags, deadline, processing and pushes.

Every change is written in one repository write (committed by the writer thread, possibly in
one transaction with other writes: group commit) *before* memory is updated and before
anything is sent: if the process dies at any point, the database holds either the whole
change or none of it, and the room is rebuilt from it at start. Orders and ready flags are
written without blocking the event loop (``await``); while a phase is being processed
(``closing``) the room refuses them as ``stale_phase``, and processing first waits for the
writes already under way, so it reads every acknowledged order.

Processing a phase (the order matters for the crash tests):

1. Stop taking orders for the phase; wait for the room's writes under way; read the stored
   orders of the current phase; parse their canonical text.
2. ``engine.turn.step`` (pure). If it raises, the game is quarantined and the error logged.
3. One transaction: the phase row (orders as entered, results, digest; ``UNIQUE(game,
   phase)`` is the at-most-once guard), the new phase, state and deadline (``UPDATE ...
   WHERE phase = old phase``), missed-phase counters and civil disorder, the pushes.
4. Memory is updated, then the pushes are broadcast.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any, Callable, Iterable

from ..engine import canonical
from ..engine.adjustments import adjustments_due
from ..engine.errors import OrderSyntaxError
from ..engine.notation import format_order, parse_order, parse_orders
from ..engine.options import legal_orders
from ..engine.orders import Build, Disband, Order, Retreat, Waive
from ..engine.ruleset import Ruleset
from ..engine.state import GameState, phase_name
from ..engine.turn import step
from ..protocol.codec import encode
from ..protocol.errors import ProtocolError
from ..protocol.settings import next_deadline, normalise, shift_for_absences
from ..storage.repository import Repository, pack
from .deadlines import time_view
from .faults import crash_point

log = logging.getLogger("kessen.room")

MAX_ORDER_LINES = 300

Line = tuple[str | None, str | None, str | None, bool]
"""What one order line says on a phase's board: its canonical text (None: not an order), why
it is refused whatever else the set holds (None: it is not), the province of the unit it
orders (None for a build), and whether a second order for that unit is refused."""


class Seat:
    __slots__ = ("user", "player", "missed", "disorder", "advertised")

    def __init__(self, user: int | None, player: str | None, missed: int, disorder: bool,
                 advertised: bool = False) -> None:
        self.user, self.player, self.missed, self.disorder = user, player, missed, disorder
        self.advertised = advertised


class Batch:
    """Pushes written in one write: frames to broadcast once it has committed.

    Built in the writer thread; ``seq`` starts from the game's last written push.
    """

    def __init__(self, game: str, seq: int) -> None:
        self.game, self.seq = game, seq
        self.frames: list[tuple[str, bytes]] = []  # (audience, frame)

    def push(self, db: sqlite3.Connection, event: str, audience: str = "all", **data: Any) -> None:
        """Store and queue one push. ``audience`` is ``all`` or a comma list of ``host``,
        ``n:<nation>`` (that nation's player) and ``u:<user id>`` (see :meth:`Room.sees`)."""
        self.seq += 1
        frame = encode({"type": "push", "game": self.game, "seq": self.seq, "event": event, **data})
        db.execute("INSERT INTO pushes (game, seq, audience, frame) VALUES (?, ?, ?, ?)",
                   (self.game, self.seq, audience, frame))
        db.execute("UPDATE games SET seq = ? WHERE id = ?", (self.seq, self.game))
        self.frames.append((audience, frame))

    def log(self, db: sqlite3.Connection, room: Room, kind: str, by: str, reason: str = "",
            data: dict[str, Any] | None = None, now: float = 0) -> None:
        """Record an entry of the game's event history (readable by its players) and push it."""
        n = db.execute("SELECT COALESCE(MAX(n), 0) + 1 FROM events WHERE game = ?", (self.game,)).fetchone()[0]
        pos = db.execute("SELECT COUNT(*) FROM phases WHERE game = ?", (self.game,)).fetchone()[0]
        body = dict(data or {})
        db.execute("INSERT INTO events (game, n, pos, phase, kind, by, reason, time, data) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   (self.game, n, pos, room.phase, kind, by, reason, int(now), pack(body)))
        self.push(db, "event", n=n, phase=room.phase, kind=kind, by=by, reason=reason, time=int(now), data=body)


class Room:
    """The live form of one game row (see the module docstring)."""

    def __init__(self, repo: Repository, row: sqlite3.Row, ruleset: Ruleset) -> None:
        self.repo, self.ruleset = repo, ruleset
        self.id: str = row["id"]
        self.title: str = row["title"]
        self.host: int = row["host"]
        self.settings = {**normalise(None), **repo.settings(row)}  # keys added since the game was made
        self.status: str = row["status"]
        self.phase: str = row["phase"]
        self.state: GameState = canonical.state_from_plain(_unpack(row["state"]))
        self.deadline: int | None = row["deadline"]
        self.seq: int = row["seq"]
        self.error: str | None = row["error"]
        self.paused_left: int | None = row["paused_left"]
        self.extended: int = row["extended"]
        self.result: str | None = row["result"]
        self.seats: dict[str, Seat] = {
            r["nation"]: Seat(r["user"], r["player"], r["missed"], bool(r["civil_disorder"]), bool(r["advertised"]))
            for r in repo.seats(self.id)}
        self._by_user: dict[int, str] | None = None  # user -> nation (nation_of)
        self.absences: list[tuple[int, int, int]] = repo.absences(self.id)  # (user, start, end)
        self.subscribers: set[Any] = set()
        self.closing = False  # the phase is being processed: no more orders or ready flags for it
        self._due: tuple[float | None] | None = None  # cached due_at()
        self._acting: list[str] | None = None  # cached acting(), for the current state
        self._parsed: dict[tuple[str, str], Line] = {}  # (nation, line) -> what it says (check_orders)
        self._mine: dict[str, tuple[list[Any], dict[str, tuple[str, str]]]] = {}  # nation -> its units
        self._load_phase()

    def _load_phase(self) -> None:
        self.orders_in = set(self.repo.orders(self.id, self.phase))
        self.ready = self.repo.ready(self.id, self.phase)

    def forget_phase(self) -> None:
        """Drop what was cached for the board of the phase just left (after an adjudication
        or a rollback changed ``state``)."""
        self._due, self._acting, self._parsed, self._mine = None, None, {}, {}

    # ---- views -----------------------------------------------------------------------------
    def nation_of(self, user: int | None) -> str | None:
        """The nation ``user`` plays here (None: none). Cached; whatever changes a seat's
        player calls :meth:`seats_changed`."""
        if user is None:
            return None
        by_user = self._by_user
        if by_user is None:  # the first seat (in id order) wins, should a user ever hold two
            by_user = self._by_user = {s.user: n for n, s in reversed(self.seats.items()) if s.user is not None}
        return by_user.get(user)

    def seats_changed(self) -> None:
        self._by_user = None

    def sees(self, user: int | None, audience: str) -> bool:
        """Whether ``user`` may receive a push for ``audience`` (see :meth:`Batch.push`)."""
        if audience == "all":
            return True
        if user is None:
            return False
        for who in audience.split(","):
            if who == "host":
                if user == self.host:
                    return True
            elif who.startswith("n:"):
                seat = self.seats.get(who[2:])
                if seat is not None and seat.user == user:
                    return True
            elif who == f"u:{user}":
                return True
        return False

    def next_deadline(self, kind: str, now: float) -> int:
        """The deadline of a ``kind`` phase starting at ``now``: the settings' time, moved to the
        end of a seated player's declared absence that covers it (within ``max_absence``)."""
        seated = {s.user for s in self.seats.values() if s.user is not None}
        return shift_for_absences(next_deadline(self.settings, kind, now),
                                  [a for a in self.absences if a[0] in seated], self.settings["max_absence"])

    def acting(self) -> list[str]:
        """Nations with something to do this phase (in id order)."""
        if self._acting is None:
            self._acting = self._find_acting()
        return self._acting

    def _find_acting(self) -> list[str]:
        st = self.state
        if st.winner is not None:
            return []
        if st.phase == "movement":
            having = {u.nation for u in st.units}
        elif st.phase == "retreat":
            having = {d.unit.nation for d in st.dislodged}
        else:
            having = {n for n, d in adjustments_due(self.ruleset, st).items() if d}
        return [n for n in self.ruleset.nation_ids if n in having]

    def needed(self) -> list[str]:
        """Acting nations whose readiness early processing waits for: seated, not in disorder."""
        return [n for n in self.acting() if self.seats[n].user is not None and not self.seats[n].disorder]

    def seats_view(self) -> list[dict[str, Any]]:
        return [{"nation": n, "player": s.player, "orders": n in self.orders_in, "ready": n in self.ready,
                 "civil_disorder": s.disorder, "missed": s.missed} for n, s in sorted(self.seats.items())]

    def view(self, user: int, tz: str | None = None) -> dict[str, Any]:
        """What ``game`` returns: the board, the seats (who is ready, never their orders); the
        deadline also as text in UTC and in ``tz`` (the viewer's zone; default the game's)."""
        nation = self.nation_of(user)
        deadline_utc, deadline_local = time_view(self.deadline, tz or self.settings.get("tz") or "UTC")
        out: dict[str, Any] = {
            "game": self.id, "title": self.title, "ruleset": self.ruleset.id, "status": self.status,
            "phase": self.phase, "state": canonical.state_plain(self.state), "deadline": self.deadline,
            "seq": self.seq, "seats": self.seats_view(), "nation": nation, "host": user == self.host,
            "acting": self.acting(),
            "settings": self.settings if user == self.host else {k: v for k, v in self.settings.items() if k != "webhook"},
            "deadline_utc": deadline_utc, "deadline_local": deadline_local,
        }
        if nation is not None and nation in self.orders_in:
            row = self.repo.orders(self.id, self.phase)[nation]
            out["orders"] = row["text"].splitlines()
        return out

    # ---- guards ----------------------------------------------------------------------------
    def check_phase(self, phase: str) -> None:
        """Refuse a request that names another phase, or a game that takes no orders."""
        if self.status == "forming":
            raise ProtocolError("not_started", f"game {self.id} has not started", "game")
        if self.status == "finished":
            raise ProtocolError("game_over", f"game {self.id} has ended", "game")
        if self.status == "quarantined":
            raise ProtocolError("quarantined", f"game {self.id} is quarantined", "game")
        if phase != self.phase:
            raise ProtocolError("stale_phase", f"game {self.id} is at {self.phase}, not {phase}", "phase")
        if self.closing:
            raise ProtocolError("stale_phase", f"game {self.id} is processing {self.phase}", "phase")

    # ---- transactions ----------------------------------------------------------------------
    def _job(self, fn: Callable[[sqlite3.Connection, Batch], Any],
             keeps_phase: bool = False, light: bool = False) -> Callable[[sqlite3.Connection], Batch]:
        """``fn`` as a write of the repository. ``keeps_phase``: ``fn`` never changes the
        game's phase (see :meth:`server.storage.repository.Writer.phase`); ``light``: it
        raises only before its one write statement, or from that statement, so it needs no
        savepoint (see ``Writer._undo``)."""
        writer = self.repo.writer

        def job(db: sqlite3.Connection) -> Batch:  # runs on the loop, inside the group's transaction
            batch = Batch(self.id, writer.seq(db, self.id))
            fn(db, batch)
            writer.seqs[self.id] = batch.seq
            return batch
        if keeps_phase:
            job.keeps_phase = True  # type: ignore[attr-defined]
        if light:
            job.light = True  # type: ignore[attr-defined]
        return job

    def _write(self, fn: Callable[[sqlite3.Connection, Batch], Any]) -> Batch:
        """Write and wait (blocking) for the commit: for rare changes (seats, start, quarantine)."""
        batch = self.repo.run(self._job(fn))
        self.seq = max(self.seq, batch.seq)
        self._due = None
        return batch

    async def _awrite(self, fn: Callable[[sqlite3.Connection, Batch], Any], keeps_phase: bool = False,
                      light: bool = False) -> Batch:
        """Write without blocking the event loop; returns once committed.

        If the caller is cancelled meanwhile, the write still happens (unacknowledged);
        :meth:`settle` waits for it.
        """
        batch: Batch = await self.repo.submit(self._job(fn, keeps_phase, light))
        self.seq = max(self.seq, batch.seq)
        self._due = None
        return batch

    async def settle(self) -> None:
        """Wait until every write submitted so far has been committed or refused (processing
        and rollbacks read the orders after it). The writer runs writes in the order they
        were submitted, one group at a time, so an empty write submitted now finishes last."""
        await self.repo.submit(_nothing)

    def broadcast(self, frames: Iterable[tuple[str, bytes]]) -> None:
        """Send committed pushes to the subscribers their audience allows."""
        for audience, frame in frames:
            for conn in list(self.subscribers):
                if audience == "all" or self.sees(conn.user, audience):
                    conn.send_frame(frame)

    # ---- seats -----------------------------------------------------------------------------
    def claim(self, nation: str, user: int, player: str, now: float) -> Batch:
        if nation not in self.seats:
            raise ProtocolError("not_found", f"{nation!r} is not a nation of {self.ruleset.id}", "nation")
        if self.nation_of(user) is not None:
            raise ProtocolError("already_seated", f"you already play {self.nation_of(user)}", "nation")
        seat = self.seats[nation]
        if seat.user is not None and not seat.advertised:
            raise ProtocolError("nation_taken", f"{nation} already has a player", "nation")
        if self.status in ("finished", "quarantined"):
            raise ProtocolError("game_over", f"game {self.id} is {self.status}", "game")

        def write(db: sqlite3.Connection, b: Batch) -> None:
            cur = db.execute("UPDATE seats SET user = ?, civil_disorder = 0, missed = 0, advertised = 0 "
                             "WHERE game = ? AND nation = ? AND (user IS NULL OR advertised = 1)",
                             (user, self.id, nation))
            if cur.rowcount != 1:
                raise ProtocolError("nation_taken", f"{nation} already has a player", "nation")
            if seat.user is not None:  # a standby takes over an advertised seat
                self.end_tenure(db, nation, "standby took over", now)
            db.execute("INSERT INTO tenures (game, nation, user, player, start_phase, start_time) "
                       "VALUES (?, ?, ?, ?, ?, ?)", (self.id, nation, user, player, self.phase, int(now)))
            b.push(db, "seat", nation=nation, player=player)

        batch = self._write(write)
        seat.user, seat.player, seat.missed, seat.disorder, seat.advertised = user, player, 0, False, False
        self.seats_changed()
        self._due = None
        return batch

    def end_tenure(self, db: sqlite3.Connection, nation: str, reason: str, now: float) -> None:
        """Close the current tenure of ``nation`` (inside a write)."""
        db.execute("UPDATE tenures SET end_phase = ?, end_time = ?, reason = ? "
                   "WHERE game = ? AND nation = ? AND end_time IS NULL", (self.phase, int(now), reason, self.id, nation))

    def startable(self, now: float) -> bool:
        if self.status != "forming":
            return False
        start_at = self.settings.get("start_at")
        if start_at is not None:
            return now >= start_at
        return all(s.user is not None for s in self.seats.values())

    def start(self, now: float) -> Batch:
        deadline = self.next_deadline(self.state.phase, now)

        def write(db: sqlite3.Connection, b: Batch) -> None:
            cur = db.execute("UPDATE games SET status = 'active', deadline = ? WHERE id = ? AND status = 'forming'",
                             (deadline, self.id))
            if cur.rowcount != 1:
                raise RuntimeError(f"game {self.id} is not forming")
            b.push(db, "started", phase=self.phase, state=canonical.state_plain(self.state), deadline=deadline)

        batch = self._write(write)
        self.status, self.deadline = "active", deadline
        return batch

    # ---- orders and ready flags ------------------------------------------------------------
    def check_orders(self, nation: str, text: str) -> dict[str, Any]:
        """Parse a whole set of orders: the accepted ones normalised, rejected lines, what is missing.

        Each line (numbered from 1; blank and comment lines skipped) is read as
        ``parse_orders`` reads it in a whole text (one order per line); its reading on this
        phase's board (:data:`Line`) is remembered for the phase, since a player replacing a
        set mostly resends lines already read. Only one order per unit is checked per set.
        """
        st = self.state
        _, units = self._units_of(nation)
        cache = self._parsed
        if len(cache) > 4096:
            cache.clear()
        accepted: list[str] = []
        rejected: list[dict[str, Any]] = []
        given: dict[str, int] = {}
        count = 0
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if not line or line[0] in "#/" and (line[0] == "#" or line.startswith("//")):
                continue
            count += 1
            hit = cache.get((nation, line))
            if hit is None:
                hit = cache[(nation, line)] = self._read_line(nation, line, units)
            canon, reason, prov, once = hit
            if reason is None and once and prov in given:
                unit = units[prov]  # type: ignore[index]
                reason = f"{unit[0]} {unit[1]} already has an order (line {given[prov]})"  # type: ignore[index]
            if reason is not None:
                rejected.append({"line": number, "text": line, "reason": reason})
                continue
            if prov is not None:
                given[prov] = number
            accepted.append(canon)  # type: ignore[arg-type]
        if count > MAX_ORDER_LINES:
            raise ProtocolError("bad_message", f"more than {MAX_ORDER_LINES} order lines", "text")
        out: dict[str, Any] = {"orders": accepted, "rejected": rejected}
        if st.phase == "adjustment":
            due = adjustments_due(self.ruleset, st).get(nation, 0)
            out["due"] = due
            out["missing"] = [f"{abs(due) - len(accepted)} more {'build' if due > 0 else 'removal'}(s)"] \
                if abs(due) > len(accepted) else []
        else:
            out["missing"] = [f"{kind} {loc}" for prov, (kind, loc) in units.items() if prov not in given]
        return out

    def _units_of(self, nation: str) -> tuple[list[Any], dict[str, tuple[str, str]]]:
        """``nation``'s units that take orders this phase (the dislodged ones in a retreat
        phase), and ``province -> (kind, location)`` of them in the same order; cached for
        the phase."""
        got = self._mine.get(nation)
        if got is None:
            st = self.state
            if st.phase == "retreat":
                mine = [d.unit for d in st.dislodged if d.unit.nation == nation]
            else:
                mine = [u for u in st.units if u.nation == nation]
            got = self._mine[nation] = (mine, {u.province: (u.kind, u.loc) for u in mine})
        return got

    def _read_line(self, nation: str, line: str, units: dict[str, tuple[str, str]]) -> Line:
        got = parse_orders(line, self.ruleset, units=units)[0][2]
        if isinstance(got, OrderSyntaxError):
            return (None, str(got), None, False)
        reason = self._refusal(self.state.phase, nation, got, units)
        prov = got.loc.split("/")[0] if hasattr(got, "loc") and not isinstance(got, Build) else None
        return (format_order(got), reason, prov, self.state.phase != "adjustment")

    @staticmethod
    def _refusal(kind: str, nation: str, got: Order, units: dict[str, tuple[str, str]]) -> str | None:
        """Why ``got`` is refused on this phase's board, whatever else the set holds (one order
        per unit is checked by :meth:`check_orders`); None if it is not."""
        if kind == "adjustment":
            return None if isinstance(got, (Build, Disband, Waive)) else "only builds, removals (D) and waive in an adjustment phase"
        if isinstance(got, (Build, Waive)) or (kind == "movement" and isinstance(got, (Retreat, Disband))):
            return f"not an order for a {kind} phase"
        if kind == "retreat" and not isinstance(got, (Retreat, Disband)):
            return "only retreats (R) and disbands (D) in a retreat phase"
        prov = getattr(got, "loc", "").split("/")[0]
        unit = units.get(prov)
        if unit is None or unit[0] != got.unit:  # type: ignore[union-attr]
            what = "dislodged " if kind == "retreat" else ""
            return f"{nation} has no {what}{'army' if got.unit == 'A' else 'fleet'} in {prov}"  # type: ignore[union-attr]
        return None

    async def submit(self, nation: str, text: str, by: str, now: float,
                     also: Callable[[sqlite3.Connection, Batch, dict[str, Any]], None] | None = None
                     ) -> tuple[dict[str, Any], Batch]:
        """Replace ``nation``'s orders; committed before this returns. ``also(db, batch,
        checked)`` runs in the same transaction (the host entering orders logs it there)."""
        if nation not in self.acting():
            raise ProtocolError("nothing_to_do", f"{nation} has no orders to give in {self.phase}", "game")
        checked = self.check_orders(nation, text)
        stored = "\n".join(checked["orders"])
        game, phase, disorder, writer = self.id, self.phase, self.seats[nation].disorder, self.repo.writer

        # replacing a stored set (the usual case) is one UPDATE, after the check: a light write
        light = also is None and not disorder and nation in self.orders_in

        def write(db: sqlite3.Connection, b: Batch) -> None:
            _still_at(writer, db, game, phase)
            was_in = db.execute("UPDATE orders SET text = ?, entered_by = ?, submitted = ? "
                                "WHERE game = ? AND phase = ? AND nation = ?",
                                (stored, by, int(now), game, phase, nation)).rowcount == 1
            if light:
                if not was_in:  # cannot happen (orders_in follows commits); nothing was written
                    raise RuntimeError(f"{nation}'s orders for {phase} were not stored")
                return
            if not was_in:
                db.execute("INSERT INTO orders (game, phase, nation, text, entered_by, submitted) "
                           "VALUES (?, ?, ?, ?, ?, ?)", (game, phase, nation, stored, by, int(now)))
            if disorder and db.execute("UPDATE seats SET civil_disorder = 0 WHERE game = ? AND nation = ? "
                                       "AND civil_disorder = 1", (game, nation)).rowcount:
                b.push(db, "civil_disorder", nation=nation, value=False)
            if not was_in:
                b.push(db, "status", phase=phase, nation=nation, orders=True, ready=nation in self.ready)
            if also is not None:
                also(db, b, checked)

        batch = await self._awrite(write, keeps_phase=also is None, light=light)
        self.orders_in.add(nation)
        self.seats[nation].disorder = False
        return checked, batch

    async def set_ready(self, nation: str, flag: bool, now: float) -> Batch:
        if flag == (nation in self.ready):
            return Batch(self.id, self.seq)
        game, phase, has_orders, writer = self.id, self.phase, nation in self.orders_in, self.repo.writer

        def write(db: sqlite3.Connection, b: Batch) -> None:
            _still_at(writer, db, game, phase)
            if flag:
                changed = db.execute("INSERT OR IGNORE INTO ready (game, phase, nation, at) VALUES (?, ?, ?, ?)",
                                     (game, phase, nation, int(now))).rowcount
            else:
                changed = db.execute("DELETE FROM ready WHERE game = ? AND phase = ? AND nation = ?",
                                     (game, phase, nation)).rowcount
            if changed:
                b.push(db, "status", phase=phase, nation=nation, orders=has_orders, ready=flag)

        batch = await self._awrite(write, keeps_phase=True)
        if flag:
            self.ready[nation] = int(now)
        else:
            self.ready.pop(nation, None)
        return batch

    def legal(self, nation: str) -> dict[str, list[str]]:
        return {loc: [format_order(o) for o in opts]
                for loc, opts in sorted(legal_orders(self.ruleset, self.state, nation).items())}

    # ---- processing ------------------------------------------------------------------------
    def due_at(self) -> float | None:
        """When this phase should be processed (None: never by itself); cached until a change."""
        if self._due is None:
            self._due = (self._due_at(),)
        return self._due[0]

    def _due_at(self) -> float | None:
        if self.status != "active" or self.deadline is None:
            return None
        needed = self.needed()
        due: float = self.deadline
        if any(n not in self.orders_in for n in needed):
            due += self.settings.get("grace", 0)
        if self.settings.get("early", True) and needed and all(n in self.ready for n in needed):
            due = min(due, max(self.ready[n] for n in needed) + self.settings.get("early_delay", 0))
        return due

    async def process(self, now: float) -> Batch:
        """Adjudicate the current phase (see the module docstring). Quarantines on failure.

        The caller sets ``closing`` first (no new orders for this phase) and clears it after.
        """
        assert self.closing
        await self.settle()  # orders and flags already accepted for this phase are read below
        if self.status != "active":  # paused (or ended by a vote) while the writes finished
            return Batch(self.id, self.seq)
        phase, rs, state = self.phase, self.ruleset, self.state
        rows = self.repo.orders(self.id, phase)
        try:
            orders, entered = self.stored_orders(rows)
            turn = step(rs, state, orders)
            nxt = turn.state
            nxt_phase = phase_name(rs, nxt)
            finished = nxt.winner is not None
            deadline = None if finished else self.next_deadline(nxt.phase, now)
            results = [canonical.result_plain(r, format_order(r.order)) for r in turn.results]
            digest = canonical.state_digest(nxt)
            seat_changes: dict[str, tuple[int, bool]] = {}
            disorder: list[str] = []
            if state.phase == "movement":
                limit = int(self.settings.get("civil_disorder_after", 3))
                for nation in self.acting():
                    seat = self.seats[nation]
                    if nation in rows:
                        missed, cd = 0, seat.disorder
                    else:
                        missed = seat.missed + 1
                        cd = seat.disorder or (limit > 0 and missed >= limit)
                        if cd and not seat.disorder:
                            disorder.append(nation)
                    if (missed, cd) != (seat.missed, seat.disorder):
                        seat_changes[nation] = (missed, cd)
            idx = self.repo.phase_count(self.id)
            before = pack({"state": canonical.state_plain(state), "deadline": self.deadline,
                           "seats": {n: [s.missed, s.disorder] for n, s in self.seats.items()}})
            payload = {
                "phase": phase, "results": results,
                "events": [[e.code, e.nation, e.at, e.detail] for e in turn.events],
                "retreat_options": [[f"{d.unit.kind} {d.unit.loc}", d.unit.nation, list(o)] for d, o in turn.retreat_options],
                "removed": [[u.nation, f"{u.kind} {u.loc}"] for u in turn.civil_disorder],
                "missed": sorted(n for n in self.acting() if n not in rows),
                "civil_disorder": disorder, "next": nxt_phase, "state": canonical.state_plain(nxt),
                "digest": digest, "deadline": deadline, "winner": nxt.winner,
            }

            def write(db: sqlite3.Connection, b: Batch) -> None:
                db.execute("INSERT INTO phases (game, idx, phase, orders, results, digest, processed, before) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           (self.id, idx, phase, pack(entered), pack(results), digest, int(now), before))
                crash_point("during_adjudication")
                cur = db.execute("UPDATE games SET phase = ?, state = ?, deadline = ?, status = ?, extended = 0, "
                                 "result = ? WHERE id = ? AND phase = ? AND status = 'active'",
                                 (nxt_phase, canonical.encode(canonical.state_plain(nxt)), deadline,
                                  "finished" if finished else "active", "victory" if finished else None,
                                  self.id, phase))
                if cur.rowcount != 1:
                    raise RuntimeError(f"game {self.id} is no longer at {phase}")
                for nation, (missed, cd) in seat_changes.items():
                    db.execute("UPDATE seats SET missed = ?, civil_disorder = ? WHERE game = ? AND nation = ?",
                               (missed, int(cd), self.id, nation))
                b.push(db, "adjudicated", **payload)
                if finished:
                    b.push(db, "ended", winner=nxt.winner, phase=nxt_phase)

            batch = await self._awrite(write)
        except Exception as e:  # the engine or the data failed: quarantine this game only
            log.exception("game %s: adjudication of %s failed; quarantined", self.id, phase)
            return self.quarantine(f"{type(e).__name__}: {e}")
        self.phase, self.state, self.deadline = nxt_phase, nxt, deadline
        self.status = "finished" if finished else "active"
        self.extended, self.result = 0, "victory" if finished else None
        for nation, (missed, cd) in seat_changes.items():
            self.seats[nation].missed, self.seats[nation].disorder = missed, cd
        self.orders_in, self.ready = set(), {}
        self.forget_phase()
        return batch

    def stored_orders(self, rows: dict[str, sqlite3.Row]) -> tuple[dict[str, list[Order]], dict[str, list[list[str]]]]:
        """The stored orders of this phase parsed, and each line with who entered it
        (``""``: the nation's own player)."""
        orders: dict[str, list[Order]] = {}
        entered: dict[str, list[list[str]]] = {}
        for nation in sorted(rows):
            texts = [t for t in rows[nation]["text"].splitlines() if t]
            orders[nation] = [parse_order(t, self.ruleset) for t in texts]
            by = rows[nation]["entered_by"]
            own = by == (self.seats[nation].player or "")
            entered[nation] = [[t, "" if own else by] for t in texts]
        return orders, entered

    def results_payload(self, rows: dict[str, sqlite3.Row]) -> dict[str, Any]:
        """What adjudicating the stored orders now would give, changing nothing (the host's preview)."""
        orders, _ = self.stored_orders(rows)
        turn = step(self.ruleset, self.state, orders)
        return {"results": [canonical.result_plain(r, format_order(r.order)) for r in turn.results],
                "events": [[e.code, e.nation, e.at, e.detail] for e in turn.events],
                "next": phase_name(self.ruleset, turn.state), "state": canonical.state_plain(turn.state),
                "missing": sorted(n for n in self.acting() if n not in rows)}

    def quarantine(self, error: str) -> Batch:
        def write(db: sqlite3.Connection, b: Batch) -> None:
            db.execute("UPDATE games SET status = 'quarantined', error = ? WHERE id = ?", (error, self.id))
            b.push(db, "quarantined", phase=self.phase, error="adjudication failed; the host has been told")

        batch = self._write(write)
        self.status, self.error = "quarantined", error
        return batch


def _nothing(db: sqlite3.Connection) -> None:
    """The empty write :meth:`Room.settle` waits for."""


_nothing.keeps_phase = True  # type: ignore[attr-defined]


def _still_at(writer: Any, db: sqlite3.Connection, game: str, phase: str) -> None:
    """Inside a write: refuse it if the game has left ``phase`` meanwhile (a rollback or an
    adjudication committed while it waited), so it is never applied to another phase."""
    if writer.phase(db, game) != phase:
        raise ProtocolError("stale_phase", f"game {game} is no longer at {phase}", "phase")


def _unpack(blob: bytes) -> Any:
    import msgpack

    return msgpack.unpackb(blob, raw=False, strict_map_key=False)


__all__ = ["Room", "Batch", "Seat"]
