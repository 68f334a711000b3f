#!/usr/bin/env python3
"""The ceiling for ``kessen bench server``: a bare websockets + msgpack echo server.

Same library, same websocket settings as ``kessen serve`` (binary frames, no compression,
64 KiB frames, keepalive pings), and no work at all: each frame is decoded, and answered
with ``{"type": "ok", "re": id, ...the request's fields}`` (a reply of the same size as the
request). ``hello`` gets an ``ok`` at once (no token check). Prints ``listening on HOST:PORT``.
"""

from __future__ import annotations

import asyncio
import signal
import sys

import msgpack
from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed


async def echo(ws: object) -> None:
    try:
        async for frame in ws:  # type: ignore[attr-defined]
            msg = msgpack.unpackb(frame, raw=False)
            msg["re"] = msg.pop("id", None)
            msg["type"] = "ok"
            await ws.send(msgpack.packb(msg))  # type: ignore[attr-defined]
    except ConnectionClosed:
        pass


async def main() -> None:
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    async with serve(echo, "127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 0, compression=None,
                     max_size=64 * 1024, ping_interval=20, ping_timeout=20, close_timeout=2) as server:
        port = server.sockets[0].getsockname()[1]
        print(f"listening on 127.0.0.1:{port}", flush=True)
        await stop


if __name__ == "__main__":
    asyncio.run(main())
