"""Deadlines people can live with: reminders (pushed once, to incomplete nations only, and to a
webhook), absences that move deadlines, times in UTC and each user's zone.

The server runs in-process on 127.0.0.1 port 0 with a fake clock. To stay fast, players are
seated directly through the service (no invite sign-ins); only the players a test talks to
get a real token and a connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.server
import json
import socket
import threading
import time
from pathlib import Path
from typing import Any, AsyncIterator, Callable, Iterator

import msgpack

from server.net.app import Server
from server.net.clock import FakeClock
from server.net.config import Config
from server.net.webhook import Poster

from wsclient import Client, run

NATIONS = ("austria", "england", "france", "germany", "italy", "russia", "turkey")
T0 = 1_800_000_000  # 2027-01-15 08:00 UTC, a Friday (GMT in London, JST in Tokyo)
DAY = 86400


@contextlib.asynccontextmanager
async def serving(db: Path, clock: FakeClock) -> AsyncIterator[Server]:
    async with Server(Config(db=str(db), port=0, tick=0.02), clock=clock) as server:
        yield server


def make_game(server: Server, settings: dict[str, Any], title: str = "Deadlines",
              connect: tuple[str, ...] = (), game_id: str | None = None) -> tuple[str, str, dict[str, str]]:
    """A game with all seven nations seated (started); returns (game, host token, player tokens)."""
    svc, repo = server.service, server.repo
    assert svc is not None and repo is not None
    host = repo.user_by_name("host")
    if host is None:
        host_id, host_token = svc.add_user("host", "host")
    else:
        host_id, host_token = host["id"], ""
    room = svc.create_game(host_id, "classic", title, settings, game_id=game_id)
    tokens = {}
    for n in NATIONS:
        row = repo.user_by_name(n.title())
        if row is not None:
            uid = row["id"]
        elif n in connect:
            uid, tokens[n] = svc.add_user(n.title(), "player")
        else:
            uid = repo.add_user(n.title(), "player", b"-", T0)  # never signs in
        room.claim(n, uid, n.title(), svc.clock.now())
    svc._maybe_start(room)
    assert room.status == "active"
    return room.id, host_token, tokens


def pushes(server: Server, game: str, event: str) -> list[tuple[str, dict[str, Any]]]:
    """Every stored push of ``event`` in ``game``: (audience, message)."""
    assert server.repo is not None
    return [(aud, m) for _, aud, frame in server.repo.pushes_after(game, 0)
            if (m := msgpack.unpackb(frame, raw=False))["event"] == event]


async def until(pred: Callable[[], Any], timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = pred()
        if value:
            return value
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met in time")


async def ticks(n: int = 10) -> None:
    """Let the scheduler run a few ticks (tick = 0.02 s)."""
    await asyncio.sleep(0.02 * n)


# ---- a local webhook receiver -------------------------------------------------------------
class Receiver:
    """An HTTP server on 127.0.0.1 (port 0) in a thread, recording each POST; ``delay`` makes it slow."""

    def __init__(self, delay: float = 0.0) -> None:
        got: list[dict[str, Any]] = []
        self.got = got

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                got.append({"path": self.path, "type": self.headers.get("Content-Type"), "body": body})
                time.sleep(delay)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nobody listens."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


@contextlib.contextmanager
def receiving(delay: float = 0.0) -> Iterator[Receiver]:
    with Receiver(delay) as r:
        yield r


# ---- reminders ----------------------------------------------------------------------------
def test_reminders_go_only_to_nations_not_complete(tmp_path: Path) -> None:
    """At each offset, a reminder is pushed to each acting nation that is not complete (no
    orders, or units still missing orders) and to that nation only; complete, ready and
    civil-disorder nations get none; each round is sent once; times are in UTC and the
    player's zone (their profile's, else the game's); the scheduler wakes for reminders."""
    async def go() -> None:
        clock = FakeClock(T0)
        settings = {"deadlines": {"movement": {"after": 7200}}, "reminders": [600, 3600], "tz": "Europe/London"}
        async with serving(tmp_path / "k.db", clock) as server:
            svc = server.service
            assert svc is not None
            game, host_token, tokens = make_game(server, settings, connect=("france", "germany", "england"))
            c = {n: (await Client.open(server.port, token=tokens[n]))[0] for n in tokens}
            host, _ = await Client.open(server.port, token=host_token)
            assert (await c["germany"].ok("profile", tz="Asia/Tokyo"))["tz"] == "Asia/Tokyo"
            r = await c["france"].ok("orders", game=game, phase="S1901M", text="A par - bur\nA mar - spa\nF bre - mao")
            assert r["missing"] == []
            r = await c["germany"].ok("orders", game=game, phase="S1901M", text="A mun - ruh")
            assert sorted(r["missing"]) == ["A ber", "F kie"]
            await c["england"].ok("ready", game=game, phase="S1901M")
            svc.rooms[game].seats["italy"].disorder = True
            await ticks()
            assert pushes(server, game, "reminder") == []
            assert svc.next_due() == T0 + 7200 - 3600  # the timer wakes for the first reminder

            clock.advance(3600)
            got = await c["germany"].wait_push(game, "reminder")
            await ticks()
            first = pushes(server, game, "reminder")
            assert sorted(aud for aud, _ in first) == ["n:austria", "n:germany", "n:russia", "n:turkey"]
            assert all(m["nation"] == aud[2:] for aud, m in first)
            assert got["phase"] == "S1901M" and got["deadline"] == T0 + 7200 and got["seconds_left"] == 3600
            assert got["orders"] is True and sorted(got["missing"]) == ["A ber", "F kie"]
            assert got["deadline_utc"] == "2027-01-15 10:00 UTC"
            assert got["deadline_local"] == {"tz": "Asia/Tokyo", "text": "2027-01-15 19:00 JST"}
            austria = [m for aud, m in first if aud == "n:austria"][0]
            assert austria["orders"] is False and sorted(austria["missing"]) == ["A bud", "A vie", "F tri"]
            assert austria["deadline_local"] == {"tz": "Europe/London", "text": "2027-01-15 10:00 GMT"}
            for n in ("france", "england"):
                assert not [p for p in c[n].pushes.get(game, []) if p["event"] == "reminder"]
            assert not [p for p in host.pushes.get(game, []) if p["event"] == "reminder"]
            assert svc.next_due() == T0 + 7200 - 600

            clock.advance(1000)  # between the offsets: nothing more
            await ticks()
            assert len(pushes(server, game, "reminder")) == 4
            clock.advance(2000)  # 600 s before the deadline
            await until(lambda: len(pushes(server, game, "reminder")) == 8)
            await ticks()
            second = pushes(server, game, "reminder")[4:]
            assert sorted(aud for aud, _ in second) == ["n:austria", "n:germany", "n:russia", "n:turkey"]
            assert all(m["seconds_left"] == 600 for _, m in second)
            assert len([p for p in c["germany"].pushes[game] if p["event"] == "reminder"]) == 2
            assert len(pushes(server, game, "reminder")) == 8
            for cl in (*c.values(), host):
                await cl.close()
    run(go())


def test_reminders_are_sent_once_across_restarts(tmp_path: Path) -> None:
    """A round sent before a restart is not sent again; one that came due while the server
    was down is sent once at start if its deadline is still ahead; one whose deadline passed
    while down is skipped, also during the grace time."""
    async def go() -> None:
        clock = FakeClock(T0)
        db = tmp_path / "k.db"
        settings = {"deadlines": {"movement": {"after": 7200}}, "reminders": [3600, 1800, 300], "grace": 600}
        async with serving(db, clock) as server:
            game, _, _ = make_game(server, settings)
            clock.advance(3600)
            await until(lambda: len(pushes(server, game, "reminder")) == 7)
            await ticks()
        async with serving(db, clock) as server:  # restarted: the 3600 round is not repeated
            await ticks()
            assert len(pushes(server, game, "reminder")) == 7
        clock.advance(1900)  # the 1800 round came due while down; the deadline is ahead
        async with serving(db, clock) as server:
            await until(lambda: len(pushes(server, game, "reminder")) == 14)
            await ticks()
            assert [m["seconds_left"] for _, m in pushes(server, game, "reminder")[7:]] == [1700] * 7
        async with serving(db, clock) as server:
            await ticks()
            assert len(pushes(server, game, "reminder")) == 14
        clock.advance(1800)  # past the deadline (and the 300 moment) while down; in the grace time
        async with serving(db, clock) as server:
            await ticks()
            assert not pushes(server, game, "adjudicated")
            clock.advance(500)
            await until(lambda: pushes(server, game, "adjudicated"))
            await ticks()
            assert len(pushes(server, game, "reminder")) == 14
            assert server.repo is not None
            rows = server.repo.db.execute("SELECT phase, offset FROM reminders WHERE game = ? ORDER BY offset",
                                          (game,)).fetchall()
            assert [tuple(r) for r in rows] == [("S1901M", 1800), ("S1901M", 3600)]
    run(go())


def test_no_reminder_at_a_phase_start_or_in_a_paused_game(tmp_path: Path) -> None:
    """An offset as long as the phase (its moment is the phase's start) sends nothing; a game
    that is not active sends none."""
    async def go() -> None:
        clock = FakeClock(T0)
        async with serving(tmp_path / "k.db", clock) as server:
            svc = server.service
            assert svc is not None
            game, _, _ = make_game(server, {"deadlines": {"movement": {"after": 3600}}, "reminders": [3600, 7200]})
            other, _, _ = make_game(server, {"deadlines": {"movement": {"after": 7200}}, "reminders": [3600]},
                                    game_id="paused")
            svc.rooms[other].status = "paused"  # as the host tools set it
            await ticks()
            clock.advance(3599)
            await ticks()
            assert pushes(server, game, "reminder") == [] and pushes(server, other, "reminder") == []
            assert svc.next_due() == T0 + 3600  # the deadline, no reminder moment
    run(go())


# ---- the webhook --------------------------------------------------------------------------
def test_webhook_gets_one_post_per_round(tmp_path: Path) -> None:
    """Each reminder round posts one Discord-compatible JSON message naming the game, phase,
    deadline (UTC and the game's zone) and the nations not complete, never orders; a title
    cannot ping anyone."""
    async def go() -> None:
        clock = FakeClock(T0)
        with receiving() as rx:
            async with serving(tmp_path / "k.db", clock) as server:
                svc = server.service
                assert svc is not None
                settings = {"deadlines": {"movement": {"after": 7200}}, "reminders": [3600, 600],
                            "tz": "Asia/Tokyo", "webhook": rx.url}
                game, _, _ = make_game(server, settings, title="Far East @everyone")
                room = svc.rooms[game]
                host_id = room.host
                assert room.view(host_id)["settings"]["webhook"] == rx.url  # the URL is a credential:
                assert "webhook" not in room.view(host_id + 1000)["settings"]  # only the host sees it
                await room.submit("france", "A par - bur\nA mar - spa\nF bre - mao", "France", clock.now())
                await room.submit("germany", "A mun - ruh", "Germany", clock.now())
                clock.advance(3600)
                await until(lambda: len(rx.got) == 1)
                post = rx.got[0]
                assert post["path"] == "/hook" and post["type"] == "application/json"
                body = json.loads(post["body"])
                assert set(body) == {"content", "username"} and body["username"] == "Kessen"
                text = body["content"]
                assert len(text) <= 2000
                assert "Far East @\u200beveryone" in text and "@everyone" not in text and game in text
                assert "S1901M" in text and "2027-01-15 10:00 UTC" in text and "2027-01-15 19:00 JST" in text
                for name in ("Austria", "England", "Germany", "Italy", "Russia", "Turkey"):
                    assert name in text
                assert "France" not in text and "par" not in text and "mun" not in text
                await ticks()
                assert len(rx.got) == 1
                clock.advance(3000)
                await until(lambda: len(rx.got) == 2)
                await ticks(15)
                assert len(rx.got) == 2
                assert "in 10 min" in json.loads(rx.got[1]["body"])["content"]
    run(go())


def test_slow_or_down_webhook_never_delays_replies(tmp_path: Path) -> None:
    """A receiver that is slow (answers after 2 s) or down does not delay pushes or other
    clients' replies: posts run off the event loop; failures are only logged."""
    async def go() -> None:
        clock = FakeClock(T0)
        with receiving(delay=2.0) as rx:
            async with serving(tmp_path / "k.db", clock) as server:
                svc = server.service
                assert svc is not None
                poster = svc.deadline_state().poster = Poster(timeout=5.0, retry_delay=0.0)
                dl = {"deadlines": {"movement": {"after": 7200}}, "reminders": [3600]}
                slow, _, tokens = make_game(server, {**dl, "webhook": rx.url}, connect=("germany",))
                down, _, _ = make_game(server, {**dl, "webhook": closed_port_url()}, game_id="down")
                c, _ = await Client.open(server.port, token=tokens["germany"])
                clock.advance(3600)
                t0 = time.monotonic()
                await c.wait_push(slow, "reminder", timeout=1.0)
                await until(lambda: rx.got, timeout=1.0)  # the slow receiver is now holding a post
                worst = 0.0
                for _ in range(10):
                    t = time.monotonic()
                    await c.ok("ping")
                    worst = max(worst, time.monotonic() - t)
                    await asyncio.sleep(0.05)
                assert worst < 0.3, worst
                assert time.monotonic() - t0 < 1.5  # all of this while the receiver still sleeps
                await until(lambda: poster.failed == 1, timeout=3.0)  # the down one: tried twice, logged
                assert len(pushes(server, down, "reminder")) == 7
                assert svc.rooms[down].status == "active"
                await c.close()
    run(go())


# ---- absences -----------------------------------------------------------------------------
def test_absence_moves_the_current_deadline_to_its_end(tmp_path: Path) -> None:
    """An absence covering the current deadline moves it to the absence's end now: stored,
    pushed as ``deadline`` to everyone, logged in the history (the reason stays private),
    shown in the game view; the phase is processed then, not before."""
    async def go() -> None:
        clock = FakeClock(T0)
        async with serving(tmp_path / "k.db", clock) as server:
            game, host_token, tokens = make_game(server, {"deadlines": {"movement": {"after": 3600}}},
                                                 connect=("germany", "france"))
            g, _ = await Client.open(server.port, token=tokens["germany"])
            f, _ = await Client.open(server.port, token=tokens["france"])
            r = await g.ok("absence", game=game, start=T0 + 1000, end=T0 + 5000, reason="dentist appointment")
            assert r["moved"] is True and r["deadline"] == T0 + 5000 and r["nation"] == "germany"
            push = await f.wait_push(game, "deadline")
            assert (push["phase"], push["deadline"], push["reason"]) == ("S1901M", T0 + 5000, "absence")
            event = await f.wait_push(game, "event", kind="absence")
            assert event["by"] == "Germany" and event["data"] == {"nation": "germany", "start": T0 + 1000,
                                                                 "end": T0 + 5000}
            assert server.repo is not None
            assert server.repo.game(game)["deadline"] == T0 + 5000
            assert all(b"dentist" not in frame for _, _, frame in server.repo.pushes_after(game, 0))
            assert [e["kind"] for e in (await f.ok("history", game=game))["events"]] == ["absence"]
            view = await f.ok("game", game=game)
            assert view["deadline"] == T0 + 5000 and view["deadline_utc"] == "2027-01-15 09:23 UTC"
            assert view["deadline_local"] == {"tz": "UTC", "text": "2027-01-15 09:23 UTC"}
            clock.advance(4000)
            await ticks()
            assert not pushes(server, game, "adjudicated")
            clock.advance(1000)
            await until(lambda: pushes(server, game, "adjudicated"))
            await g.close()
            await f.close()
    run(go())


def test_absence_moves_the_next_deadline_within_the_bound(tmp_path: Path) -> None:
    """An absence that does not cover the current deadline leaves it, and moves the next
    phase's deadline exactly to its end; a long absence moves a deadline by at most
    ``max_absence``."""
    async def go() -> None:
        clock = FakeClock(T0)
        async with serving(tmp_path / "k.db", clock) as server:
            svc = server.service
            assert svc is not None
            game, _, tokens = make_game(server, {"deadlines": {"movement": {"after": 3600}}, "max_absence": 2000},
                                        connect=("germany", "italy"))
            g, _ = await Client.open(server.port, token=tokens["germany"])
            i, _ = await Client.open(server.port, token=tokens["italy"])
            r = await g.ok("absence", game=game, start=T0 + 7000, end=T0 + 8000)
            assert r["moved"] is False and r["deadline"] == T0 + 3600
            clock.advance(3600)
            res = await g.wait_push(game, "adjudicated")
            assert res["next"] == "F1901M" and res["deadline"] == T0 + 8000  # not T0 + 7200
            r = await i.ok("absence", game=game, start=T0 + 7900, end=T0 + 30 * DAY)
            assert r["moved"] is True and r["deadline"] == T0 + 8000 + 2000
            assert svc.rooms[game].deadline == T0 + 10000
            await g.close()
            await i.close()
    run(go())


def test_absence_in_another_game_has_no_effect(tmp_path: Path) -> None:
    """A player seated in two games declares an absence in one: the other game's current and
    next deadlines are not moved."""
    async def go() -> None:
        clock = FakeClock(T0)
        async with serving(tmp_path / "k.db", clock) as server:
            svc = server.service
            assert svc is not None
            one, _, tokens = make_game(server, {"deadlines": {"movement": {"after": 3600}}}, connect=("germany",))
            two, _, _ = make_game(server, {"deadlines": {"movement": {"after": 3600}}}, game_id="two")
            g, _ = await Client.open(server.port, token=tokens["germany"])
            r = await g.ok("absence", game=one, start=T0, end=T0 + 20 * DAY)
            assert r["moved"] is True
            assert svc.rooms[two].deadline == T0 + 3600 and svc.rooms[two].absences == []
            assert svc.rooms[one].absences == [(svc.rooms[one].seats["germany"].user, T0, T0 + 20 * DAY)]
            clock.advance(3600)
            await until(lambda: pushes(server, two, "adjudicated"))
            assert pushes(server, two, "adjudicated")[0][1]["deadline"] == T0 + 7200
            assert not pushes(server, two, "deadline") and not pushes(server, one, "adjudicated")
            await g.close()
    run(go())


def test_absence_is_validated_and_bounded(tmp_path: Path) -> None:
    """Only a seated player may declare an absence; start < end, an end in the future and at
    most 60 days are required (bad_message); a ninth absence not yet ended is over_limit."""
    async def go() -> None:
        clock = FakeClock(T0)
        async with serving(tmp_path / "k.db", clock) as server:
            game, host_token, tokens = make_game(server, {}, connect=("germany",))
            g, _ = await Client.open(server.port, token=tokens["germany"])
            h, _ = await Client.open(server.port, token=host_token)
            r = await h.request("absence", game=game, start=T0, end=T0 + 10)
            assert r["code"] == "not_seated"
            for start, end, field in ((T0 + 10, T0 + 10, "end"), (T0 - 100, T0, "end"),
                                      (T0, T0 + 61 * DAY, "end"), (-5, T0 + 10, "start")):
                r = await g.request("absence", game=game, start=start, end=end)
                assert (r["code"], r["field"]) == ("bad_message", field), (start, end, r)
            r = await g.request("absence", game=game, start=T0, end=T0 + 10, reason="x" * 501)
            assert (r["code"], r["field"]) == ("bad_message", "reason")
            r = await g.request("absence", game=game, start="soon", end=T0 + 10)
            assert (r["code"], r["field"]) == ("bad_message", "start")
            for k in range(8):
                await g.ok("absence", game=game, start=T0 + (10 + k) * DAY, end=T0 + (11 + k) * DAY)
            r = await g.request("absence", game=game, start=T0 + 30 * DAY, end=T0 + 31 * DAY)
            assert r["code"] == "over_limit"
            await g.close()
            await h.close()
    run(go())


# ---- time zones ---------------------------------------------------------------------------
def test_profile_time_zone_shows_in_hello_and_game_view(tmp_path: Path) -> None:
    """``profile {tz}`` checks the zone (bad_message, field tz), stores it; the welcome carries
    it and the game view shows the deadline in UTC and in that zone (else the game's)."""
    async def go() -> None:
        clock = FakeClock(T0)
        async with serving(tmp_path / "k.db", clock) as server:
            game, _, tokens = make_game(server, {"deadlines": {"movement": {"after": 7200}}, "tz": "America/New_York"},
                                        connect=("russia",))
            c, welcome = await Client.open(server.port, token=tokens["russia"])
            assert welcome["tz"] is None
            view = await c.ok("game", game=game)
            assert view["deadline_utc"] == "2027-01-15 10:00 UTC"
            assert view["deadline_local"] == {"tz": "America/New_York", "text": "2027-01-15 05:00 EST"}
            for bad in ("Mars/Olympus", "../../etc/passwd", "x" * 100):
                r = await c.request("profile", tz=bad)
                assert (r["code"], r["field"]) == ("bad_message", "tz")
            assert (await c.ok("profile"))["tz"] is None
            assert (await c.ok("profile", tz="Asia/Tokyo"))["tz"] == "Asia/Tokyo"
            view = await c.ok("watch", game=game)
            assert view["deadline_local"] == {"tz": "Asia/Tokyo", "text": "2027-01-15 19:00 JST"}
            await c.close()
            c, welcome = await Client.open(server.port, token=tokens["russia"])
            assert welcome["tz"] == "Asia/Tokyo"
            assert (await c.ok("profile", tz=""))["tz"] is None
            view = await c.ok("game", game=game)
            assert view["deadline_local"]["tz"] == "America/New_York"
            await c.close()
    run(go())
