"""What each request does: authentication, lobby, orders, ready flags, resync.

Each ``on_<type>`` method takes the connection and a validated :class:`Request` and
returns ``(reply fields, frames to broadcast)``; :meth:`Service.handle` sends the reply
(``{"type": "ok", "re": id, ...}``) and only then broadcasts, so the acknowledgement of a
committed change is never behind its push. A :class:`ProtocolError` becomes an ``error``
reply; any other exception is logged and answered with code ``internal`` (every write is a
transaction, so a failed request changed nothing).
"""

from __future__ import annotations

import asyncio
import logging
import secrets as _secrets
from typing import Any, Awaitable, Callable

from ..engine.state import initial_state, phase_name
from ..engine import canonical
from ..protocol.errors import ProtocolError
from ..protocol.messages import Request, negotiate
from ..protocol.settings import normalise
from ..ruleset_files import installed, load
from ..storage import secrets
from ..storage.repository import Repository
from .faults import crash_point
from .deadlines import DeadlineMixin
from .host_tools import HostMixin
from .press import PressMixin
from .room import Batch, Room
from .votes import VoteMixin

log = logging.getLogger("kessen.service")

Reply = tuple[dict[str, Any], "Batch | None"]


class Service(HostMixin, PressMixin, VoteMixin, DeadlineMixin):
    """The server's behaviour over one repository and the live rooms.

    The core (accounts, lobby, orders, processing) is here; press, votes and the end of a
    game, deadlines (reminders, absences) and host tools are mixins in their own modules.
    """

    def __init__(self, repo: Repository, clock: Any, wake: Callable[[], None] = lambda: None) -> None:
        self.repo, self.clock, self.wake = repo, clock, wake
        self.rooms: dict[str, Room] = {}
        self.rulesets: dict[str, Any] = {}
        self.tasks: set[asyncio.Task[None]] = set()  # phases being processed
        self.on_adjudicated: Callable[[str, str], None] | None = None  # (game, phase), after the commit

    # ---- rooms -----------------------------------------------------------------------------
    def ruleset(self, rid: str) -> Any:
        if rid not in self.rulesets:
            self.rulesets[rid] = load(rid)
        return self.rulesets[rid]

    def load_rooms(self) -> None:
        for row in self.repo.games():
            self.rooms[row["id"]] = Room(self.repo, row, self.ruleset(row["ruleset"]))
        for room in self.rooms.values():  # a game that ended just before a crash gets its summary
            if room.status == "finished":
                self.game_ended(room)

    def room(self, game: str) -> Room:
        room = self.rooms.get(game)
        if room is None:
            raise ProtocolError("not_found", f"no game {game!r}", "game")
        return room

    def now(self) -> int:
        return int(self.clock.now())

    def tick(self) -> None:
        """Start games that are due to start; process phases that are due (called by the app).

        Processing runs as a task per game (it waits for the game's writes under way and for
        its own commit without blocking the loop); a game is never processed twice at once.
        """
        now = self.clock.fresh()
        for room in list(self.rooms.values()):
            try:
                if room.startable(now):
                    room.broadcast(room.start(now).frames)
                due = room.due_at()
                if due is not None and now >= due and not room.closing:
                    self.start_processing(room, now)
            except Exception:  # a storage failure for one game must not stop the others
                log.exception("game %s: tick failed", room.id)
        try:
            self.remind(now)
        except Exception:
            log.exception("reminders failed")

    def start_processing(self, room: Room, now: float) -> None:
        """Process the room's current phase in a task of its own (the caller checked
        ``room.closing`` is false)."""
        room.closing = True
        task = asyncio.get_running_loop().create_task(self._process(room, now))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _process(self, room: Room, now: float) -> None:
        phase = room.phase
        try:
            batch = await room.process(now)
            crash_point("after_adjudication_before_broadcast")
            room.broadcast(batch.frames)
            if room.phase != phase and self.on_adjudicated is not None:  # committed, not quarantined
                self.on_adjudicated(room.id, phase)
            if room.status == "finished":
                self.game_ended(room)
            elif room.phase != phase and room.status == "active":  # an elimination may complete a vote
                await self.recount_votes(room)
        except Exception:
            log.exception("game %s: processing failed", room.id)
        finally:
            room.closing = False
            self.wake()

    def next_due(self) -> float | None:
        """The earliest time a phase is due (None: none is), for the app's timer."""
        due = [d for r in self.rooms.values() if (d := r.due_at()) is not None and not r.closing]
        remind = self.next_reminder()  # cached by remind(): O(1)
        if remind is not None:
            due.append(remind)
        return min(due) if due else None

    async def drain(self) -> None:
        """Wait for the phases being processed (shutdown)."""
        while self.tasks:
            await asyncio.wait(list(self.tasks))

    # ---- accounts, games, invites (also used by the command line) ---------------------------
    def add_user(self, name: str, role: str, hashed: tuple[str, bytes] | None = None) -> tuple[int, str]:
        """Create a user; returns ``(id, token)``. The token is shown once, stored hashed.

        ``hashed`` is a ``(secret, hash)`` pair made off the event loop (:meth:`_hashed`).
        """
        if not name or len(name) > 40 or not name.isprintable():
            raise ProtocolError("bad_message", "a user name is 1 to 40 printable characters", "name")
        if self.repo.user_by_name(name) is not None:
            raise ProtocolError("name_taken", f"user name {name!r} is taken", "name")
        raw, digest = hashed or _hashed_now()
        uid = self.repo.add_user(name, role, digest, self.now())
        return uid, secrets.join("u", uid, raw)

    async def _hashed(self) -> tuple[str, bytes]:
        """A new secret and its hash, computed in an executor thread."""
        return await asyncio.get_running_loop().run_in_executor(None, _hashed_now)

    def create_game(self, host: int, ruleset_id: str, title: str, settings: dict[str, Any] | None,
                    game_id: str | None = None) -> Room:
        if ruleset_id not in installed():
            raise ProtocolError("not_found", f"no ruleset {ruleset_id!r}; installed: {', '.join(installed())}", "ruleset")
        if not title.strip() or len(title) > 200:
            raise ProtocolError("bad_message", "a title is 1 to 200 characters", "title")
        full = normalise(settings)
        rs = self.ruleset(ruleset_id)
        st = initial_state(rs)
        gid = game_id or "g" + _secrets.token_hex(4)
        self.repo.add_game(gid, rs.id, title.strip(), full, host, phase_name(rs, st),
                           canonical.encode(canonical.state_plain(st)), tuple(rs.nation_ids), self.now())
        row = self.repo.game(gid)
        assert row is not None
        room = self.rooms[gid] = Room(self.repo, row, rs)
        return room

    def add_invite(self, room: Room, by: int, nation: str | None, hashed: tuple[str, bytes] | None = None) -> str:
        if nation is not None and nation not in room.seats:
            raise ProtocolError("not_found", f"{nation!r} is not a nation of {room.ruleset.id}", "nation")
        raw, digest = hashed or _hashed_now()
        iid = self.repo.next_invite_id()
        self.repo.add_invite(iid, room.id, nation, digest, by, self.now())
        return secrets.join("i", iid, raw)

    async def _check(self, raw: str, stored: bytes) -> bool:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, secrets.check, raw, bytes(stored))

    async def _invite(self, code: str) -> Any:
        parts = secrets.split(code, "i")
        row = self.repo.invite(parts[0]) if parts else None
        if parts is None or row is None or not await self._check(parts[1], row["code_hash"]):
            raise ProtocolError("auth_failed", "that invite code is not valid", "invite")
        row = self.repo.invite(parts[0])  # again: it may have been used while we hashed
        if row is None or row["used_by"] is not None:
            raise ProtocolError("auth_failed", "that invite code has been used", "invite")
        return row

    # ---- the connection's first message ----------------------------------------------------
    async def hello(self, conn: Any, req: Request) -> dict[str, Any]:
        version = negotiate(req.get("versions"))
        token = req.get("token")
        invite = req.get("invite")
        extra: dict[str, Any] = {}
        if token is not None:
            parts = secrets.split(token, "u")
            user = self.repo.user(parts[0]) if parts else None
            if parts is None or user is None or not await self._check(parts[1], user["token_hash"]):
                raise ProtocolError("auth_failed", "that token is not valid", "token")
        elif invite is not None:
            row = await self._invite(invite)
            name = req.get("name") or f"player{self.repo.next_user_id()}"
            uid, tok = self.add_user(name, "player", await self._hashed())
            if not self.repo.use_invite(row["id"], uid):
                raise ProtocolError("auth_failed", "that invite code has been used", "invite")
            user = self.repo.user(uid)
            extra["token"] = tok
            if row["nation"] is not None:
                room = self.room(row["game"])
                batch = room.claim(row["nation"], uid, name, self.clock.now())
                room.broadcast(batch.frames)
                self._maybe_start(room)
        else:
            raise ProtocolError("auth_required", "hello needs a token or an invite", "token")
        assert user is not None
        conn.session.authenticated(user["id"], user["role"], version)
        conn.user, conn.name = user["id"], user["name"]
        games = []
        for room in self.rooms.values():
            nation = room.nation_of(user["id"])
            if nation is not None or room.host == user["id"]:
                room.subscribers.add(conn)
                games.append({"game": room.id, "title": room.title, "nation": nation,
                              "host": room.host == user["id"], "phase": room.phase, "seq": room.seq})
        self.deadline_state().tz[user["id"]] = user["tz"]
        return {"version": version, "user": user["id"], "name": user["name"], "role": user["role"],
                "tz": user["tz"], "games": games, **extra}

    def _maybe_start(self, room: Room) -> None:
        now = self.clock.now()
        if room.startable(now):
            room.broadcast(room.start(now).frames)

    # ---- dispatch --------------------------------------------------------------------------
    async def handle(self, conn: Any, frame: bytes) -> None:
        """Decode, validate, perform and answer one frame of an authenticated connection."""
        re = None
        try:
            req = conn.session.receive(frame)
            re = req.id
            crash_point("after_decode")
            self.authorise(conn, req)
            method: Callable[[Any, Request], Reply | Awaitable[Reply]] = getattr(self, "on_" + req.type)
            out = method(conn, req)
            reply, frames = await out if asyncio.iscoroutine(out) else out  # type: ignore[misc]
        except ProtocolError as e:
            conn.send(e.reply(re if re is not None else e.re))
            return
        except Exception:
            log.exception("request %r failed", re)
            conn.send(ProtocolError("internal", "the server failed; the request was not applied").reply(re))
            return
        conn.send({"type": "ok", "re": re, **reply})
        if frames is not None:
            self.room(frames.game).broadcast(frames.frames)

    def authorise(self, conn: Any, req: Request) -> None:
        """The request's ``who`` policy (:class:`server.protocol.messages.Spec`), checked for
        every request in this one place before it is performed. (``any`` and ``hosts`` are
        the session's: it refuses anything but ``hello`` before authentication, and host-role
        requests from players.)"""
        who = req.spec.who
        if who not in ("player", "member", "host"):
            return
        room = self.room(req.fields["game"])
        if who == "host":
            if room.host != conn.user:
                raise ProtocolError("forbidden", f"only the host of {room.id} may send {req.type}", "game")
        elif who == "member":
            if room.host != conn.user and room.nation_of(conn.user) is None:
                raise ProtocolError("forbidden", f"only the players and host of {room.id} may send {req.type}", "game")
        elif room.nation_of(conn.user) is None:
            raise ProtocolError("not_seated", f"you play no nation in {room.id}", "game")

    def _seat(self, conn: Any, room: Room) -> str:
        nation = room.nation_of(conn.user)
        if nation is None:
            raise ProtocolError("not_seated", f"you play no nation in {room.id}", "game")
        return nation

    # ---- requests --------------------------------------------------------------------------
    def on_ping(self, conn: Any, req: Request) -> Reply:
        return {"now": self.now()}, None

    def on_games(self, conn: Any, req: Request) -> Reply:
        out = [{"game": r.id, "title": r.title, "ruleset": r.ruleset.id, "status": r.status, "phase": r.phase,
                "free": sorted(n for n, s in r.seats.items() if s.user is None),
                "advertised": sorted(n for n, s in r.seats.items() if s.advertised and s.user is not None),
                "nation": r.nation_of(conn.user)}
               for r in sorted(self.rooms.values(), key=lambda r: r.id)]
        return {"games": out}, None

    def on_create_game(self, conn: Any, req: Request) -> Reply:
        room = self.create_game(conn.user, req.get("ruleset"), req.get("title"), req.get("settings"))
        room.subscribers.add(conn)
        self._maybe_start(room)
        return {"game": room.id, "phase": room.phase, "nations": list(room.seats)}, None

    async def on_invite(self, conn: Any, req: Request) -> Reply:
        room = self.room(req.get("game"))
        code = self.add_invite(room, conn.user, req.get("nation"), await self._hashed())
        return {"code": code, "nation": req.get("nation")}, None

    async def on_join(self, conn: Any, req: Request) -> Reply:
        room = self.room(req.get("game"))
        nation = req.get("nation")
        if req.get("invite") is not None:
            row = await self._invite(req.get("invite"))
            if row["game"] != room.id:
                raise ProtocolError("auth_failed", f"that invite is not for {room.id}", "invite")
            if row["nation"] is not None:
                nation = row["nation"]
        if nation is None:
            raise ProtocolError("bad_message", "name the nation to claim", "nation")
        batch = room.claim(nation, conn.user, conn.name, self.clock.now())
        if req.get("invite") is not None:
            self.repo.use_invite(row["id"], conn.user)
        room.subscribers.add(conn)
        room.broadcast(batch.frames)
        self._maybe_start(room)
        self.schedule_recount(room)
        return {"game": room.id, "nation": nation}, None

    def on_watch(self, conn: Any, req: Request) -> Reply:
        room = self.room(req.get("game"))
        room.subscribers.add(conn)
        return room.view(conn.user, self.user_tz(conn.user)), None

    def on_game(self, conn: Any, req: Request) -> Reply:
        return self.room(req.get("game")).view(conn.user, self.user_tz(conn.user)), None

    def on_resync(self, conn: Any, req: Request) -> Reply:
        room = self.room(req.get("game"))
        after = req.get("after")
        if after < 0:
            raise ProtocolError("bad_message", "'after' must be >= 0", "after")
        # synchronous from here to the reply: no push can slip between the read and the subscription
        room.subscribers.add(conn)
        missed = [frame for _, audience, frame in self.repo.pushes_after(room.id, after)
                  if audience == "all" or room.sees(conn.user, audience)]
        for frame in missed:
            conn.send_frame(frame)
        return {"game": room.id, "last": room.seq, "count": len(missed)}, None

    def on_history(self, conn: Any, req: Request) -> Reply:
        room = self.room(req.get("game"))
        return {"game": room.id, "events": self.repo.events(room.id)}, None

    async def on_orders(self, conn: Any, req: Request) -> Reply:
        room = self.room(req.get("game"))
        nation = self._seat(conn, room)
        room.check_phase(req.get("phase"))
        first = nation not in room.orders_in
        checked, batch = await room.submit(nation, req.get("text"), conn.name, self.clock.now())
        crash_point("after_commit_before_ack")
        if first:  # a nation's first orders may end the grace wait: the scheduler looks again
            self.wake()
        return {"game": room.id, "phase": room.phase, "nation": nation, **checked}, batch

    async def _ready(self, conn: Any, req: Request, flag: bool) -> Reply:
        room = self.room(req.get("game"))
        nation = self._seat(conn, room)
        room.check_phase(req.get("phase"))
        batch = await room.set_ready(nation, flag, self.clock.now())
        crash_point("after_commit_before_ack")
        self.wake()
        return {"game": room.id, "phase": room.phase, "ready": flag}, batch

    async def on_ready(self, conn: Any, req: Request) -> Reply:
        return await self._ready(conn, req, True)

    async def on_unready(self, conn: Any, req: Request) -> Reply:
        return await self._ready(conn, req, False)

    def on_legal(self, conn: Any, req: Request) -> Reply:
        room = self.room(req.get("game"))
        nation = self._seat(conn, room)
        room.check_phase(req.get("phase"))
        return {"game": room.id, "phase": room.phase, "options": room.legal(nation)}, None

    def disconnect(self, conn: Any) -> None:
        for room in self.rooms.values():
            room.subscribers.discard(conn)


def _hashed_now() -> tuple[str, bytes]:
    raw = secrets.new_secret()
    return raw, secrets.make_hash(raw)


__all__ = ["Service"]
