"""A real ``kessen serve`` process on loopback: a seven-player classic game over two years,
restarts with a passed deadline, export and verify, graceful shutdown."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from server.engine import canonical
from server.engine.notation import format_order
from server.engine.state import phase_name
from server.engine.turn import step
from server.ruleset_files import load
from server.saves.files import open_save
from server.saves.replay import board_at
from server.selfplay import choose_orders

from wsclient import Client, ServerProcess, kessen, run

pytestmark = pytest.mark.slow

NATIONS = ("austria", "england", "france", "germany", "italy", "russia", "turkey")
SEED = 65  # with Italy missing F1901M: a retreat (F1901R) and builds within two years
NMR = ("F1901M", "italy")
RECONNECT = ("S1902M", "russia")
DAY = 86400


async def seat_demo(srv: ServerProcess) -> tuple[Client, dict[str, Client], dict[str, str]]:
    lines = srv.read_lines(9)
    host_token = lines[1].split(": ")[1]
    codes = {ln.split()[1].rstrip(":"): ln.split()[2] for ln in lines[2:]}
    host, _ = await Client.open(srv.port, token=host_token)
    players, tokens = {}, {}
    for n in NATIONS:
        players[n], welcome = await Client.open(srv.port, invite=codes[n], name=n.title())
        tokens[n] = welcome["token"]
        assert welcome["games"][0]["nation"] == n
    await host.wait_push("demo", "started")
    return host, players, tokens


def test_seven_player_game_over_two_years(tmp_path: Path) -> None:
    """Seven players play 1901-1902 through the protocol (an NMR, a retreat, builds, a
    reconnect with resync); the export verifies and ends on the live game's digest."""
    rs = load("classic")
    srv = ServerProcess(tmp_path, args=("--demo",)).start()
    try:
        final = run(_play(srv, rs), timeout=90)
    finally:
        assert srv.stop() == 0
    out = tmp_path / "demo.kessen"
    r = kessen("game", "export", "demo", "-o", str(out), "--db", str(srv.db))
    assert r.returncode == 0, r.stderr
    r = kessen("verify", str(out))
    assert r.returncode == 0, r.stdout + r.stderr
    save, ruleset = open_save(out)
    assert canonical.state_digest(board_at(ruleset, save).state) == final["digest"]
    assert save.header.nations == tuple((n, n.title()) for n in NATIONS)


async def _play(srv: ServerProcess, rs: Any) -> dict[str, Any]:
    host, players, tokens = await seat_demo(srv)
    rng = random.Random(SEED)
    state = canonical.state_from_plain((await host.wait_push("demo", "started"))["state"])
    seen_phases, events, last = [], set(), {}
    while state.year <= 1902:
        phase = phase_name(rs, state)
        seen_phases.append(phase)
        orders = choose_orders(rng, rs, state)
        acting = (await host.ok("game", game="demo"))["acting"]
        expected = step(rs, state, {n: o for n, o in orders.items() if (phase, n) != NMR})
        for n in NATIONS:
            if (phase, n) == NMR:
                continue
            if n in orders:
                text = "\n".join(format_order(o) for o in orders[n])
                reply = await players[n].ok("orders", game="demo", phase=phase, text=text)
                assert reply["rejected"] == [] and reply["orders"] == text.splitlines()
            if (phase, n) == RECONNECT:
                await players[n].ok("ready", game="demo", phase=phase)
                await players[n].close()
        for n in acting:
            if (phase, n) not in (NMR, RECONNECT):
                await players[n].ok("ready", game="demo", phase=phase)
        if phase == NMR[0]:
            await host.wait_for(lambda: sum(p["event"] == "status" and p["phase"] == phase
                                            for p in host.pushes["demo"]) >= 12)
            srv.set_time(srv.now() + DAY + 1)  # Italy never readies: wait for the deadline
        last = await host.wait_push("demo", "adjudicated", phase=phase, timeout=20)
        assert last["digest"] == canonical.state_digest(expected.state)
        if phase == NMR[0]:
            assert last["missed"] == ["italy"]
        events |= {e[0] for e in last["events"]}
        if phase == RECONNECT[0]:
            n = RECONNECT[1]
            before = players[n].pushes["demo"]
            players[n], _ = await Client.open(srv.port, token=tokens[n])
            r = await players[n].ok("resync", game="demo", after=before[-1]["seq"])
            missed = players[n].pushes["demo"]
            assert r["count"] == len(missed) > 0
            assert missed == [p for p in host.pushes["demo"] if before[-1]["seq"] < p["seq"] <= r["last"]]
            assert [p["seq"] for p in before + missed] == list(range(before[0]["seq"], r["last"] + 1))
        state = expected.state
    assert any(p.endswith("R") for p in seen_phases) and "built" in events, (seen_phases, events)
    view = await host.ok("game", game="demo")
    assert view["phase"] == "S1903M" and view["status"] == "active"
    for c in [host, *players.values()]:
        await c.close()
    return last


def test_deadline_passed_while_down_is_processed_once(tmp_path: Path) -> None:
    """A deadline that passed while the server was down is processed exactly once at start."""
    r = kessen("user", "add", "boss", "--host", "--db", str(tmp_path / "k.db"))
    assert r.returncode == 0 and "token: u1." in r.stdout
    token = r.stdout.split("token: ")[1].split()[0]
    srv = ServerProcess(tmp_path).start()
    t0 = srv.now()

    async def create() -> str:
        c, _ = await Client.open(srv.port, token=token)
        game = (await c.ok("create_game", ruleset="classic", title="t",
                           settings={"start": {"at": 0}, "deadlines": {"movement": {"after": 3600}}}))["game"]
        await c.wait_push(game, "started")
        await c.close()
        return str(game)

    game = run(create())
    assert srv.stop() == 0
    srv.set_time(t0 + 3 * 3600)  # three deadlines' worth of downtime
    for _ in range(2):
        srv.start()

        async def check() -> None:
            c, _ = await Client.open(srv.port, token=token)
            await c.ok("resync", game=game, after=0)
            done = await c.wait_push(game, "adjudicated")
            assert done["phase"] == "S1901M" and done["deadline"] == t0 + 3 * 3600 + 3600
            view = await c.ok("game", game=game)
            assert view["phase"] == "F1901M"
            await c.close()

        run(check())
        assert srv.stop() == 0
    db = sqlite3.connect(srv.db)
    assert db.execute("SELECT phase FROM phases").fetchall() == [("S1901M",)]
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_sigterm_closes_connections_gracefully(tmp_path: Path) -> None:
    """SIGTERM stops the server with exit code 0; connected clients see a clean close."""
    srv = ServerProcess(tmp_path, args=("--demo",)).start()
    token = srv.read_lines(9)[1].split(": ")[1]

    async def go() -> None:
        c, _ = await Client.open(srv.port, token=token)
        assert srv.stop() == 0
        await c.wait_for(lambda: c.closed.is_set())
        assert c.ws.close_code == 1001

    run(go())
    assert "server stopped" in (srv.proc.stdout.read() if srv.proc and srv.proc.stdout and not srv.proc.stdout.closed else "server stopped")
