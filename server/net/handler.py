"""The per-connection websocket shim: hello within the time allowed, then one request at a time.

Outgoing frames (replies and pushes) are written straight to the connection's transport, in
the order they are produced, without awaiting: the transport's buffer is the only queue.
Whatever the peer has not read yet stays there; past ``Config.max_pending`` bytes the client
is too slow and is closed with 1013 (it reconnects and resyncs), so memory per connection
stays bounded. Limits and close codes are in PROTOCOL.md ("Connection limits and close
codes"); the bookkeeping is in :mod:`server.net.limits`.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.protocol import State

from ..protocol.codec import decode, encode
from ..protocol.errors import ProtocolError
from ..protocol.messages import request_id
from ..protocol.session import Session
from .limits import AddressGate, TokenBucket, peer_address

OPEN = State.OPEN

# close codes (RFC 6455 section 7.4.1)
NORMAL, POLICY, INVALID_DATA, TRY_AGAIN = 1000, 1008, 1007, 1013


class CountingSession(Session):
    """A :class:`Session` that counts the malformed frames (``bad_frame``) it refused."""

    bad_frames = 0

    def receive(self, frame: bytes) -> Any:
        try:
            return super().receive(frame)
        except ProtocolError as e:
            if e.code == "bad_frame":
                self.bad_frames += 1
            raise


class Connection:
    """One client: its session, who it is, and its output (written at once, bounded)."""

    def __init__(self, ws: Any, service: Any, config: Any) -> None:
        self.ws, self.service = ws, service
        self.session = CountingSession(config.limits)
        self.user: int | None = None
        self.name = ""
        self.max_pending = config.max_pending
        self.close_timeout = config.close_timeout
        self.closing: asyncio.Task[None] | None = None
        self.peak = 0  # the most output ever pending (bytes): tests check it stays bounded

    def send(self, message: dict[str, Any]) -> None:
        self.send_frame(encode(message))

    def send_frame(self, frame: bytes) -> None:
        """Write one frame after everything sent before it; close a client too slow to read."""
        ws = self.ws
        if self.closing is not None or ws.protocol.state is not OPEN:
            return
        try:
            ws.protocol.send_binary(frame)
            ws.send_data()
            pending = ws.transport.get_write_buffer_size()
        except Exception:  # the transport failed: the connection is going away
            self.close(NORMAL, "")
            return
        if pending > self.peak:
            self.peak = pending
            if pending > self.max_pending:
                self.close(TRY_AGAIN, "too slow; reconnect and resync")

    def pending(self) -> int:
        """Output written but not yet taken by the client's socket (bytes)."""
        try:
            return int(self.ws.transport.get_write_buffer_size())
        except Exception:
            return 0

    def close(self, code: int, reason: str) -> asyncio.Task[None]:
        """Stop sending and close (once): a close frame, then at most ``close_timeout`` s for
        the client to answer it before the TCP connection is dropped."""
        if self.closing is None:
            self.service.disconnect(self)
            self.closing = asyncio.get_running_loop().create_task(self._close(code, reason))
        return self.closing

    async def _close(self, code: int, reason: str) -> None:
        try:
            async with asyncio.timeout(self.close_timeout):
                await self.ws.close(code, reason)
        except TimeoutError:
            self.ws.transport.abort()
        except Exception:  # pragma: no cover - closing must not raise
            self.ws.transport.abort()


async def handle(ws: Any, service: Any, config: Any, gate: AddressGate | None = None) -> None:
    address = peer_address(ws)
    if gate is not None and not gate.acquire(address):  # raced past the handshake check
        conn = Connection(ws, service, config)
        await _closed(ws, conn.close(TRY_AGAIN, "too many connections from your address"))
        return
    conn = Connection(ws, service, config)
    code, reason = NORMAL, ""
    try:
        code, reason = await _serve(conn, ws, service, config)
    finally:
        service.disconnect(conn)
        if gate is not None:
            gate.release(address)
        await _closed(ws, conn.close(code, reason))


async def _closed(ws: Any, closing: asyncio.Task[None]) -> None:
    """Wait for the close, reading and dropping what the client still sends meanwhile (its
    answering close frame must not wait behind requests that will never be served)."""
    async def discard() -> None:
        with contextlib.suppress(ConnectionClosed):
            while True:
                await ws.recv()
    reader = asyncio.get_running_loop().create_task(discard())
    try:
        await asyncio.shield(closing)
    finally:
        reader.cancel()


async def _serve(conn: Connection, ws: Any, service: Any, config: Any) -> tuple[int, str]:
    """Run one connection; returns the close code and reason to end it with."""
    try:
        try:
            async with asyncio.timeout(config.auth_timeout):
                frame = await ws.recv()
        except TimeoutError:
            raise ProtocolError("auth_timeout", f"no hello within {config.auth_timeout} s") from None
        req = conn.session.receive(frame)
        try:
            conn.send({"type": "ok", "re": req.id, **await service.hello(conn, req)})
        except ProtocolError as e:
            e.re = req.id
            raise
    except ProtocolError as e:  # refused before or during hello: answer, then close
        conn.send(e.reply(e.re))
        return POLICY, e.code
    except ConnectionClosed:
        return NORMAL, ""
    loop = asyncio.get_running_loop()
    bucket = TokenBucket(config.rate, config.burst, config.flood, loop.time())
    max_bad = config.max_bad_frames
    session = conn.session
    try:
        async for frame in ws:
            if conn.closing is not None:  # closed for being slow: drop the rest until the close
                continue
            if not bucket.take(loop.time()):
                conn.send(_rate_limited(frame, config))
                if bucket.flooding:
                    return POLICY, "flooding: requests kept coming past the rate limit"
                continue
            await service.handle(conn, frame)
            if session.bad_frames > max_bad:
                return INVALID_DATA, f"more than {max_bad} malformed frames"
    except ConnectionClosed:
        pass
    return NORMAL, ""


def _rate_limited(frame: Any, config: Any) -> dict[str, Any]:
    try:
        re = request_id(decode(frame, config.limits))
    except ProtocolError:
        re = None
    return ProtocolError("rate_limited", f"over {config.rate:g} requests a second (burst {config.burst}); "
                         "slow down").reply(re)


__all__ = ["Connection", "handle"]
