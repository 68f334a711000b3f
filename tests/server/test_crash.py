"""Crash tests: kill -9 the server at named points and at random times, restart, check that no
acknowledged order is lost, nothing is duplicated, no phase is half-adjudicated, SQLite's
integrity check passes and deadlines that passed are processed exactly once."""

from __future__ import annotations

import asyncio
import os
import random
import sqlite3
from pathlib import Path
from typing import Any

import msgpack
import pytest
from websockets.exceptions import ConnectionClosed

from server.engine import canonical
from server.engine.notation import format_order
from server.net.faults import POINTS
from server.ruleset_files import load
from server.selfplay import choose_orders

from wsclient import Client, ServerProcess, run

pytestmark = pytest.mark.slow

NATIONS = ("austria", "england", "france", "germany", "italy", "russia", "turkey")


def check_db(path: Path, acked: dict[tuple[str, str], str]) -> dict[str, Any]:
    """Assert the invariants on a database the server left behind; returns a summary."""
    db = sqlite3.connect(path)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        phases = db.execute("SELECT idx, phase, digest FROM phases WHERE game = 'demo' ORDER BY idx").fetchall()
        assert [p[0] for p in phases] == list(range(len(phases)))
        assert len({p[1] for p in phases}) == len(phases)
        phase, state, seq, status, result = db.execute(
            "SELECT phase, state, seq, status, result FROM games WHERE id = 'demo'").fetchone()
        assert status in ("forming", "active") or (status, result) == ("finished", "victory")  # long soaks end
        st = canonical.state_from_plain(msgpack.unpackb(state, raw=False))
        if phases:
            assert canonical.state_digest(st) == phases[-1][2]  # the board moved with its phase row
        frames = [msgpack.unpackb(f, raw=False) for (f,) in db.execute(
            "SELECT frame FROM pushes WHERE game = 'demo' ORDER BY seq")]
        assert [f["seq"] for f in frames] == list(range(1, seq + 1))
        assert [f["phase"] for f in frames if f["event"] == "adjudicated"] == [p[1] for p in phases]
        for (ph, nation), text in acked.items():
            row = db.execute("SELECT text FROM orders WHERE game = 'demo' AND phase = ? AND nation = ?",
                             (ph, nation)).fetchone()
            assert row is not None and row[0] == text, (ph, nation, text, row)
        return {"phase": phase, "phases": len(phases), "seq": seq, "status": status}
    finally:
        db.close()


async def seat(srv: ServerProcess) -> tuple[str, dict[str, str]]:
    lines = srv.read_lines(9)
    host = lines[1].split(": ")[1]
    codes = {ln.split()[1].rstrip(":"): ln.split()[2] for ln in lines[2:]}
    tokens = {}
    for n in NATIONS:
        c, welcome = await Client.open(srv.port, invite=codes[n], name=n)
        tokens[n] = welcome["token"]
        await c.close()
    return host, tokens


async def play(srv: ServerProcess, tokens: dict[str, str], acked: dict[tuple[str, str], str],
               rng: random.Random, rounds: int = 1000) -> None:
    """Every player submits orders and readies, phase after phase, until the server dies."""
    rs = load("classic")

    async def player(n: str) -> None:
        c, _ = await Client.open(srv.port, token=tokens[n])
        try:
            await rounds_of(c, n)
        finally:
            await c.close()

    async def rounds_of(c: Client, n: str) -> None:
        for _ in range(rounds):
            view = await c.ok("game", game="demo")
            if view["status"] != "active":
                await asyncio.sleep(0.02)
                continue
            st = canonical.state_from_plain(view["state"])
            if n in view["acting"] and not any(s["nation"] == n and s["ready"] for s in view["seats"]):
                text = "\n".join(format_order(o) for o in choose_orders(rng, rs, st).get(n, []))
                r = await c.request("orders", game="demo", phase=view["phase"], text=text)
                if r["type"] == "ok":
                    acked[(view["phase"], n)] = "\n".join(r["orders"])
                await c.request("ready", game="demo", phase=view["phase"])
            await asyncio.sleep(0.01)

    results = await asyncio.gather(*(player(n) for n in NATIONS), return_exceptions=True)
    for r in results:
        assert r is None or isinstance(r, (ConnectionError, OSError, asyncio.TimeoutError, ConnectionClosed)), repr(r)


@pytest.mark.parametrize("point", POINTS)
def test_kill_at_named_point(tmp_path: Path, point: str) -> None:
    """Dying at a named point loses no acknowledged order and leaves no half-adjudicated phase."""
    srv = ServerProcess(tmp_path, args=("--demo",), env={"KESSEN_CRASH_AT": point}).start()
    acked: dict[tuple[str, str], str] = {}
    _, tokens = run(seat(srv))
    run(play(srv, tokens, acked, random.Random(1)), timeout=30)
    assert srv.wait() == 9
    before = check_db(srv.db, acked)
    srv.env = {}
    srv.start()
    run(play(srv, tokens, acked, random.Random(2), rounds=60), timeout=30)
    assert srv.stop() == 0
    after = check_db(srv.db, acked)
    assert after["phases"] >= before["phases"] + 1  # the game went on after the restart


def test_kill_at_random_times(tmp_path: Path) -> None:
    """kill -9 at random moments over many cycles (16; ``KESSEN_CRASH_CYCLES`` for a longer
    soak); after each restart the invariants hold and a deadline that passed while the server
    was down is processed exactly once."""
    rng = random.Random(7)
    srv = ServerProcess(tmp_path, args=("--demo",)).start()
    _, tokens = run(seat(srv))
    acked: dict[tuple[str, str], str] = {}
    for cycle in range(int(os.environ.get("KESSEN_CRASH_CYCLES", "16"))):
        async def until_killed() -> None:
            task = asyncio.create_task(play(srv, tokens, acked, random.Random(cycle)))
            await asyncio.sleep(rng.uniform(0.2, 1.0))
            srv.kill()
            await asyncio.wait_for(task, 10)

        run(until_killed(), timeout=20)
        before = check_db(srv.db, acked)
        passed = cycle % 2 == 1 and before["status"] == "active"
        if passed:
            srv.set_time(srv.now() + 2 * 86400)  # the deadline passes while the server is down
        srv.start()
        srv.read_lines(9)
        if passed:
            async def processed_once() -> None:
                c, _ = await Client.open(srv.port, token=tokens["france"])
                await c.wait_for(lambda: True)
                for _ in range(200):
                    view = await c.ok("game", game="demo")
                    if view["phase"] != before["phase"]:
                        break
                    await asyncio.sleep(0.02)
                await asyncio.sleep(0.3)  # a few more scheduler ticks
                await c.close()

            run(processed_once())
            assert check_db(srv.db, acked)["phases"] == before["phases"] + 1
    srv.kill()
    check_db(srv.db, acked)
