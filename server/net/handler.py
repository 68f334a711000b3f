"""The per-connection websocket shim: hello within the time allowed, then one request at a time.

Outgoing frames go through a bounded queue drained by one writer task, so replies and pushes
leave in exactly the order they were produced; a client too slow to drain it is closed (it
reconnects and resyncs).
"""

from __future__ import annotations

import asyncio
from typing import Any

from websockets.exceptions import ConnectionClosed

from ..protocol.codec import encode
from ..protocol.errors import ProtocolError
from ..protocol.session import Session


class Connection:
    def __init__(self, ws: Any, service: Any, config: Any) -> None:
        self.ws, self.service = ws, service
        self.session = Session(config.limits)
        self.user: int | None = None
        self.name = ""
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue(config.max_queue)

    def send(self, message: dict[str, Any]) -> None:
        self.send_frame(encode(message))

    def send_frame(self, frame: bytes | None) -> None:
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:
            self.service.disconnect(self)
            asyncio.get_running_loop().create_task(self.ws.close(1013, "too slow; reconnect and resync"))

    async def drain(self) -> None:
        while (frame := await self.queue.get()) is not None:
            await self.ws.send(frame)


async def handle(ws: Any, service: Any, config: Any) -> None:
    conn = Connection(ws, service, config)
    writer = asyncio.create_task(conn.drain())
    try:
        try:
            async with asyncio.timeout(config.auth_timeout):
                req = conn.session.receive(await ws.recv())
                try:
                    conn.send({"type": "ok", "re": req.id, **await service.hello(conn, req)})
                except ProtocolError as e:
                    e.re = req.id
                    raise
        except TimeoutError:
            raise ProtocolError("auth_timeout", f"no hello within {config.auth_timeout} s") from None
        async for frame in ws:
            await service.handle(conn, frame)
    except ProtocolError as e:  # refused before or during hello: answer, then close
        conn.send(e.reply(e.re))
    except ConnectionClosed:
        pass
    finally:
        service.disconnect(conn)
        conn.send_frame(None)
        try:
            await asyncio.wait_for(writer, 2)
            await ws.close()
        except (TimeoutError, ConnectionClosed):
            writer.cancel()
