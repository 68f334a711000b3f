"""One websocket connection to a Kessen server (I/O edge; see PROTOCOL.md).

``Connection.open(url, token=...)`` connects, sends the ``hello`` and returns the connection
with the server's welcome in ``welcome``. :meth:`Connection.request` sends a request with a
fresh id and waits for its reply; pushes are collected per game and the last ``seq`` seen
per game is kept in ``last_seq`` (for a later ``resync``).

Errors, each with a one-line ``str()`` fit for a terminal:

- :class:`ConnectError` (``ConnectionError``): the server is down, unreachable or closed the
  connection; also a reply that did not arrive in time.
- :class:`Refused`: the server answered with an ``error`` reply; carries ``code``,
  ``message`` and ``field``. A refused ``hello`` (``auth_failed``) is a ``Refused`` too.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import msgpack
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

PROTOCOL_VERSIONS = [1]
TIMEOUT = 15.0  # seconds to wait for a connection or a reply


class ClientError(Exception):
    """Root of the client's errors."""


class ConnectError(ClientError, ConnectionError):
    """The server could not be reached, or the connection was lost."""


class Refused(ClientError):
    """The server refused a request: ``Refused("auth_failed", "that token is not valid", "token")``."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.field = code, message, field


class Connection:
    """An authenticated connection; use ``async with await Connection.open(...)``."""

    def __init__(self, ws: Any, url: str, timeout: float = TIMEOUT) -> None:
        self.ws, self.url, self.timeout = ws, url, timeout
        self.ids = itertools.count(1)
        self.waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.pushes: dict[str, list[dict[str, Any]]] = {}
        self.last_seq: dict[str, int] = {}
        self.welcome: dict[str, Any] = {}
        self.changed = asyncio.Event()
        self.reader = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, url: str, *, token: str | None = None, invite: str | None = None,
                   name: str | None = None, timeout: float = TIMEOUT) -> Connection:
        """Connect to ``url`` (``ws://host:port``) and sign in with a token or an invite code.

        Raises:
            ConnectError: the server is not reachable.
            Refused: the hello was refused (bad token or invite, name taken).
        """
        try:
            ws = await asyncio.wait_for(
                connect(url, open_timeout=timeout, close_timeout=1, max_size=2**22), timeout)
        except InvalidURI:
            raise ConnectError(f"not a websocket URL: {url!r} (expected ws://HOST:PORT)") from None
        except (OSError, InvalidHandshake, asyncio.TimeoutError) as e:
            if isinstance(e, ConnectionRefusedError):
                why = "connection refused (is the server running?)"
            elif isinstance(e, asyncio.TimeoutError):
                why = f"no answer within {timeout:g} s"
            else:
                why = getattr(e, "strerror", None) or str(e) or type(e).__name__
            raise ConnectError(f"cannot connect to {url}: {why}") from None
        conn = cls(ws, url, timeout)
        hello: dict[str, Any] = {"versions": PROTOCOL_VERSIONS}
        if token is not None:
            hello["token"] = token
        if invite is not None:
            hello["invite"] = invite
        if name is not None:
            hello["name"] = name
        try:
            conn.welcome = await conn.request("hello", **hello)
        except ClientError:
            await conn.close()
            raise
        for g in conn.welcome.get("games", []):
            conn.last_seq.setdefault(g["game"], 0)
        return conn

    async def __aenter__(self) -> Connection:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    async def _read(self) -> None:
        try:
            async for frame in self.ws:
                if not isinstance(frame, bytes):
                    continue
                msg = msgpack.unpackb(frame, raw=False)
                if msg.get("type") == "push":
                    game, seq = msg.get("game"), msg.get("seq", 0)
                    got = self.pushes.setdefault(game, [])
                    if all(p.get("seq") != seq for p in got):  # a resync may repeat a live push
                        got.append(msg)
                        got.sort(key=lambda p: p.get("seq", 0))
                    self.last_seq[game] = max(seq, self.last_seq.get(game, 0))
                else:
                    fut = self.waiting.pop(msg.get("re"), None)
                    if fut is not None and not fut.done():
                        fut.set_result(msg)
                self.changed.set()
        except ConnectionClosed:
            pass
        finally:
            for fut in self.waiting.values():
                if not fut.done():
                    fut.set_exception(ConnectError(f"the server at {self.url} closed the connection"))
            self.waiting.clear()
            self.changed.set()

    async def request(self, kind: str, /, **fields: Any) -> dict[str, Any]:
        """Send one request and return its ``ok`` reply.

        Raises:
            Refused: the reply was an ``error``.
            ConnectError: the connection closed or no reply came within the timeout.
        """
        mid = next(self.ids)
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.waiting[mid] = fut
        try:
            await self.ws.send(msgpack.packb({"type": kind, "id": mid, **fields}))
            reply = await asyncio.wait_for(fut, self.timeout)
        except ConnectionClosed:
            raise ConnectError(f"the server at {self.url} closed the connection") from None
        except asyncio.TimeoutError:
            raise ConnectError(f"no reply from {self.url} to {kind!r} within {self.timeout:g} s") from None
        finally:
            self.waiting.pop(mid, None)
        if reply.get("type") == "error":
            raise Refused(str(reply.get("code")), str(reply.get("message")), reply.get("field"))
        return reply

    async def close(self) -> None:
        try:
            await self.ws.close()
        except OSError:
            pass
        try:
            await asyncio.wait_for(self.reader, 5)
        except (asyncio.TimeoutError, Exception):  # noqa: BLE001 - closing: nothing left to report
            pass


async def fetch_inbox(conn: Any, game: str, after: int = 0, pages: int = 1000) -> list[dict[str, Any]]:
    """Every press message of ``game`` the user may read after message ``after``, asking for
    page after page while the server says there is ``more`` (at most ``pages`` requests)."""
    out: list[dict[str, Any]] = []
    for _ in range(pages):
        reply = await conn.request("inbox", game=game, **({"after": after} if after else {}))
        got = reply.get("messages") or []
        out += got
        if not reply.get("more") or not got:
            break
        after = int(got[-1]["id"])
    return out


__all__ = ["ClientError", "ConnectError", "Connection", "PROTOCOL_VERSIONS", "Refused", "fetch_inbox"]
