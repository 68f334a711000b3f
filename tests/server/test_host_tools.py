"""Host tools end to end on an in-process server: pause/resume, extend, process now, preview,
rollback, replace, enter orders, advertise; each logged in the history players read."""

from __future__ import annotations

import asyncio
from pathlib import Path

from server.saves.files import ruleset_for
from server.saves.format import parse
from server.saves.verify import verify_bytes

from test_server import FAST, full_game, started
from wsclient import Client, run


def _verifies(data: bytes) -> list[str]:
    """Check the exported save strictly; its records as phase ids and event kinds."""
    report = verify_bytes(data, ruleset_for)
    assert report.ok, report
    save = parse(data).save
    assert save is not None
    return [getattr(r, "event", None) or r.phase for r in save.records]


def test_pause_freezes_and_resume_recomputes_the_deadline(tmp_path: Path) -> None:
    async def go() -> None:
        async with started(tmp_path) as (server, clock, token):
            host, game, p = await full_game(server, token)
            view = await host.ok("game", game=game)
            deadline = view["deadline"]
            clock.advance(1000)  # 2600 s left of 3600
            r = await host.request("pause", game=game)
            assert r["code"] == "bad_message" and r["field"] == "reason"
            r = await p["france"].request("pause", game=game, reason="mine")
            assert r["code"] == "forbidden"
            r = await host.ok("pause", game=game, reason="Easter")
            assert r["status"] == "paused" and r["left"] == 2600
            ev = await p["england"].wait_push(game, "event", kind="pause")
            assert ev["reason"] == "Easter" and ev["by"] == "host"
            clock.advance(100_000)  # far past the old deadline: nothing is processed while paused
            await p["france"].ok("orders", game=game, phase="S1901M", text="A par - bur")  # still accepted
            for n in p:
                await p[n].ok("ready", game=game, phase="S1901M")
            view = await host.ok("game", game=game)
            assert view["status"] == "paused" and view["phase"] == "S1901M" and view["deadline"] is None
            r = await host.request("process", game=game, phase="S1901M")
            assert r["code"] == "bad_state"
            r = await host.ok("resume", game=game, reason="back")
            now = int(clock.now())
            assert r["deadline"] == now + 3600 >= deadline  # left (2600) < resume_min (3600): never the stale one
            await host.wait_push(game, "adjudicated", phase="S1901M")  # everyone was ready: runs at once
            hist = (await p["italy"].ok("history", game=game))["events"]
            assert [(e["kind"], e["reason"]) for e in hist] == [("pause", "Easter"), ("resume", "back")]
            for c in [host, *p.values()]:
                await c.close()
    run(go())


def test_extend_is_bounded_per_phase_and_process_names_the_phase(tmp_path: Path) -> None:
    async def go() -> None:
        async with started(tmp_path) as (server, clock, token):
            settings = {**FAST, "max_extend": 7200}
            host, game, p = await full_game(server, token, settings)
            d0 = (await host.ok("game", game=game))["deadline"]
            r = await host.ok("extend", game=game, phase="S1901M", seconds=3600, reason="travel")
            assert r["deadline"] == d0 + 3600 and r["extended"] == 3600
            r = await host.request("extend", game=game, phase="S1901M", seconds=3601)
            assert r["code"] == "over_limit" and r["field"] == "seconds"
            await host.ok("extend", game=game, phase="S1901M", seconds=3600)
            r = await host.request("extend", game=game, phase="F1901M", seconds=60)
            assert r["code"] == "stale_phase"
            r = await host.request("process", game=game, phase="F1901M")
            assert r["code"] == "stale_phase"
            assert (await host.ok("game", game=game))["phase"] == "S1901M"
            await host.ok("process", game=game, phase="S1901M", reason="all in by PM")
            got = await p["turkey"].wait_push(game, "adjudicated", phase="S1901M")
            assert got["next"] == "F1901M"
            kinds = [e["kind"] for e in (await p["turkey"].ok("history", game=game))["events"]]
            assert kinds == ["extend", "extend", "process"]
            # the bound is per phase: the next phase may be extended again
            await host.ok("extend", game=game, phase="F1901M", seconds=7200)
            for c in [host, *p.values()]:
                await c.close()
    run(go())


def test_preview_is_for_the_host_only_and_changes_nothing(tmp_path: Path) -> None:
    async def go() -> None:
        async with started(tmp_path) as (server, clock, token):
            host, game, p = await full_game(server, token)
            await p["france"].ok("orders", game=game, phase="S1901M", text="A par - bur\nA mar - bur")
            await p["germany"].ok("orders", game=game, phase="S1901M", text="A mun - bur")
            seq = (await host.ok("game", game=game))["seq"]
            got = await host.ok("preview", game=game, phase="S1901M")
            res = {(n, o): r for n, o, r, _ in got["results"]}
            assert res[("france", "A par - bur")] == "fails" and res[("germany", "A mun - bur")] == "fails"
            assert "england" in got["missing"] and got["next"] == "F1901M"
            r = await p["france"].request("preview", game=game, phase="S1901M")
            assert r["code"] == "forbidden"
            view = await host.ok("game", game=game)
            assert view["seq"] == seq + 1 and view["phase"] == "S1901M"  # only the history entry
            assert server.repo is not None and server.repo.phase_count(game) == 0
            assert (await p["france"].ok("game", game=game))["orders"] == ["A par - bur", "A mar - bur"]
            ev = await p["england"].wait_push(game, "event", kind="preview")
            assert ev["by"] == "host" and ev["data"] == {} and b"bur" not in b"".join(p["england"].raw)
            assert all(x.get("event") != "adjudicated" for x in p["england"].pushes.get(game, []))
            for c in [host, *p.values()]:
                await c.close()
    run(go())


def test_rollback_restores_the_phase_and_the_save_keeps_the_superseded_one(tmp_path: Path) -> None:
    async def go() -> None:
        async with started(tmp_path) as (server, clock, token):
            host, game, p = await full_game(server, token)
            start = (await host.ok("game", game=game))["state"]
            await p["france"].ok("orders", game=game, phase="S1901M", text="A par - bur\nF bre - mao\nA mar - spa")
            await host.ok("process", game=game, phase="S1901M")
            first = await host.wait_push(game, "adjudicated", phase="S1901M")
            await p["france"].ok("orders", game=game, phase="F1901M", text="A bur - bel")
            r = await host.request("rollback", game=game, phase="S1901M", reason="x")
            assert r["code"] == "stale_phase"  # the guard names the current phase
            r = await host.ok("rollback", game=game, phase="F1901M", reason="France's orders were mis-entered")
            assert r["phase"] == "S1901M" and r["deadline"] == int(clock.now()) + 3600
            push = await p["austria"].wait_push(game, "rolled_back")
            assert push["state"] == start and push["phase"] == "S1901M"
            view = await p["france"].ok("game", game=game)
            assert view["phase"] == "S1901M" and view["state"] == start
            assert view["orders"] == ["A par - bur", "F bre - mao", "A mar - spa"]  # the orders as they were
            r = await host.request("rollback", game=game, phase="S1901M", reason="again")
            assert r["code"] == "bad_state"  # nothing adjudicated left to undo
            await p["france"].ok("orders", game=game, phase="S1901M", text="A par - pic")
            await host.ok("process", game=game, phase="S1901M")
            got = await p["austria"].wait_for(lambda: [x for x in p["austria"].pushes[game]
                                                       if x["event"] == "adjudicated" and x["seq"] > push["seq"]])
            assert got[0]["next"] == "F1901M" and got[0]["results"] != first["results"]
            records = _verifies((await host.ok("export", game=game))["save"])
            assert records == ["note", "S1901M", "rollback", "note", "S1901M"]  # process, phase, ..., phase again
            save = parse((await host.ok("export", game=game))["save"]).save
            assert save is not None and save.records[2].data == {"to": "S1901M", "superseded": 1}
            assert [e["kind"] for e in (await p["italy"].ok("history", game=game))["events"]] == \
                ["process", "rollback", "process", "export", "export"]
            for c in [host, *p.values()]:
                await c.close()
    run(go())


def test_replace_revokes_the_old_player_and_records_tenures(tmp_path: Path) -> None:
    async def go() -> None:
        async with started(tmp_path) as (server, clock, token):
            host, game, p = await full_game(server, token)
            r = await host.ok("replace", game=game, nation="italy", name="Giulia", reason="moved away")
            assert r["token"].startswith("u") and r["player"] == "Giulia"
            ev = await p["italy"].wait_push(game, "event", kind="replace")
            assert ev["data"] == {"nation": "italy", "old": "Italy", "new": "Giulia"} and ev["reason"] == "moved away"
            r2 = await p["italy"].request("orders", game=game, phase="S1901M", text="A ven H")
            assert r2["code"] == "not_seated"  # the old player's seat is revoked
            new, welcome = await Client.open(server.port, token=r["token"])
            assert [g["nation"] for g in welcome["games"]] == ["italy"]
            assert (await new.ok("orders", game=game, phase="S1901M", text="A ven H"))["orders"] == ["A ven H"]
            # without a name: the seat is vacated and an invite code for it returned
            r = await host.ok("replace", game=game, nation="turkey")
            late, welcome = await Client.open(server.port, invite=r["invite"], name="Tarik")
            assert [g["nation"] for g in welcome["games"]] == ["turkey"]
            assert server.repo is not None
            tenures = [(t["nation"], t["player"], t["reason"]) for t in server.repo.tenures(game)
                       if t["nation"] in ("italy", "turkey")]
            assert tenures == [("italy", "Italy", "replaced by the host"), ("italy", "Giulia", None),
                               ("turkey", "Turkey", "replaced by the host"), ("turkey", "Tarik", None)]
            for c in [host, new, late, *p.values()]:
                await c.close()
    run(go())


def test_host_enters_orders_and_only_that_player_sees_the_text(tmp_path: Path) -> None:
    async def go() -> None:
        async with started(tmp_path) as (server, clock, token):
            host, game, p = await full_game(server, token)
            text = "# from a PM: ZQXJ-CANARY\nA Paris -> Burgundy\nA mar - spa\nA mun - ruh"
            r = await host.ok("enter_orders", game=game, phase="S1901M", nation="france", text=text,
                              reason="sent by forum PM")
            assert r["orders"] == ["A par - bur", "A mar - spa"] and r["rejected"][0]["line"] == 4
            got = await p["france"].wait_push(game, "orders_entered")
            assert got["text"] == text and got["by"] == "host"
            for n in ("england", "germany"):
                await p[n].wait_push(game, "event", kind="enter_orders")
                assert all("ZQXJ-CANARY" not in repr(x) for x in p[n].pushes.get(game, []))
            assert (await p["france"].ok("game", game=game))["orders"] == ["A par - bur", "A mar - spa"]
            r = await host.request("enter_orders", game=game, phase="S1901M", nation="narnia", text="")
            assert r["code"] == "not_found"
            await host.ok("process", game=game, phase="S1901M")
            await host.wait_push(game, "adjudicated", phase="S1901M")
            assert server.repo is not None
            (ph,) = server.repo.phases(game)
            assert ph["orders"]["france"] == [["A par - bur", "host"], ["A mar - spa", "host"]]
            for c in [host, *p.values()]:
                await c.close()
    run(go())


def test_a_standby_takes_over_an_advertised_seat_in_civil_disorder(tmp_path: Path) -> None:
    async def go() -> None:
        async with started(tmp_path) as (server, clock, token):
            host, game, p = await full_game(server, token, {**FAST, "civil_disorder_after": 1})
            r = await host.request("advertise", game=game, nation="russia")
            assert r["code"] == "bad_state"  # Russia is not in civil disorder
            for n in p:
                if n != "russia":
                    await p[n].ok("orders", game=game, phase="S1901M", text="")
            clock.advance(3601)
            got = await host.wait_push(game, "adjudicated", phase="S1901M")
            assert got["civil_disorder"] == ["russia"]
            await host.ok("advertise", game=game, nation="russia")
            assert server.service is not None and server.repo is not None
            _, tok = server.service.add_user("standby", "player")
            sb, _ = await Client.open(server.port, token=tok)
            listed = [g for g in (await sb.ok("games"))["games"] if g["game"] == game][0]
            assert listed["advertised"] == ["russia"] and listed["free"] == []
            await sb.ok("join", game=game, nation="russia")
            assert (await sb.ok("game", game=game))["nation"] == "russia"
            r = await p["russia"].request("orders", game=game, phase="F1901M", text="")
            assert r["code"] == "not_seated"
            tenures = [(t["player"], t["reason"]) for t in server.repo.tenures(game) if t["nation"] == "russia"]
            assert tenures == [("Russia", "standby took over"), ("standby", None)]
            _, tok2 = server.service.add_user("late", "player")
            other, _ = await Client.open(server.port, token=tok2)
            r = await other.request("join", game=game, nation="russia")
            assert r["code"] == "nation_taken"  # taken over: no longer advertised
            assert [g for g in (await other.ok("games"))["games"] if g["game"] == game][0]["advertised"] == []
            for c in [host, sb, other, *p.values()]:
                await c.close()
    run(go())


def test_orders_racing_a_rollback_never_land_in_the_discarded_phase(tmp_path: Path) -> None:
    """A rollback and orders for the phase it discards, sent at the same moment: the orders
    are either stored before the rollback (and discarded with the phase) or refused as
    stale; no orders row survives for a phase the game is no longer at."""
    async def go() -> None:
        async with started(tmp_path) as (server, clock, token):
            host, game, p = await full_game(server, token)
            await host.ok("process", game=game, phase="S1901M")
            await host.wait_push(game, "adjudicated", phase="S1901M")
            for _ in range(5):
                rb, orders = await asyncio.gather(
                    host.request("rollback", game=game, phase="F1901M", reason="race"),
                    p["france"].request("orders", game=game, phase="F1901M", text="A par H"))
                assert rb["type"] == "ok", rb
                assert orders["type"] == "ok" or orders["code"] == "stale_phase", orders
                assert server.repo is not None
                assert server.repo.orders(game, "F1901M") == {}  # nothing left for the discarded phase
                await host.ok("process", game=game, phase="S1901M")
                await host.wait_for(lambda: (server.service.rooms[game].phase == "F1901M"  # type: ignore[union-attr]
                                             and not server.service.rooms[game].closing))  # type: ignore[union-attr]
            for c in [host, *p.values()]:
                await c.close()
    run(go())
