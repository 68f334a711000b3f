"""Automatic reconnect: the server is stopped mid-session and restarted on the same port and
database; the client reconnects with backoff, resyncs from the last seq it saw and shows what
happened meanwhile, each missed push once and in order. A refused token and a server that
stays down stop the retrying with a clear reason."""

from __future__ import annotations

import asyncio
import socket
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))
from wsclient import ServerProcess, kessen, run

from client_cli import config
from client_cli.connection import ConnectError, Connection, Refused
from client_cli.interactive import Shell
from client_cli.reconnect import Reconnecting


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_until(pred: Any, timeout: float = 10) -> None:
    async def loop() -> None:
        while not pred():
            await asyncio.sleep(0.02)
    await asyncio.wait_for(loop(), timeout)


@pytest.mark.slow
def test_reconnects_after_restart_and_shows_missed_pushes(tmp_path: Path) -> None:
    r = kessen("user", "add", "boss", "--host", "--db", str(tmp_path / "k.db"))
    assert r.returncode == 0, r.stderr
    host_token = r.stdout.split("token: ")[1].split()[0]
    port = free_port()
    url = f"ws://127.0.0.1:{port}"
    srv = ServerProcess(tmp_path, args=("--port", str(port))).start()
    assert srv.port == port

    async def go() -> None:
        nonlocal srv
        async with await Connection.open(url, token=host_token) as host:
            gid = (await host.request("create_game", ruleset="classic", title="t",
                                      settings={"start": {"at": 0}}))["game"]
            codes = [(await host.request("invite", game=gid, nation=n))["code"] for n in ("france", "germany")]
        async with await Connection.open(url, invite=codes[0], name="Fred") as fr:
            fr_token = fr.welcome["token"]

        notices: list[str] = []
        gate = asyncio.Event()
        gate.set()
        attempts = 0

        async def opener() -> Connection:
            nonlocal attempts
            await gate.wait()  # the test holds reconnects back until the missed events exist
            attempts += 1
            return await Connection.open(url, token=fr_token, timeout=5)

        conn = Reconnecting(opener, backoff=0.05, max_backoff=0.4, attempts=200, timeout=1.5,
                            notify=notices.append)
        await conn.start()
        sh = Shell(conn)
        await sh.refresh()
        assert sh.new_pushes() == []  # history before the session is not announced
        before = conn.last_seq[gid]
        assert before >= 1

        # the server goes away: the client notices and retries with backoff
        assert srv.stop() == 0
        await wait_until(lambda: "connection lost; reconnecting..." in notices)
        assert (await sh.execute("board")).startswith("not done: ")  # bounded wait, a clear line
        await wait_until(lambda: attempts >= 3)  # it keeps retrying while the server is down
        gate.clear()
        await asyncio.sleep(0.5)  # nothing happens meanwhile

        srv = ServerProcess(tmp_path, args=("--port", str(port))).start()
        async with await Connection.open(url, invite=codes[1], name="Dora"):
            pass  # seat push
        async with await Connection.open(url, token=fr_token) as fr:  # status pushes (orders, ready)
            await fr.request("orders", game=gid, phase="S1901M", text="A par - bur")
            await fr.request("ready", game=gid, phase="S1901M")
        assert conn.last_seq[gid] == before  # not reconnected yet: nothing seen

        gate.set()
        await wait_until(lambda: any(n.startswith("reconnected") for n in notices))
        assert notices == ["connection lost; reconnecting...", "reconnected; 3 updates while away"]
        shown = sh.new_pushes()
        assert shown == [f"* {gid}: Dora plays germany",
                         f"* {gid} S1901M: france has orders in, not ready",
                         f"* {gid} S1901M: france has orders in, ready"], shown
        seqs = [p["seq"] for p in conn.pushes[gid]]
        assert seqs == sorted(set(seqs)) and seqs[-3:] == [before + 1, before + 2, before + 3]
        assert conn.last_seq[gid] == before + 3
        assert sh.new_pushes() == []  # exactly once

        # live pushes flow again on the new connection, still without gaps
        async with await Connection.open(url, token=fr_token) as fr:
            await fr.request("unready", game=gid, phase="S1901M")
        await wait_until(lambda: conn.last_seq[gid] == before + 4)
        assert sh.new_pushes() == [f"* {gid} S1901M: france has orders in, not ready"]
        assert "S1901M" in (await sh.execute("board"))  # requests work on the new connection
        assert conn.reconnects == 1
        state = tmp_path / "cfg" / "state.json"
        key = config.state_key(url, fr_token)
        config.save_seqs(state, key, conn.last_seq)
        await conn.close()

        # a new run resyncs from the saved seqs and shows what the client missed while not running
        async with await Connection.open(url, token=fr_token) as fr:
            await fr.request("ready", game=gid, phase="S1901M")
        conn2 = Reconnecting(opener, timeout=5)
        await conn2.start(config.load_seqs(state, key))
        assert conn2.since == {gid: before + 4} and conn2.last_seq[gid] == before + 5
        assert Shell(conn2).new_pushes() == [f"* {gid} S1901M: france has orders in, ready"]
        await conn2.close()

    try:
        run(go(), timeout=60)
    finally:
        srv.stop()


def _fake_conn(welcome: dict[str, Any]) -> Any:
    class Fake:
        def __init__(self) -> None:
            self.welcome, self.pushes, self.last_seq = welcome, {}, {}
            self.changed = asyncio.Event()
            self.reader = asyncio.get_running_loop().create_future()

        async def close(self) -> None:
            if not self.reader.done():
                self.reader.set_result(None)

        async def request(self, kind: str, **fields: Any) -> dict[str, Any]:
            return {"type": "ok", "game": fields.get("game"), "last": 0, "count": 0}
    return Fake()


def test_refused_token_stops_retrying() -> None:
    async def go() -> None:
        calls: list[int] = []
        first = None

        async def opener() -> Any:
            nonlocal first
            calls.append(1)
            if first is None:
                first = _fake_conn({"games": [{"game": "g1", "seq": 4}]})
                return first
            if len(calls) < 3:
                raise ConnectError("cannot connect: connection refused (is the server running?)")
            raise Refused("auth_failed", "that token is not valid", "token")

        notices: list[str] = []
        conn = Reconnecting(opener, backoff=0.01, notify=notices.append, timeout=2)
        await conn.start()
        assert conn.last_seq == {"g1": 4}
        await first.close()  # the link drops
        await wait_until(lambda: conn.failed is not None, 5)
        assert len(calls) == 3 and notices[0] == "connection lost; reconnecting..."
        assert notices[-1] == "reconnect refused: auth_failed: that token is not valid; not retrying"
        with pytest.raises(Refused, match="refused the saved token"):
            await conn.request("games")
        await conn.close()

    run(go(), timeout=10)


def test_gives_up_after_the_attempts_bound() -> None:
    async def go() -> None:
        calls: list[float] = []
        first = None

        async def opener() -> Any:
            nonlocal first
            calls.append(asyncio.get_running_loop().time())
            if first is None:
                first = _fake_conn({"games": []})
                return first
            raise ConnectError("cannot connect to ws://x: connection refused (is the server running?)")

        notices: list[str] = []
        conn = Reconnecting(opener, backoff=0.01, max_backoff=0.04, attempts=5, notify=notices.append)
        await conn.start()
        await first.close()
        await wait_until(lambda: conn.failed is not None, 5)
        assert len(calls) == 1 + 5
        gaps = [b - a for a, b in zip(calls[1:], calls[2:])]
        assert gaps[0] < gaps[-1] and all(g >= 0.009 for g in gaps)  # backoff grows, capped
        assert notices[-1].startswith("gave up reconnecting after 5 attempts")
        with pytest.raises(ConnectError, match="the server is down"):
            await conn.request("games")
        await conn.close()

    run(go(), timeout=10)
