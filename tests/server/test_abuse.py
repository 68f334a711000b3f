"""Abusive clients against a live in-process server: each is refused or closed with the
documented close code (PROTOCOL.md, "Connection limits and close codes"), the server's memory
stays bounded, and a well-behaved client's ping latency meanwhile stays close to its baseline."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from pathlib import Path
from typing import Any, AsyncIterator

import msgpack
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from server.net.app import Server
from server.net.clock import FakeClock
from server.net.config import Config

from wsclient import Client, run

URL = "ws://127.0.0.1:{}"


@contextlib.asynccontextmanager
async def started(tmp: Path, **config: Any) -> AsyncIterator[tuple[Server, str]]:
    async with Server(Config(db=str(tmp / "k.db"), port=0, tick=0.02, **config), clock=FakeClock()) as server:
        assert server.service is not None
        _, token = server.service.add_user("host", "host")
        yield server, token


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")  # pragma: no cover


def p95(values: list[float]) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(0.95 * len(s)))]


class Probe:
    """A well-behaved client: one ping at a time, ``gap`` s apart, round trips recorded."""

    def __init__(self, client: Client, gap: float = 0.03) -> None:
        self.client, self.gap = client, gap
        self.times: list[float] = []
        self.task: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, port: int, token: str) -> Probe:
        c, _ = await Client.open(port, token=token)
        return cls(c)

    async def baseline(self, n: int = 40) -> float:
        for _ in range(n):
            await self._one()
            await asyncio.sleep(self.gap)
        base = p95(self.times)
        self.times = []
        return base

    async def _one(self) -> None:
        t = time.perf_counter()
        reply = await self.client.request("ping")
        assert reply["type"] == "ok", reply
        self.times.append(time.perf_counter() - t)

    async def _loop(self) -> None:
        while True:
            await self._one()
            await asyncio.sleep(self.gap)

    def start(self) -> None:
        self.task = asyncio.create_task(self._loop())

    async def stop_and_check(self, base: float) -> None:
        """The p95 round trip during the abuse is within max(10 x baseline, 250 ms)."""
        assert self.task is not None
        await asyncio.sleep(self.gap * 3)  # at least a few samples
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        assert len(self.times) >= 3, self.times
        assert p95(self.times) < max(10 * base, 0.25), (p95(self.times), base, sorted(self.times)[-5:])
        await self.client.close()


async def raw(port: int, **kw: Any) -> Any:
    return await connect(URL.format(port), open_timeout=5, close_timeout=2, max_size=2**22, **kw)


async def hello(ws: Any, token: str) -> dict[str, Any]:
    await ws.send(msgpack.packb({"type": "hello", "id": 0, "versions": [1], "token": token}))
    welcome = msgpack.unpackb(await ws.recv())
    assert welcome["type"] == "ok", welcome
    return welcome


async def closed_with(ws: Any, timeout: float = 10) -> int | None:
    """Read (and drop) whatever is left until the server closes; its close code."""
    async def drain() -> None:
        with contextlib.suppress(ConnectionClosed):
            while True:
                await ws.recv()
    await asyncio.wait_for(drain(), timeout)
    return ws.close_code


def test_oversized_frame_is_closed_with_1009(tmp_path: Path) -> None:
    """A frame over the 64 KiB limit closes the connection with 1009 (message too big); a
    frame within it but holding a string over the 16 KiB field limit only gets bad_frame."""
    async def go() -> None:
        async with started(tmp_path) as (server, token):
            probe = await Probe.open(server.port, token)
            base = await probe.baseline()
            probe.start()
            ws = await raw(server.port)
            await hello(ws, token)
            await ws.send(msgpack.packb({"type": "ping", "id": 1, "pad": "x" * 20_000}))
            got = msgpack.unpackb(await ws.recv())
            assert got["code"] == "bad_frame" and got["re"] is None, got
            before = rss_mb()
            await ws.send(b"\x00" * (64 * 1024 + 1))
            assert await closed_with(ws) == 1009
            assert rss_mb() - before < 32
            await probe.stop_and_check(base)
    run(go())


NESTED_ARRAYS = b"\x91" * 60_000  # 60000 arrays deep: past msgpack's own stack limit
NESTED_MAPS = b"\x81\xa1a" * 900 + b"\xc0"  # 900 maps deep: within msgpack's stack, past ours
GARBAGE = [b"\xc1", b"\x81\xa4type", b"\x92\x01\x02", b"\x81\xa4type\xa4ping\x00", NESTED_ARRAYS,
           NESTED_MAPS, b"\x81\x01\x02", b"\x81\xc4\x04type\xa4ping", b"\xd4\x01\x00"]


def test_malformed_frames_get_bad_frame_then_repeated_garbage_closes_1007(tmp_path: Path) -> None:
    """Each malformed frame (garbage, wrong shapes, deep nesting, a text frame) gets one
    bad_frame error and the connection stays usable; past ten the connection is closed with
    1007 (invalid payload data). Deep nesting is refused cheaply: other clients don't notice."""
    async def go() -> None:
        async with started(tmp_path) as (server, token):
            probe = await Probe.open(server.port, token)
            base = await probe.baseline()
            probe.start()
            ws = await raw(server.port)
            await hello(ws, token)
            frames: list[bytes | str] = [*GARBAGE, "a text frame"]
            assert len(frames) == 10
            for i, frame in enumerate(frames):
                t = time.perf_counter()
                await ws.send(frame)
                got = msgpack.unpackb(await ws.recv())
                assert time.perf_counter() - t < 1.0
                assert got["type"] == "error" and got["code"] == "bad_frame", (i, got)
                await ws.send(msgpack.packb({"type": "ping", "id": 100 + i}))
                assert msgpack.unpackb(await ws.recv())["re"] == 100 + i  # still served
            await ws.send(NESTED_MAPS)  # the eleventh
            assert msgpack.unpackb(await ws.recv())["code"] == "bad_frame"
            assert await closed_with(ws) == 1007
            await probe.stop_and_check(base)
    run(go())


def test_a_burst_over_the_rate_is_refused_and_the_client_recovers(tmp_path: Path) -> None:
    """Requests past the burst get rate_limited (with their id), none of them is served, the
    connection stays open, and once the bucket refills requests are served again."""
    async def go() -> None:
        async with started(tmp_path, rate=50, burst=20, flood=40) as (server, token):
            ws = await raw(server.port)
            await hello(ws, token)
            for i in range(30):
                await ws.send(msgpack.packb({"type": "ping", "id": i}))
            replies = [msgpack.unpackb(await ws.recv()) for _ in range(30)]
            assert [r["re"] for r in replies] == list(range(30))  # in order, one each
            limited = [r["re"] for r in replies if r["type"] == "error"]
            assert all(r["code"] == "rate_limited" for r in replies if r["type"] == "error")
            assert 5 <= len(limited) <= 10, limited  # 20 in the burst, +1 per 20 ms meanwhile
            await asyncio.sleep(0.5)
            await ws.send(msgpack.packb({"type": "ping", "id": 99}))
            assert msgpack.unpackb(await ws.recv())["type"] == "ok"
            await ws.close()
    run(go())


def test_a_flood_is_closed_with_1008(tmp_path: Path) -> None:
    """A client that keeps sending far past the rate limit is closed with 1008 (policy
    violation) after its excess passes ``flood``; the server's memory and the other
    clients' latency are unaffected."""
    async def go() -> None:
        async with started(tmp_path, rate=50, burst=100, flood=200) as (server, token):
            probe = await Probe.open(server.port, token)
            base = await probe.baseline()
            probe.start()
            before = rss_mb()
            ws = await raw(server.port)
            await hello(ws, token)
            replies: dict[str, int] = {}

            async def read() -> None:
                with contextlib.suppress(ConnectionClosed):
                    async for frame in ws:
                        msg = msgpack.unpackb(frame)
                        key = msg["type"] if msg["type"] == "ok" else msg["code"]
                        replies[key] = replies.get(key, 0) + 1

            reader = asyncio.create_task(read())
            sent = 0
            with contextlib.suppress(ConnectionClosed):
                for i in range(20_000):
                    await ws.send(msgpack.packb({"type": "games", "id": i}))
                    sent += 1
            await asyncio.wait_for(reader, 10)
            assert ws.close_code == 1008, (ws.close_code, replies)
            assert 200 < replies.get("rate_limited", 0) < 1000, (sent, replies)  # refused, then cut off
            assert replies.get("ok", 0) < 400, replies  # burst + rate x the short time it lasted
            assert rss_mb() - before < 32
            await probe.stop_and_check(base)
    run(go())


def test_clients_that_never_authenticate_are_closed_with_1008(tmp_path: Path) -> None:
    """Connections that send no hello are told auth_timeout and closed with 1008 at the deadline;
    a partial frame does not extend it; others are not slowed down."""
    async def go() -> None:
        async with started(tmp_path, auth_timeout=0.5, close_timeout=0.5, max_per_address=100,
                           cap_exempt=()) as (server, token):
            probe = await Probe.open(server.port, token)
            base = await probe.baseline()
            probe.start()
            t = time.perf_counter()
            idle = [await raw(server.port) for _ in range(20)]
            # a frame header announcing 100 bytes (masked, as clients must), then only 10 of them
            idle[0].transport.write(b"\x82\xe4" + b"\x00" * 4 + b"\x81" * 10)
            codes = []
            for ws in idle:
                got = msgpack.unpackb(await asyncio.wait_for(ws.recv(), 5))
                assert got["code"] == "auth_timeout", got
                codes.append(await closed_with(ws))
            assert codes == [1008] * 20
            assert time.perf_counter() - t < 5
            await probe.stop_and_check(base)
    run(go())


def test_connections_per_address_are_capped(tmp_path: Path) -> None:
    """Past ``max_per_address`` open connections from one address, a new websocket is refused
    at the handshake with HTTP 503 (or, if it raced past, closed with 1013); plain HTTP is
    still answered; a freed slot can be used again."""
    async def go() -> None:
        async with started(tmp_path, max_per_address=3, cap_exempt=()) as (server, token):
            held = [await raw(server.port) for _ in range(3)]
            with pytest.raises(InvalidStatus) as info:
                await raw(server.port)
            assert info.value.response.status_code == 503
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(b"GET /games/nope/ HTTP/1.1\r\nHost: x\r\n\r\n")
            assert (await asyncio.wait_for(reader.readline(), 5)).startswith(b"HTTP/1.1 404")
            writer.close()
            await held.pop().close()
            await asyncio.sleep(0.05)
            ws = await raw(server.port)
            await hello(ws, token)
            held.append(ws)
            for ws in held:
                await ws.close()
            await asyncio.sleep(0.05)
            # many at once: the handshake check and the accept-time check together hold the cap
            results = await asyncio.gather(*(raw(server.port) for _ in range(8)), return_exceptions=True)
            opened = [r for r in results if not isinstance(r, BaseException)]
            refused = [r for r in results if isinstance(r, InvalidStatus)]
            assert len(opened) + len(refused) == 8, results
            late = 0
            for ws in opened:
                try:
                    await ws.send(msgpack.packb({"type": "hello", "id": 0, "versions": [1], "token": token}))
                    got = msgpack.unpackb(await asyncio.wait_for(ws.recv(), 5))
                    assert got["type"] == "ok"
                except ConnectionClosed:
                    assert ws.close_code == 1013
                    late += 1
            assert len(opened) - late == 3
            for ws in opened:
                await ws.close()
            assert server.gate.counts == {} or await _emptied(server)
    run(go())


async def _emptied(server: Server) -> bool:
    for _ in range(100):
        if not server.gate.counts:
            return True
        await asyncio.sleep(0.02)
    return False


def test_a_client_that_stops_reading_is_closed_with_1013(tmp_path: Path) -> None:
    """A client that sends requests and never reads the replies is closed with 1013 once
    ``max_pending`` bytes of output wait for it; the server never holds much more than that
    for it, and the other clients' latency is unaffected."""
    bound = 256 * 1024

    async def go() -> None:
        async with started(tmp_path, max_pending=bound, rate=1e6, burst=1e6, flood=1e6,
                           close_timeout=10) as (server, token):
            assert server.service is not None
            host, _ = await Client.open(server.port, token=token)
            game = (await host.ok("create_game", ruleset="classic", title="t"))["game"]
            _, slow_token = server.service.add_user("slow", "player")
            probe = await Probe.open(server.port, token)
            base = await probe.baseline()
            probe.start()
            before = rss_mb()
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a small receive window
            sock.connect(("127.0.0.1", server.port))
            sock.setblocking(False)
            ws = await connect(URL.format(server.port), sock=sock, max_queue=1, open_timeout=5,  # reads 1 frame ahead
                               close_timeout=2, max_size=2**22, compression=None)  # deflate would shrink the replies
            welcome = await hello(ws, slow_token)
            await ws.send(msgpack.packb({"type": "watch", "id": 1, "game": game}))
            room = server.service.rooms[game]
            assert msgpack.unpackb(await ws.recv())["type"] == "ok"
            conn = next(c for c in room.subscribers if c.user == welcome["user"])
            frame = msgpack.packb({"type": "game", "id": 2, "game": game})
            sent = 0
            with contextlib.suppress(ConnectionClosed, TimeoutError):
                async with asyncio.timeout(20):
                    while conn.closing is None and sent < 50_000:
                        await ws.send(frame)
                        sent += 1
                        if sent % 100 == 0:  # let the server answer them
                            await asyncio.sleep(0.01)
            assert conn.closing is not None, (sent, conn.peak)
            assert bound < conn.peak <= bound + 64 * 1024, conn.peak
            assert rss_mb() - before < 48
            assert await closed_with(ws, 20) == 1013
            assert conn not in room.subscribers
            await probe.stop_and_check(base)
            await host.close()
    run(go(), timeout=60)
