"""A small protocol client for the server tests: requests by id, pushes collected per game."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any, Awaitable, Callable, TypeVar

import msgpack
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from server.net.clock import set_file_clock

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[2]


def run(coro: Awaitable[T], timeout: float = 30) -> T:
    """Run a test coroutine with a hard time limit."""
    async def bounded() -> T:
        return await asyncio.wait_for(coro, timeout)
    return asyncio.run(bounded())


class Client:
    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.ids = itertools.count(1)
        self.waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.pushes: dict[str, list[dict[str, Any]]] = {}
        self.raw: list[bytes] = []  # every frame received, as received (for leak checks)
        self.changed = asyncio.Event()
        self.closed = asyncio.Event()
        self.reader = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, port: int, **hello: Any) -> tuple[Client, dict[str, Any]]:
        ws = await connect(f"ws://127.0.0.1:{port}", open_timeout=5, close_timeout=1, max_size=2**22)
        c = cls(ws)
        welcome = await c.request("hello", versions=[1], **hello)
        return c, welcome

    async def _read(self) -> None:
        try:
            async for frame in self.ws:
                self.raw.append(frame)
                msg = msgpack.unpackb(frame, raw=False)
                if msg.get("type") == "push":
                    got = self.pushes.setdefault(msg["game"], [])
                    if not got or msg["seq"] > got[-1]["seq"]:
                        got.append(msg)
                    self.changed.set()
                else:
                    fut = self.waiting.pop(msg.get("re"), None)
                    if fut is not None and not fut.done():
                        fut.set_result(msg)
                    else:
                        self.pushes.setdefault("", []).append(msg)
                        self.changed.set()
        except ConnectionClosed:
            pass
        finally:
            self.closed.set()
            for fut in self.waiting.values():
                if not fut.done():
                    fut.set_exception(ConnectionError("closed"))
            self.changed.set()

    async def request(self, kind: str, /, **fields: Any) -> dict[str, Any]:
        mid = next(self.ids)
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.waiting[mid] = fut
        try:
            await self.ws.send(msgpack.packb({"type": kind, "id": mid, **fields}))
        except ConnectionClosed:
            self.waiting.pop(mid, None)
            raise ConnectionError("closed") from None
        return await asyncio.wait_for(fut, 10)

    async def ok(self, kind: str, /, **fields: Any) -> dict[str, Any]:
        reply = await self.request(kind, **fields)
        assert reply["type"] == "ok", reply
        return reply

    def last_seq(self, game: str) -> int:
        got = self.pushes.get(game)
        return got[-1]["seq"] if got else 0

    async def wait_for(self, pred: Callable[[], Any], timeout: float = 10) -> Any:
        async def loop() -> Any:
            while True:
                value = pred()
                if value:
                    return value
                if self.closed.is_set():
                    raise ConnectionError("closed while waiting")
                self.changed.clear()
                await self.changed.wait()
        return await asyncio.wait_for(loop(), timeout)

    async def wait_push(self, game: str, event: str, timeout: float = 10, **match: Any) -> dict[str, Any]:
        def find() -> Any:
            for p in self.pushes.get(game, []):
                if p["event"] == event and all(p.get(k) == v for k, v in match.items()):
                    return p
            return None
        return await self.wait_for(find, timeout)

    async def close(self) -> None:
        try:
            await self.ws.close()
        except OSError:
            pass
        await asyncio.wait_for(self.reader, 5)


class ServerProcess:
    """``kessen serve --port 0`` in a subprocess on a temporary database and clock file."""

    def __init__(self, tmp: Path, env: dict[str, str] | None = None, args: tuple[str, ...] = ()) -> None:
        self.tmp, self.db, self.clock = tmp, tmp / "k.db", tmp / "clock"
        self.env, self.args = env or {}, args
        self.proc: subprocess.Popen[str] | None = None
        self.port = 0
        self.lines: list[str] = []
        if not self.clock.exists():
            self.set_time(1_800_000_000)

    def set_time(self, t: float) -> None:
        set_file_clock(self.clock, t)

    def now(self) -> float:
        return float(self.clock.read_text())

    def start(self) -> ServerProcess:
        env = {**os.environ, "PYTHONPATH": str(ROOT), **self.env}
        with open(self.tmp / "stderr.txt", "a") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "server.cli", "serve", "--port", "0", "--db", str(self.db),
                 "--clock-file", str(self.clock), *self.args],
                stdout=subprocess.PIPE, stderr=err, text=True, env=env, cwd=self.tmp)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line.startswith("listening on 127.0.0.1:"), (line, (self.tmp / "stderr.txt").read_text())
        self.port = int(line.strip().rsplit(":", 1)[1])
        self.lines = [line]
        return self

    def read_lines(self, n: int) -> list[str]:
        assert self.proc is not None and self.proc.stdout is not None
        out = [self.proc.stdout.readline().rstrip("\n") for _ in range(n)]
        self.lines += out
        return out

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
        self.wait()

    def stop(self) -> int:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.wait()

    def wait(self, timeout: float = 10) -> int:
        assert self.proc is not None
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait(5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        return rc


def kessen(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "server.cli", *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=60)
