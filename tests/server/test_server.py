"""The server in-process (127.0.0.1, port 0, a fake clock): protocol behaviour end to end."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, AsyncIterator

import msgpack
from websockets.asyncio.client import connect

from server.net.app import Server
from server.net.clock import FakeClock
from server.net.config import Config

from wsclient import Client, run

NATIONS = ("austria", "england", "france", "germany", "italy", "russia", "turkey")
FAST = {"deadlines": {"movement": {"after": 3600}, "retreat": {"after": 600}, "adjustment": {"after": 600}}}


@contextlib.asynccontextmanager
async def started(tmp: Path, **config: Any) -> AsyncIterator[tuple[Server, FakeClock, str]]:
    clock = FakeClock()
    async with Server(Config(db=str(tmp / "k.db"), port=0, tick=0.02, **config), clock=clock) as server:
        assert server.service is not None
        _, token = server.service.add_user("host", "host")
        yield server, clock, token


async def full_game(server: Server, host_token: str, settings: dict[str, Any] | None = None
                    ) -> tuple[Client, str, dict[str, Client]]:
    """A host and seven seated players (via invite codes); the game starts when all are in."""
    host, _ = await Client.open(server.port, token=host_token)
    game = (await host.ok("create_game", ruleset="classic", title="t", settings=settings or FAST))["game"]
    players = {}
    for n in NATIONS:
        code = (await host.ok("invite", game=game, nation=n))["code"]
        players[n], welcome = await Client.open(server.port, invite=code, name=n.title())
        assert welcome["token"].startswith("u")
    await host.wait_push(game, "started")
    return host, game, players


def test_hello_negotiates_version_and_refuses_bad_tokens(tmp_path: Path) -> None:
    """A good token gets a welcome with version 1; a bad token, a missing hello or no common
    version get a uniform error and the connection is closed."""
    async def go() -> None:
        async with started(tmp_path) as (server, _, token):
            c, welcome = await Client.open(server.port, token=token)
            assert welcome["type"] == "ok" and welcome["version"] == 1 and welcome["role"] == "host"
            assert (await c.ok("ping"))["now"] == 1_800_000_000
            await c.close()
            c, reply = await Client.open(server.port, token=token[:-2] + "xx")
            assert reply["type"] == "error" and reply["code"] == "auth_failed" and reply["field"] == "token"
            await c.wait_for(lambda: c.closed.is_set())
            ws = await connect(f"ws://127.0.0.1:{server.port}")
            await ws.send(msgpack.packb({"type": "hello", "id": 3, "versions": [9], "token": token}))
            got = msgpack.unpackb(await ws.recv())
            assert got == {"type": "error", "re": 3, "code": "unsupported_version",
                           "message": "server speaks versions [1]", "field": "versions"}
            await ws.close()
            ws = await connect(f"ws://127.0.0.1:{server.port}")
            await ws.send(msgpack.packb({"type": "games", "id": 1}))
            got = msgpack.unpackb(await ws.recv())
            assert got["code"] == "auth_required" and got["re"] == 1
            await ws.close()
    run(go())


def test_first_message_must_come_in_time(tmp_path: Path) -> None:
    """A connection that sends nothing is told auth_timeout and closed."""
    async def go() -> None:
        async with started(tmp_path, auth_timeout=0.3) as (server, _, _):
            ws = await connect(f"ws://127.0.0.1:{server.port}")
            got = msgpack.unpackb(await ws.recv())
            assert got["code"] == "auth_timeout"
            await ws.wait_closed()
    run(go())


def test_malformed_frames_get_uniform_errors(tmp_path: Path) -> None:
    """Garbage, text frames, unknown types and bad fields are refused with a code and field."""
    async def go() -> None:
        async with started(tmp_path) as (server, _, token):
            c, _ = await Client.open(server.port, token=token)
            await c.ws.send(b"\xc1garbage")
            await c.ws.send(msgpack.packb({"type": "nope", "id": 5}))
            await c.ws.send(msgpack.packb({"type": "ready", "id": 6, "game": 1, "phase": "S1901M"}))
            await c.ws.send("text frame")
            await c.wait_for(lambda: len(c.pushes.get("", [])) >= 4)
            errs = c.pushes[""]
            assert [e["code"] for e in errs] == ["bad_frame", "unknown_type", "bad_message", "bad_frame"]
            assert errs[1]["re"] == 5 and errs[2]["field"] == "game" and errs[2]["re"] == 6
            assert all(set(e) == {"type", "re", "code", "message", "field"} for e in errs)
            r = await c.request("create_game", ruleset="classic", title="x", settings={"grace": -1})
            assert r["code"] == "bad_settings" and r["field"] == "settings.grace"
            r = await c.request("create_game", ruleset="nope", title="x")
            assert r["code"] == "not_found" and r["field"] == "ruleset"
            await c.close()
    run(go())


def test_orders_replace_echo_and_stay_private(tmp_path: Path) -> None:
    """Orders are echoed normalised with missing units and rejected lines; a new set replaces
    the old; others (players, observers) learn only that France has orders in."""
    async def go() -> None:
        async with started(tmp_path) as (server, _, token):
            host, game, p = await full_game(server, token)
            watcher_tok = server.service.add_user("watcher", "player")[1]  # type: ignore[union-attr]
            w, _ = await Client.open(server.port, token=watcher_tok)
            view = await w.ok("watch", game=game)
            assert view["nation"] is None and "orders" not in view
            r = await p["france"].ok("orders", game=game, phase="S1901M",
                                     text="A Paris -> Burgundy\nA mar - spain\nF bre - mao\nA mun - ruh\nA par H\nxyz")
            assert r["orders"] == ["A par - bur", "A mar - spa", "F bre - mao"]
            assert r["missing"] == []
            assert [(x["line"], x["text"]) for x in r["rejected"]] == [(4, "A mun - ruh"), (5, "A par H"), (6, "xyz")]
            assert "france has no army in mun" in r["rejected"][0]["reason"]
            assert "already has an order (line 1)" in r["rejected"][1]["reason"]
            r = await p["france"].ok("orders", game=game, phase="S1901M", text="A par - pic")
            assert r["orders"] == ["A par - pic"] and r["missing"] == ["F bre", "A mar"]
            view = await p["france"].ok("game", game=game)
            assert view["orders"] == ["A par - pic"]
            for c in (w, p["england"], host):
                push = await c.wait_push(game, "status", nation="france")
                assert push == {"type": "push", "game": game, "seq": push["seq"], "event": "status",
                                "phase": "S1901M", "nation": "france", "orders": True, "ready": False}
                v = await c.ok("game", game=game)
                assert "orders" not in v
                assert [s for s in v["seats"] if s["nation"] == "france"][0]["orders"] is True
    run(go())


def test_ready_processes_early_and_pushes_results(tmp_path: Path) -> None:
    """When every nation is ready the phase is adjudicated at once; everyone gets the results,
    each order with its outcome, and observers see orders only then."""
    async def go() -> None:
        async with started(tmp_path) as (server, _, token):
            host, game, p = await full_game(server, token)
            await p["france"].ok("orders", game=game, phase="S1901M", text="A par - bur")
            await p["germany"].ok("orders", game=game, phase="S1901M", text="A mun - bur")
            for n in NATIONS:
                await p[n].ok("ready", game=game, phase="S1901M")
            res = await host.wait_push(game, "adjudicated")
            assert res["phase"] == "S1901M" and res["next"] == "F1901M"
            assert ["france", "A par - bur", "fails", ["bounce", "bur", None, None]] in res["results"] or \
                any(r[:3] == ["france", "A par - bur", "fails"] for r in res["results"])
            assert sorted(res["missed"]) == sorted(set(NATIONS) - {"france", "germany"})
            assert res["deadline"] == 1_800_000_000 + 3600
            r = await p["france"].request("orders", game=game, phase="S1901M", text="A par - bur")
            assert r["code"] == "stale_phase" and r["field"] == "phase"
    run(go())


def test_deadline_grace_and_civil_disorder(tmp_path: Path) -> None:
    """Without orders the phase waits for deadline + grace, units hold, and after the set
    number of missed movement phases the nation falls into civil disorder."""
    async def go() -> None:
        settings = {**FAST, "grace": 100, "civil_disorder_after": 1}
        async with started(tmp_path) as (server, clock, token):
            host, game, p = await full_game(server, token, settings)
            clock.advance(3600)
            await host.ok("ping")
            await __import__("asyncio").sleep(0.1)
            assert not any(x["event"] == "adjudicated" for x in host.pushes[game])
            clock.advance(100)
            res = await host.wait_push(game, "adjudicated")
            assert sorted(res["civil_disorder"]) == list(NATIONS)
            assert res["results"] == [] and res["next"] == "F1901M"  # no orders: every unit held
    run(go())


def test_resync_returns_exactly_the_missed_pushes(tmp_path: Path) -> None:
    """A client that reconnects and asks for everything after its last seq gets exactly the
    pushes it missed, in order, the same frames the others saw live."""
    async def go() -> None:
        async with started(tmp_path) as (server, _, token):
            host, game, p = await full_game(server, token)
            fr = p["france"]
            seen = fr.last_seq(game)
            await fr.close()
            for n in ("england", "germany"):
                await p[n].ok("orders", game=game, phase="S1901M", text="")
                await p[n].ok("ready", game=game, phase="S1901M")
            await host.wait_for(lambda: host.last_seq(game) >= seen + 4)
            c, welcome = await Client.open(server.port, token=server_token(server, "France"))
            assert [g["game"] for g in welcome["games"]] == [game]
            r = await c.ok("resync", game=game, after=seen)
            assert r["count"] == 4 and r["last"] == host.last_seq(game)
            assert c.pushes[game] == [x for x in host.pushes[game] if x["seq"] > seen]
    run(go())


def server_token(server: Server, name: str) -> str:
    """A fresh token for an existing user (test helper: rotates the stored hash)."""
    from server.storage import secrets

    assert server.repo is not None
    row = server.repo.user_by_name(name)
    raw = secrets.new_secret()
    server.repo.set_token(row["id"], secrets.make_hash(raw))
    return secrets.join("u", row["id"], raw)


def test_quarantine_keeps_other_games_running(tmp_path: Path, monkeypatch: Any) -> None:
    """A game whose adjudication raises is quarantined and its players told; others go on."""
    async def go() -> None:
        async with started(tmp_path) as (server, clock, token):
            host, bad, p = await full_game(server, token)
            import server.net.room as room_mod

            real = room_mod.step
            def boom(rs: Any, st: Any, orders: Any) -> Any:
                if boom.armed:  # type: ignore[attr-defined]
                    raise RuntimeError("engine exploded")
                return real(rs, st, orders)
            boom.armed = True  # type: ignore[attr-defined]
            monkeypatch.setattr(room_mod, "step", boom)
            for n in NATIONS:
                await p[n].ok("ready", game=bad, phase="S1901M")
            q = await host.wait_push(bad, "quarantined")
            assert "exploded" not in q["error"]
            r = await p["france"].request("orders", game=bad, phase="S1901M", text="")
            assert r["code"] == "quarantined"
            boom.armed = False  # type: ignore[attr-defined]
            good = (await host.ok("create_game", ruleset="classic", title="ok", settings={"start": {"at": 0}}))["game"]
            clock.advance(86400)
            res = await host.wait_push(good, "adjudicated")
            assert res["next"] == "F1901M"
    run(go())


def test_join_by_claiming_and_start_when_full(tmp_path: Path) -> None:
    """Players claim free nations; a taken nation is refused; the game starts when all are claimed."""
    async def go() -> None:
        async with started(tmp_path) as (server, _, token):
            host, _ = await Client.open(server.port, token=token)
            game = (await host.ok("create_game", ruleset="classic", title="claims"))["game"]
            r = await host.request("orders", game=game, phase="S1901M", text="")
            assert r["code"] == "not_seated"
            cs = []
            for i, n in enumerate(NATIONS):
                tok = server.service.add_user(f"u{i}", "player")[1]  # type: ignore[union-attr]
                c, _ = await Client.open(server.port, token=tok)
                if i == 1:
                    r = await c.request("join", game=game, nation="austria")
                    assert r["code"] == "nation_taken"
                r = await c.ok("join", game=game, nation=n)
                assert r["nation"] == n
                cs.append(c)
            started_push = await host.wait_push(game, "started")
            assert started_push["phase"] == "S1901M" and started_push["deadline"] == 1_800_000_000 + 86400
            r = await cs[0].ok("legal", game=game, phase="S1901M")
            assert "A vie - gal" in r["options"]["vie"]
    run(go())
