"""The authorisation matrix: every message type, from every identity that must not be able to
use it for this game, in every game state.

Identities: no authentication, a bad token, a player of another game, nation A acting for
nation B, an observer, and the host of another game. States: lobby, orders, processing,
retreats, builds, paused, finished. Each cell is either allowed (by the policy below) or
refused with a uniform error, and a refused cell leaves the database exactly as it was.

The policy table here is the test's own: a message type added to the server without an entry
here fails the test (and an entry that disagrees with ``Spec.who`` fails it too).
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Any, AsyncIterator

import msgpack
from websockets.asyncio.client import connect

from server.net.app import Server
from server.net.clock import FakeClock
from server.net.config import Config
from server.protocol.errors import CODES
from server.protocol.messages import MESSAGES

from test_server import FAST, NATIONS
from wsclient import Client, run

# who may send each type: user (any authenticated user), hosts (host role), player (seated in
# the game), member (players and the game's host), host (the game's host), any (hello only)
POLICY = {
    "hello": "any", "ping": "user", "games": "user", "profile": "user", "create_game": "hosts",
    "invite": "host", "join": "user", "watch": "user", "game": "user", "resync": "user", "history": "user",
    "orders": "player", "ready": "player", "unready": "player", "legal": "player",
    "press": "member", "inbox": "member", "absence": "player", "vote": "player",
    "pause": "host", "resume": "host", "extend": "host", "process": "host", "preview": "host",
    "rollback": "host", "replace": "host", "enter_orders": "host", "advertise": "host", "export": "host",
}

REFUSALS = {"auth_required", "auth_failed", "forbidden", "not_seated", "bad_message", "already_seated"}
TABLES = ("users", "games", "invites", "seats", "orders", "ready", "pushes", "phases", "events", "press",
          "votes", "absences", "tenures", "reminders")


def fields_for(kind: str, game: str, phase: str) -> dict[str, Any]:
    """Well-formed fields for ``kind`` in ``game`` (what a legitimate sender would send)."""
    return {
        "hello": {"versions": [1], "token": "u1.x"}, "ping": {}, "games": {}, "profile": {"tz": "UTC"},
        "create_game": {"ruleset": "classic", "title": "another"},
        "invite": {"game": game, "nation": "england"}, "join": {"game": game, "nation": "england"},
        "watch": {"game": game}, "game": {"game": game}, "resync": {"game": game, "after": 0},
        "history": {"game": game},
        "orders": {"game": game, "phase": phase, "text": ""}, "ready": {"game": game, "phase": phase},
        "unready": {"game": game, "phase": phase}, "legal": {"game": game, "phase": phase},
        "press": {"game": game, "to": ["all"], "text": "hello all"}, "inbox": {"game": game},
        "absence": {"game": game, "start": 1_900_000_000, "end": 1_900_086_400},
        "vote": {"game": game, "phase": phase, "kind": "draw", "value": True},
        "pause": {"game": game, "reason": "r"}, "resume": {"game": game},
        "extend": {"game": game, "phase": phase, "seconds": 60}, "process": {"game": game, "phase": phase},
        "preview": {"game": game, "phase": phase}, "rollback": {"game": game, "phase": phase, "reason": "r"},
        "replace": {"game": game, "nation": "germany", "name": "newcomer"},
        "enter_orders": {"game": game, "phase": phase, "nation": "germany", "text": ""},
        "advertise": {"game": game, "nation": "germany"}, "export": {"game": game},
    }[kind]


def snapshot(path: str) -> list[Any]:
    db = sqlite3.connect(path)
    try:
        return [list(db.execute(f"SELECT * FROM {t} ORDER BY rowid")) for t in TABLES]
    finally:
        db.close()


def expected_allowed(identity: str, who: str) -> bool:
    """The policy: which identities may use a message of policy ``who`` on *this* game."""
    if identity in ("none", "bad_token"):
        return False
    if identity == "a_for_b":  # acting for another nation is never allowed
        return False
    if who == "user":
        return True
    if who == "hosts":
        return identity == "other_host"
    return False  # player, member, host: none of these identities is the game's player or host


def test_every_message_type_has_a_policy() -> None:
    assert set(POLICY) == set(MESSAGES), "a message type without a policy here (or one that was removed)"
    assert {k: s.who for k, s in MESSAGES.items()} == POLICY


@contextlib.asynccontextmanager
async def _server(tmp: Path) -> AsyncIterator[tuple[Server, FakeClock]]:
    clock = FakeClock()
    config = Config(db=str(tmp / "k.db"), port=0, tick=0.02, **_open_limits())
    async with Server(config, clock=clock) as server:
        yield server, clock


def _open_limits() -> dict[str, Any]:
    """Rate and connection limits out of the way: this test opens many connections."""
    names = {a.name for a in Config.__attrs_attrs__}  # type: ignore[attr-defined]
    big = {"rate": 1e6, "burst": 1e6, "flood": 1e9, "max_per_address": 100_000, "max_bad_frames": 1_000_000}
    return {k: v for k, v in big.items() if k in names}


async def _raw(port: int, message: dict[str, Any]) -> dict[str, Any]:
    """One frame on a fresh, unauthenticated connection; the server's answer."""
    async with connect(f"ws://127.0.0.1:{port}", open_timeout=5, close_timeout=1) as ws:
        await ws.send(msgpack.packb(message))
        return msgpack.unpackb(await ws.recv(), raw=False)


def test_authorisation_matrix(tmp_path: Path) -> None:
    async def go() -> None:
        async with _server(tmp_path) as (server, clock):
            svc, db = server.service, str(tmp_path / "k.db")
            assert svc is not None
            _, host_tok = svc.add_user("host", "host")
            _, other_host_tok = svc.add_user("otherhost", "host")
            host, _ = await Client.open(server.port, token=host_tok)
            other_host, _ = await Client.open(server.port, token=other_host_tok)
            game = (await host.ok("create_game", ruleset="classic", title="main", settings=FAST))["game"]
            other_game = (await other_host.ok("create_game", ruleset="classic", title="other"))["game"]
            players: dict[str, Client] = {}
            for n in NATIONS[:-1]:  # turkey stays free: the game is forming (lobby)
                _, tok = svc.add_user(n.title(), "player")
                players[n], _ = await Client.open(server.port, token=tok)
                await players[n].ok("join", game=game, nation=n)
            _, tok = svc.add_user("elsewhere", "player")
            elsewhere, _ = await Client.open(server.port, token=tok)
            await elsewhere.ok("join", game=other_game, nation="france")
            _, tok = svc.add_user("observer", "player")
            observer, _ = await Client.open(server.port, token=tok)
            await observer.ok("watch", game=game)
            identities = {"other_game_player": elsewhere, "a_for_b": players["france"], "observer": observer,
                          "other_host": other_host}
            room = svc.rooms[game]
            cells = 0

            async def check_state(state: str) -> None:
                nonlocal cells
                phase = room.phase
                for kind, who in sorted(POLICY.items()):
                    base = fields_for(kind, game, phase)
                    # no authentication: the frame is the first on its connection
                    got = await _raw(server.port, {"type": kind, "id": 9, **base})
                    if kind == "hello":  # a hello with a token of no user
                        assert got["code"] == "auth_failed", (state, kind, got)
                    else:
                        assert got["code"] == "auth_required" and got["re"] == 9, (state, kind, got)
                    # a bad token: the hello is refused, nothing after it is read
                    got = await _raw(server.port, {"type": "hello", "id": 1, "versions": [1], "token": "u3.bad"})
                    assert got["code"] == "auth_failed"
                    cells += 2
                    for identity, client in identities.items():
                        fields = dict(base)
                        if identity == "a_for_b":
                            fields["nation"] = "germany"  # France's player names Germany
                        before = snapshot(db)
                        reply = await client.request(kind, **fields)
                        cells += 1
                        allowed = expected_allowed(identity, who) and kind != "hello"
                        where = (state, kind, identity, reply)
                        if allowed:
                            if kind == "join":  # allowed to try; England is taken
                                assert reply["type"] == "error" and reply["code"] in ("nation_taken", "game_over"), where
                            elif kind == "create_game":
                                assert reply["type"] == "ok", where
                            else:
                                assert reply["type"] == "ok", where
                            continue
                        assert reply["type"] == "error", where
                        assert set(reply) == {"type", "re", "code", "message", "field"}, where
                        assert reply["code"] in REFUSALS, where
                        assert snapshot(db) == before, where

            await check_state("lobby")
            _, tok = svc.add_user("Turkey", "player")
            players["turkey"], _ = await Client.open(server.port, token=tok)
            await players["turkey"].ok("join", game=game, nation="turkey")
            await host.wait_push(game, "started")
            await check_state("orders")
            room.closing = True  # as while the phase is being adjudicated
            await check_state("processing")
            room.closing = False
            # S1901: Germany into Burgundy, France to Picardy, Austria into Serbia
            await players["germany"].ok("orders", game=game, phase="S1901M", text="A mun - bur")
            await players["france"].ok("orders", game=game, phase="S1901M", text="A par - pic")
            await players["austria"].ok("orders", game=game, phase="S1901M", text="A bud - ser")
            await host.ok("process", game=game, phase="S1901M")
            await host.wait_push(game, "adjudicated", phase="S1901M")
            # F1901: France dislodges Germany from Burgundy
            await players["france"].ok("orders", game=game, phase="F1901M", text="A pic - bur\nA mar S A pic - bur")
            await host.ok("process", game=game, phase="F1901M")
            await host.wait_push(game, "adjudicated", phase="F1901M")
            assert room.phase == "F1901R"
            await check_state("retreats")
            await host.ok("process", game=game, phase="F1901R")
            await host.wait_push(game, "adjudicated", phase="F1901R")
            assert room.phase == "W1901A"
            await check_state("builds")
            await host.ok("pause", game=game, reason="matrix")
            await check_state("paused")
            await host.ok("resume", game=game)
            for n, c in players.items():
                await c.ok("vote", game=game, phase="W1901A", kind="draw", value=True)
            await host.wait_push(game, "ended")
            assert room.status == "finished"
            await check_state("finished")
            assert cells == 7 * len(POLICY) * (2 + len(identities))
            for c in [host, other_host, elsewhere, observer, *players.values()]:
                await c.close()
    run(go(), timeout=240)


def test_refusal_codes_are_known() -> None:
    assert REFUSALS <= set(CODES)
