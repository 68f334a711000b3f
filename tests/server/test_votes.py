"""Draw votes and concession end to end on an in-process server, and the end-of-game summary
(also after a restart that lost it)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import attrs
import msgpack
import pytest

from server.net.app import Server
from server.net.clock import FakeClock
from server.net.config import Config
from server.net.service import Service
from server.net.votes import agreement
from test_server import FAST, NATIONS, full_game, server_token, started
from wsclient import Client, run


async def vote(c: Client, game: str, kind: str = "draw", value: bool = True, phase: str = "S1901M") -> dict[str, Any]:
    return await c.ok("vote", game=game, phase=phase, kind=kind, value=value)


async def watcher(server: Any, game: str) -> Client:
    w, _ = await Client.open(server.port, token=server.service.add_user("watcher", "player")[1])
    await w.ok("watch", game=game)
    return w


def events(c: Client, game: str, name: str) -> list[dict[str, Any]]:
    return [p for p in c.pushes.get(game, []) if p["event"] == name]


def test_secret_votes_are_seen_only_by_the_voter(tmp_path: Path) -> None:
    """With secret draw votes (the default) only the voter's own nation is told of its vote:
    other players, the host and observers learn nothing."""
    async def go() -> None:
        async with started(tmp_path) as (server, _, token):
            host, game, p = await full_game(server, token)
            w = await watcher(server, game)
            r = await vote(p["france"], game)
            assert r["counted"] is True and r["kind"] == "draw" and r["value"] is True
            mine = await p["france"].wait_push(game, "vote")
            assert (mine["nation"], mine["kind"], mine["value"]) == ("france", "draw", True)
            await p["germany"].ok("orders", game=game, phase="S1901M", text="")  # a push everyone gets after
            for c in [host, w, *p.values()]:
                await c.wait_push(game, "status", nation="germany")
            for name, c in [("host", host), ("watcher", w), *p.items()]:
                assert bool(events(c, game, "vote")) == (name == "france"), name
            for c in (host, w, p["italy"]):
                await c.ok("resync", game=game, after=0)
                assert events(c, game, "vote") == []
                assert not any("vote" in k for k in await c.ok("game", game=game))
    run(go())


def test_public_votes_are_pushed_to_everyone(tmp_path: Path) -> None:
    """With draw_votes public every subscriber sees each vote as it is cast or changed."""
    async def go() -> None:
        async with started(tmp_path) as (server, _, token):
            host, game, p = await full_game(server, token, {**FAST, "draw_votes": "public"})
            w = await watcher(server, game)
            await vote(p["france"], game)
            await vote(p["france"], game, value=False)
            for c in [host, w, *p.values()]:
                await c.wait_for(lambda c=c: len(events(c, game, "vote")) == 2)
                assert [(v["nation"], v["value"]) for v in events(c, game, "vote")] == [("france", True), ("france", False)]
    run(go())


def test_unanimous_draw_ends_the_game_with_a_summary(tmp_path: Path) -> None:
    """When the last surviving nation votes draw the game ends: 'ended' (result draw, all
    seven survivors), a 'summary' with centres per year and tenures, orders and votes refused."""
    async def go() -> None:
        async with started(tmp_path) as (server, _, token):
            host, game, p = await full_game(server, token)
            await p["france"].ok("orders", game=game, phase="S1901M", text="A par - bur")
            for n in NATIONS:
                await p[n].ok("ready", game=game, phase="S1901M")
            await host.wait_push(game, "adjudicated", phase="S1901M")
            await vote(p["italy"], game, phase="F1901M", value=False)
            for n in NATIONS[:-1]:
                await vote(p[n], game, phase="F1901M")
            await vote(p["italy"], game, phase="F1901M")  # changed its mind: now unanimous ...
            await asyncio.sleep(0.1)
            assert events(host, game, "ended") == []  # ... but turkey has not voted
            await vote(p["turkey"], game, phase="F1901M")
            ended = await host.wait_push(game, "ended")
            assert {k: ended[k] for k in ("result", "winner", "survivors", "phase")} == {
                "result": "draw", "winner": None, "survivors": list(NATIONS), "phase": "F1901M"}
            summary = await p["italy"].wait_push(game, "summary")
            assert summary["seq"] > ended["seq"]
            assert summary["result"] == "draw" and summary["winner"] is None and summary["survivors"] == list(NATIONS)
            assert summary["centres_by_year"] == {"1901": {"austria": 3, "england": 3, "france": 3, "germany": 3,
                                                           "italy": 3, "russia": 4, "turkey": 3}}
            assert sorted(t["nation"] for t in summary["tenures"]) == list(NATIONS)
            assert {t["player"] for t in summary["tenures"]} == {n.title() for n in NATIONS}
            view = await host.ok("game", game=game)
            assert view["status"] == "finished" and view["deadline"] is None
            r = await p["france"].request("orders", game=game, phase="F1901M", text="")
            assert r["code"] == "game_over"
            r = await p["france"].request("vote", game=game, phase="F1901M", kind="draw", value=False)
            assert r["code"] == "game_over"
            hist = [e["kind"] for e in (await p["italy"].ok("history", game=game))["events"]]
            assert hist == ["draw", "summary"]
            db = sqlite3.connect(tmp_path / "k.db")
            assert db.execute("SELECT status, result, deadline FROM games WHERE id = ?", (game,)).fetchone() == \
                ("finished", "draw", None)
    run(go())


def test_a_nation_in_civil_disorder_does_not_block_a_draw(tmp_path: Path) -> None:
    """Italy misses S1901M and falls into civil disorder; the six others' draw votes are
    enough, and Italy is still among the survivors of the draw."""
    async def go() -> None:
        async with started(tmp_path) as (server, clock, token):
            host, game, p = await full_game(server, token, {**FAST, "civil_disorder_after": 1})
            for n in NATIONS:
                if n != "italy":
                    await p[n].ok("orders", game=game, phase="S1901M", text="")
            clock.advance(3600)
            res = await host.wait_push(game, "adjudicated", phase="S1901M")
            assert res["civil_disorder"] == ["italy"]
            r = await vote(p["italy"], game, value=False, phase="F1901M")
            assert r["counted"] is False
            others = [n for n in NATIONS if n != "italy"]
            for n in others[:-1]:
                await vote(p[n], game, phase="F1901M")
            await asyncio.sleep(0.1)
            assert events(host, game, "ended") == []
            await vote(p[others[-1]], game, phase="F1901M")
            ended = await host.wait_push(game, "ended")
            assert ended["result"] == "draw" and ended["survivors"] == list(NATIONS)
    run(go())


def test_concession_to_the_unique_leader(tmp_path: Path) -> None:
    """Russia (4 centres to everyone else's 3) leads alone; the leader cannot concede; when
    the six others concede Russia wins by concession."""
    async def go() -> None:
        async with started(tmp_path) as (server, _, token):
            host, game, p = await full_game(server, token)
            r = await p["russia"].request("vote", game=game, phase="S1901M", kind="concede", value=True)
            assert r["code"] == "bad_state" and r["field"] == "kind"
            others = [n for n in NATIONS if n != "russia"]
            for n in others[:-1]:
                await vote(p[n], game, kind="concede")
            await vote(p["russia"], game, kind="draw")  # a draw vote does not count as a concession
            await asyncio.sleep(0.1)
            assert events(host, game, "ended") == []
            await vote(p[others[-1]], game, kind="concede")
            ended = await host.wait_push(game, "ended")
            assert (ended["result"], ended["winner"]) == ("concession", "russia")
            summary = await host.wait_push(game, "summary")
            assert (summary["result"], summary["winner"]) == ("concession", "russia")
            hist = (await p["italy"].ok("history", game=game))["events"]
            assert [e["kind"] for e in hist] == ["concession", "summary"] and hist[0]["data"]["winner"] == "russia"
    run(go())


def test_a_tie_for_the_lead_refuses_concession(tmp_path: Path) -> None:
    """With Austria on four centres too, nobody leads alone: conceding is bad_state (and
    withdrawing a concession is still accepted)."""
    async def go() -> None:
        async with started(tmp_path) as (server, _, token):
            host, game, p = await full_game(server, token)
            room = server.service.rooms[game]  # type: ignore[union-attr]
            room.state = attrs.evolve(room.state, centres=tuple(sorted((*room.state.centres, ("ser", "austria")))))
            r = await p["france"].request("vote", game=game, phase="S1901M", kind="concede", value=True)
            assert r["code"] == "bad_state" and "tie" in r["message"]
            await vote(p["france"], game, kind="concede", value=False)
    run(go())


def test_votes_name_the_current_phase(tmp_path: Path) -> None:
    """A vote naming another phase, or a phase already processed, is refused as stale_phase;
    an unknown kind is bad_message; observers cannot vote."""
    async def go() -> None:
        async with started(tmp_path) as (server, _, token):
            host, game, p = await full_game(server, token)
            r = await p["france"].request("vote", game=game, phase="F1901M", kind="draw", value=True)
            assert r["code"] == "stale_phase" and r["field"] == "phase"
            r = await p["france"].request("vote", game=game, phase="S1901M", kind="surrender", value=True)
            assert r["code"] == "bad_message" and r["field"] == "kind"
            r = await host.request("vote", game=game, phase="S1901M", kind="draw", value=True)
            assert r["code"] == "not_seated"
            for n in NATIONS:
                await p[n].ok("ready", game=game, phase="S1901M")
            await host.wait_push(game, "adjudicated", phase="S1901M")
            r = await p["france"].request("vote", game=game, phase="S1901M", kind="draw", value=True)
            assert r["code"] == "stale_phase"
            assert sqlite3.connect(tmp_path / "k.db").execute("SELECT COUNT(*) FROM votes").fetchone() == (0,)
    run(go())


def test_an_elimination_completes_a_draw(tmp_path: Path) -> None:
    """Votes stand across phases; a nation that no longer survives stops counting, so the
    draw the others agreed on happens after the phase that removed it."""
    async def go() -> None:
        async with started(tmp_path) as (server, _, token):
            host, game, p = await full_game(server, token)
            others = [n for n in NATIONS if n != "italy"]
            for n in others:
                await vote(p[n], game)
            await asyncio.sleep(0.1)
            assert events(host, game, "ended") == []
            room = server.service.rooms[game]  # type: ignore[union-attr]
            room.state = attrs.evolve(room.state, units=tuple(u for u in room.state.units if u.nation != "italy"),
                                      centres=tuple(c for c in room.state.centres if c[1] != "italy"))
            room._acting = room._due = None
            r = await p["italy"].request("vote", game=game, phase="S1901M", kind="draw", value=False)
            assert r["code"] == "bad_state"
            for n in others:
                await p[n].ok("ready", game=game, phase="S1901M")
            ended = await host.wait_push(game, "ended")
            assert ended["result"] == "draw" and ended["phase"] == "F1901M" and ended["survivors"] == others
    run(go())


def test_agreement_rules() -> None:
    """Draws need everyone counted (and two survivors); concession everyone but the leader."""
    both = {("a", "draw"): True, ("b", "draw"): True}
    assert agreement(["a", "b"], ["a", "b"], None, both) == ("draw", None)
    assert agreement(["a"], ["a"], "a", {("a", "draw"): True}) is None
    assert agreement(["a", "b", "c"], ["a", "b"], None, both) == ("draw", None)  # c: civil disorder
    assert agreement(["a", "b", "c"], ["a", "b", "c"], None, both) is None
    assert agreement(["a", "b"], [], "a", {}) is None
    assert agreement(["a", "b", "c"], ["a", "b", "c"], "a", {("b", "concede"): True}) is None
    assert agreement(["a", "b", "c"], ["a", "b", "c"], "a", {("b", "concede"): True, ("c", "concede"): True}) == \
        ("concession", "a")
    assert agreement(["a", "b"], ["a"], "a", {}) is None  # nobody but the leader counts


def test_the_summary_is_written_once_even_after_a_lost_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A game whose end committed but whose summary was never written (the process died in
    between) gets exactly one summary when the server starts again, and no more after."""
    monkeypatch.setattr(Service, "game_ended", lambda self, room: None)  # the summary is lost

    async def end() -> str:
        async with started(tmp_path) as (server, _, token):
            host, game, p = await full_game(server, token)
            for n in NATIONS:
                await vote(p[n], game)
            await host.wait_push(game, "ended")
            for c in [host, *p.values()]:
                await c.close()
            return str(game)

    game = run(end())
    db = sqlite3.connect(tmp_path / "k.db")

    def summaries() -> list[Any]:
        return [msgpack.unpackb(r[0]) for r in
                db.execute("SELECT data FROM events WHERE game = ? AND kind = 'summary'", (game,))]

    assert summaries() == []
    monkeypatch.undo()

    async def restart() -> dict[str, Any]:
        async with Server(Config(db=str(tmp_path / "k.db"), port=0, tick=0.02), clock=FakeClock()) as server:
            host, _ = await Client.open(server.port, token=server_token(server, "host"))
            await host.ok("resync", game=game, after=0)
            summary = await host.wait_push(game, "summary")
            await host.close()
            return summary

    pushed = run(restart())
    assert pushed["result"] == "draw" and pushed["survivors"] == list(NATIONS)
    assert [s["result"] for s in summaries()] == ["draw"]
    run(restart())
    assert len(summaries()) == 1


def test_vacating_the_last_holdout_seat_completes_a_standing_draw(tmp_path: Path) -> None:
    """Six nations vote for a draw; Italy has not. The host vacates Italy's seat (its player
    is gone): a seat without a player does not count, so the standing votes end the game."""
    async def go() -> None:
        async with started(tmp_path) as (server, _, token):
            host, game, p = await full_game(server, token)
            for n in p:
                if n != "italy":
                    await p[n].ok("vote", game=game, phase="S1901M", kind="draw", value=True)
            view = await host.ok("game", game=game)
            assert view["status"] == "active"
            await host.ok("replace", game=game, nation="italy", reason="gone")
            ended = await host.wait_push(game, "ended")
            assert ended["result"] == "draw" and "italy" in ended["survivors"]
            for c in [host, *p.values()]:
                await c.close()
    run(go())
