"""Press end to end on an in-process server: who receives what (live and on resync), the
press policy, grey press, the inbox, and release at the end of a game."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from server.net.press import MAX_TEXT, refusal
from test_server import FAST, NATIONS, full_game, server_token, started
from wsclient import Client, run


def frames_with(c: Client, game: str, canary: str) -> list[dict[str, Any]]:
    """Every push (and stray frame) the client got that mentions ``canary``."""
    return [p for p in c.pushes.get(game, []) + c.pushes.get("", []) if canary in repr(p)]


async def watcher(server: Any, game: str, name: str = "watcher") -> Client:
    tok = server.service.add_user(name, "player")[1]
    w, _ = await Client.open(server.port, token=tok)
    await w.ok("watch", game=game)
    return w


async def flush(clients: list[Client], sender: Client, game: str, mark: str) -> None:
    """A broadcast every player and the host receive after everything sent before it."""
    await sender.ok("press", game=game, to=["all"], text=mark)
    for c in clients:
        await c.wait_push(game, "press", text=mark)


def test_private_broadcast_and_host_press_reach_only_their_audience(tmp_path: Path) -> None:
    """Private press reaches its recipients and the sender's connections, broadcast every
    player and the host, host press only the host: never observers or anyone else, live or on
    resync; each inbox holds what its caller may see."""
    async def go() -> None:
        async with started(tmp_path) as (server, _, token):
            host, game, p = await full_game(server, token)
            w = await watcher(server, game)
            england2, _ = await Client.open(server.port, token=server_token(server, "England"))
            r = await p["england"].ok("press", game=game, to=["france", "england"], text="CANARY-PRIV to France")
            assert r["to"] == ["france"] and r["from"] == "england" and r["id"] == 1
            await p["italy"].ok("press", game=game, to=["all"], text="CANARY-BCAST\nfrom Italy\twith a tab")
            await p["austria"].ok("press", game=game, to=["host"], text="CANARY-TOHOST")
            await host.ok("press", game=game, to=["germany"], text="CANARY-FROMHOST")
            await p["turkey"].ok("press", game=game, to=["russia", "host"], text="CANARY-RUHOST")
            everyone = [host, *p.values(), england2]
            await flush(everyone, p["russia"], game, "flush-1")
            allowed = {
                "CANARY-PRIV": {"england", "france", "england2"},
                "CANARY-BCAST": {*NATIONS, "host", "england2"},
                "CANARY-TOHOST": {"austria", "host"},
                "CANARY-FROMHOST": {"germany", "host"},
                "CANARY-RUHOST": {"turkey", "russia", "host"},
            }
            named = {"host": host, "watcher": w, "england2": england2, **p}
            for canary, who in allowed.items():
                for name, c in named.items():
                    got = frames_with(c, game, canary)
                    assert (len(got) == 1) == (name in who), (canary, name, got)
            push = frames_with(p["france"], game, "CANARY-PRIV")[0]
            assert {k: push[k] for k in ("event", "from", "to", "grey", "phase")} == {
                "event": "press", "from": "england", "to": ["france"], "grey": False, "phase": "S1901M"}
            bc = frames_with(host, game, "CANARY-BCAST")[0]
            assert bc["text"] == "CANARY-BCAST\nfrom Italy\twith a tab" and bc["to"] == ["all"]
            assert frames_with(host, game, "CANARY-FROMHOST")[0]["from"] == "host"
            # the game view and the history never hold press
            for c in (w, p["italy"]):
                assert "CANARY" not in repr(await c.ok("game", game=game))
                assert "CANARY" not in repr(await c.ok("history", game=game))
            # resync replays by audience
            for name, tok_name in (("france", "France"), ("italy", "Italy")):
                fresh, _ = await Client.open(server.port, token=server_token(server, tok_name))
                await fresh.ok("resync", game=game, after=0)
                for canary, who in allowed.items():
                    assert bool(frames_with(fresh, game, canary)) == (name in who), (canary, name)
                await fresh.close()
            w2 = await watcher(server, game, "watcher2")
            await w2.ok("resync", game=game, after=0)
            assert w2.pushes[game] and not any("CANARY" in repr(x) for x in w2.pushes[game])
            # inboxes
            def texts(reply: dict[str, Any]) -> list[str]:
                return [m["text"].split("\n")[0].split()[0] for m in reply["messages"]]
            assert texts(await p["france"].ok("inbox", game=game)) == ["CANARY-PRIV", "CANARY-BCAST", "flush-1"]
            assert texts(await p["england"].ok("inbox", game=game)) == ["CANARY-PRIV", "CANARY-BCAST", "flush-1"]
            assert texts(await p["austria"].ok("inbox", game=game)) == ["CANARY-BCAST", "CANARY-TOHOST", "flush-1"]
            assert texts(await host.ok("inbox", game=game)) == [
                "CANARY-BCAST", "CANARY-TOHOST", "CANARY-FROMHOST", "CANARY-RUHOST", "flush-1"]
            assert texts(await p["russia"].ok("inbox", game=game)) == ["CANARY-BCAST", "CANARY-RUHOST", "flush-1"]
            got = await host.ok("inbox", game=game, after=3)
            assert [m["id"] for m in got["messages"]] == [4, 5, 6] and got["more"] is False
            m = got["messages"][0]
            assert m == {"id": 4, "phase": "S1901M", "from": "host", "to": ["germany"], "grey": False,
                         "text": "CANARY-FROMHOST", "time": 1_800_000_000}
            r = await w.request("inbox", game=game)
            assert r["code"] == "forbidden"
            r = await w.request("press", game=game, to=["all"], text="hello")
            assert r["code"] == "forbidden"
            for c in [host, w, w2, england2, *p.values()]:
                await c.close()
    run(go())


def test_bad_press_is_refused_with_the_field(tmp_path: Path) -> None:
    """Empty or self-only recipients, unknown nations, 'all' mixed with names and bad text are
    refused naming the field; nothing refused is stored or pushed."""
    async def go() -> None:
        async with started(tmp_path) as (server, _, token):
            host, game, p = await full_game(server, token)
            fr = p["france"]
            cases = [
                (dict(to=[], text="x"), "bad_message", "to"),
                (dict(to=["france"], text="x"), "bad_message", "to"),
                (dict(to=["narnia"], text="x"), "not_found", "to"),
                (dict(to=["all", "italy"], text="x"), "bad_message", "to"),
                (dict(to=["italy"], text=""), "bad_message", "text"),
                (dict(to=["italy"], text="x" * (MAX_TEXT + 1)), "bad_message", "text"),
                (dict(to=["italy"], text="CANARY-BELL\x07"), "bad_message", "text"),
                (dict(to=["italy"], text="x", grey=True), "press_refused", "grey"),
            ]
            for fields, code, field in cases:
                r = await fr.request("press", game=game, **fields)
                assert (r["code"], r["field"]) == (code, field), (fields, r)
                assert "CANARY" not in r["message"]
            assert (await fr.ok("press", game=game, to=["italy"], text="x" * MAX_TEXT))["id"] == 1
            assert [m["id"] for m in (await p["italy"].ok("inbox", game=game))["messages"]] == [1]
            db = sqlite3.connect(tmp_path / "k.db")
            assert db.execute("SELECT COUNT(*) FROM press").fetchone() == (1,)
            assert db.execute("SELECT COUNT(*) FROM pushes WHERE frame LIKE '%CANARY%'").fetchone() == (0,)
    run(go())


def test_press_policy_refusals_name_the_rule(tmp_path: Path) -> None:
    """'public' refuses private press, 'none' refuses press between players, and either way
    players may still write to the host and the host to players (forming games included)."""
    async def go() -> None:
        async with started(tmp_path) as (server, _, token):
            host, _ = await Client.open(server.port, token=token)
            seated: dict[str, dict[str, Client]] = {}
            for rule in ("public", "none"):
                game = (await host.ok("create_game", ruleset="classic", title=rule, settings={"press": rule}))["game"]
                seated[game] = {}
                for n in ("france", "italy"):
                    tok = server.service.add_user(f"{rule}-{n}", "player")[1]  # type: ignore[union-attr]
                    c, _ = await Client.open(server.port, token=tok)
                    await c.ok("join", game=game, nation=n)
                    seated[game][n] = c
                fr = seated[game]["france"]
                r = await fr.request("press", game=game, to=["italy"], text="private")
                assert r["code"] == "press_refused" and r["field"] == "to"
                assert f"press rule is '{rule}'" in r["message"]
                r = await fr.request("press", game=game, to=["italy", "host"], text="private, host copied")
                assert r["code"] == "press_refused"
                r = await fr.request("press", game=game, to=["all"], text="public")
                if rule == "public":
                    assert r["type"] == "ok"
                else:
                    assert r["code"] == "press_refused" and "'none'" in r["message"] and r["field"] == "to"
                await fr.ok("press", game=game, to=["host"], text="to the GM")
                await host.ok("press", game=game, to=["italy"], text="from the GM")
                await host.ok("press", game=game, to=["all"], text="GM to all")
                got = [m["text"] for m in (await seated[game]["italy"].ok("inbox", game=game))["messages"]]
                assert got == (["public"] if rule == "public" else []) + ["from the GM", "GM to all"]
    run(go())


def test_refusal_matrix() -> None:
    """The policy function: each rule, the host exemption, the phase rule, the end of a game."""
    base = {"press": "full", "grey_press": False, "press_in_all_phases": False}
    assert refusal(base, "active", "movement", "france", ["italy"], False) is None
    for kind in ("retreat", "adjustment"):
        e = refusal(base, "active", kind, "france", ["italy"], False)
        assert e is not None and e.field == "game" and "press_in_all_phases" in e.message and kind in e.message
        assert refusal(base, "active", kind, "france", ["all"], False) is not None
        assert refusal(base, "active", kind, "france", ["host"], False) is None
        assert refusal(base, "active", kind, "host", ["italy"], False) is None
        assert refusal({**base, "press_in_all_phases": True}, "active", kind, "france", ["italy"], False) is None
        assert refusal(base, "finished", kind, "france", ["italy"], False) is None
    e = refusal(base, "active", "movement", "france", ["italy"], True)
    assert e is not None and e.field == "grey" and "grey_press" in e.message
    assert refusal({**base, "grey_press": True}, "active", "movement", "france", ["italy"], True) is None
    none = {**base, "press": "none"}
    assert refusal(none, "paused", "movement", "france", ["all"], False) is not None
    assert refusal(none, "quarantined", "movement", "host", ["all"], False) is None
    assert refusal(none, "finished", "movement", "france", ["italy"], False) is None


def test_press_refused_between_players_in_retreat_and_adjustment_phases(tmp_path: Path) -> None:
    """By default (press_in_all_phases off) players cannot write to each other during a
    retreat or an adjustment phase, naming the rule; the host channel stays open."""
    async def go() -> None:
        async with started(tmp_path) as (server, _, token):
            host, game, p = await full_game(server, token)

            async def play(phase: str, orders: dict[str, str]) -> None:
                for n, text in orders.items():
                    await p[n].ok("orders", game=game, phase=phase, text=text)
                view = await host.ok("game", game=game)
                for n in view["acting"]:
                    await p[n].ok("ready", game=game, phase=phase)
                await host.wait_push(game, "adjudicated", phase=phase)

            await play("S1901M", {"france": "A par - pic", "germany": "A mun - bur"})
            await p["france"].ok("press", game=game, to=["germany"], text="fall is coming")
            await play("F1901M", {"france": "A pic - bur\nA mar S A pic - bur"})
            for phase, kind in (("F1901R", "retreat"), ("W1901A", "adjustment")):
                view = await host.ok("game", game=game)
                assert view["phase"] == phase
                for to in (["germany"], ["all"]):
                    r = await p["france"].request("press", game=game, to=to, text="CANARY-NOT-NOW")
                    assert r["code"] == "press_refused" and r["field"] == "game"
                    assert "'press_in_all_phases' is off" in r["message"] and kind in r["message"]
                await p["germany"].ok("press", game=game, to=["host"], text=f"GM, about {phase}")
                await host.ok("press", game=game, to=["germany"], text=f"ok, {phase}")
                if phase == "F1901R":
                    await play("F1901R", {})
            got = [m["text"] for m in (await p["germany"].ok("inbox", game=game))["messages"]]
            assert got == ["fall is coming", "GM, about F1901R", "ok, F1901R", "GM, about W1901A", "ok, W1901A"]
    run(go())


def test_grey_press_hides_the_sender(tmp_path: Path) -> None:
    """With grey press on, the recipients' frames, resync and inbox say from: null; only the
    sender's own copy names them."""
    async def go() -> None:
        async with started(tmp_path) as (server, _, token):
            host, game, p = await full_game(server, token, {**FAST, "grey_press": True})
            r = await p["france"].ok("press", game=game, to=["england", "germany"], text="CANARY-GREY", grey=True)
            assert r["from"] == "france"
            await p["turkey"].ok("press", game=game, to=["all"], text="CANARY-GREYALL", grey=True)
            await flush([host, *p.values()], p["russia"], game, "flush")
            for n in ("england", "germany"):
                got = frames_with(p[n], game, "CANARY-GREY'")
                assert len(got) == 1 and got[0]["from"] is None and got[0]["grey"] is True
                assert "france" not in repr(got[0])
            own = frames_with(p["france"], game, "CANARY-GREY'")
            assert len(own) == 1 and own[0]["from"] == "france" and own[0]["to"] == ["england", "germany"]
            for name, c in [("host", host), ("italy", p["italy"])]:
                assert frames_with(c, game, "CANARY-GREY'") == [], name
            for name, c in [("host", host), *p.items()]:
                got = frames_with(c, game, "CANARY-GREYALL")
                assert len(got) == 1, name
                assert got[0]["from"] == ("turkey" if name == "turkey" else None), name
            fresh, _ = await Client.open(server.port, token=server_token(server, "England"))
            await fresh.ok("resync", game=game, after=0)
            got = frames_with(fresh, game, "CANARY-GREY")
            assert [g["from"] for g in got] == [None, None]
            inbox = (await p["england"].ok("inbox", game=game))["messages"]
            assert [(m["from"], m["grey"]) for m in inbox[:2]] == [(None, True), (None, True)]
            inbox = (await p["france"].ok("inbox", game=game))["messages"]
            assert [(m["text"], m["from"]) for m in inbox[:2]] == [("CANARY-GREY", "france"), ("CANARY-GREYALL", None)]
    run(go())


async def _draw(game: str, p: dict[str, Client]) -> None:
    for n in NATIONS:
        await p[n].ok("vote", game=game, phase="S1901M", kind="draw", value=True)


def test_press_is_released_at_the_end_only_when_the_setting_is_on(tmp_path: Path) -> None:
    """Private and grey press stay hidden until the game ends; then, with release_press on,
    everyone (observers too) gets it, grey press still anonymous; with it off, never."""
    async def go() -> None:
        for release in (True, False):
            (tmp_path / str(release)).mkdir()
            async with started(tmp_path / str(release)) as (server, _, token):
                host, game, p = await full_game(server, token, {**FAST, "grey_press": True, "release_press": release})
                w = await watcher(server, game, f"watcher-{release}")
                await p["england"].ok("press", game=game, to=["france"], text="CANARY-SECRET")
                await p["austria"].ok("press", game=game, to=["russia"], text="CANARY-ANON", grey=True)
                await flush([host, *p.values()], p["russia"], game, "before the end")
                for c in (w, p["italy"]):
                    assert frames_with(c, game, "CANARY") == []
                    assert not any(m["text"].startswith("CANARY") for m in
                                   (await p["italy"].ok("inbox", game=game))["messages"])
                await _draw(game, p)
                await w.wait_push(game, "summary")
                if release:
                    rel = await w.wait_push(game, "press_released")
                    assert (rel["part"], rel["parts"]) == (1, 1)
                    msgs = {m["text"]: m for m in rel["messages"]}
                    assert msgs["CANARY-SECRET"]["from"] == "england" and msgs["CANARY-SECRET"]["to"] == ["france"]
                    assert msgs["CANARY-ANON"]["from"] is None and msgs["CANARY-ANON"]["grey"] is True
                    assert "austria" not in repr(msgs["CANARY-ANON"])
                    inbox = (await p["italy"].ok("inbox", game=game))["messages"]
                    assert [m["text"] for m in inbox if m["text"].startswith("CANARY")] == ["CANARY-SECRET", "CANARY-ANON"]
                    assert [m["from"] for m in inbox if m["text"] == "CANARY-ANON"] == [None]
                else:
                    await host.ok("press", game=game, to=["all"], text="after the end")
                    await p["italy"].wait_push(game, "press", text="after the end")
                    for c in (w, p["italy"]):
                        assert frames_with(c, game, "CANARY") == []
                    inbox = (await p["italy"].ok("inbox", game=game))["messages"]
                    assert not any(m["text"].startswith("CANARY") for m in inbox)
                # press is never in the game view or the event history
                for c in (w, p["italy"]):
                    assert "CANARY" not in repr(await c.ok("game", game=game))
                    assert "CANARY" not in repr(await c.ok("history", game=game))
                for c in [host, w, *p.values()]:
                    await c.close()
    run(go(), timeout=60)


def test_one_sender_is_held_to_a_press_quota(tmp_path: Path) -> None:
    """Every message is stored: one nation may send at most 30 a minute in a game, then gets
    ``rate_limited`` (nothing stored) until the minute has passed; others are unaffected."""
    from server.net.press import MAX_PER_MINUTE

    async def go() -> None:
        async with started(tmp_path) as (server, clock, token):
            host, game, p = await full_game(server, token)
            for i in range(MAX_PER_MINUTE):
                await p["france"].ok("press", game=game, to=["all"], text=f"m{i}")
            r = await p["france"].request("press", game=game, to=["all"], text="one too many")
            assert r["code"] == "rate_limited" and r["field"] == "text" and "one too many" not in r["message"]
            await p["italy"].ok("press", game=game, to=["france"], text="I may still write")
            assert server.repo is not None
            stored = server.repo.db.execute("SELECT COUNT(*) FROM press WHERE game = ? AND sender = 'france'",
                                            (game,)).fetchone()[0]
            assert stored == MAX_PER_MINUTE
            clock.advance(61)
            await p["france"].ok("press", game=game, to=["all"], text="a minute later")
            for c in [host, *p.values()]:
                await c.close()
    run(go())
