"""The server's lifecycle: startup -> main loop -> bounded graceful shutdown (uvicorn-style).

``startup`` opens the database (recovering nothing by hand: SQLite rolls back any
half-written transaction), rebuilds every room, and listens. The main loop runs the
scheduler tick (start due games, process due phases: a deadline that passed while the server
was down is processed once at the first tick, because processing moves the game on). Each
adjudicated phase is published by a worker process (:mod:`server.net.publish`) and served
over plain HTTP on the same port (:mod:`server.net.http`).
Signal handlers only set ``should_exit``; shutdown stops accepting, closes connections,
waits for phases being processed, and closes the database (the writer thread commits what it
was given first; a write is a transaction, so none is ever half done).

In tests::

    async with Server(Config(db=path, port=0), clock=FakeClock()) as server:
        ... connect to server.port ...
"""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
import signal
from typing import Any

from websockets.asyncio.server import serve

from ..storage.repository import Repository
from . import faults
from .clock import FileClock, SystemClock
from .config import Config
from .handler import handle
from .http import make_process_request
from .limits import AddressGate, gated
from .publish import Publisher, default_games_dir
from .service import Service
from .stats import LoopLag, enabled as stats_enabled

log = logging.getLogger("kessen.server")


class Server:
    def __init__(self, config: Config, clock: Any = None) -> None:
        self.config = config
        self.clock = clock or (FileClock(config.clock_file) if config.clock_file else SystemClock())
        self.should_exit = False
        self.port = 0
        self._wake = asyncio.Event()
        self.repo: Repository | None = None
        self.service: Service | None = None
        self._ws: Any = None
        self._main: asyncio.Task[None] | None = None
        self._lag: LoopLag | None = None
        self.games_dir = config.games_dir or default_games_dir(config.db)
        self.publisher: Publisher | None = None
        self.gate = AddressGate(config.max_per_address, config.cap_exempt)

    # ---- lifecycle -------------------------------------------------------------------------
    async def startup(self) -> None:
        faults.arm(self.config.crash_at)
        _tune_malloc()
        self.repo = Repository(self.config.db)
        self.service = Service(self.repo, self.clock, self._wake.set)
        self.service.load_rooms()
        _tune_gc()
        if self.config.render:
            self.publisher = Publisher(self.config.db, self.games_dir)
            self.service.on_adjudicated = self.publisher.phase_done
        self._ws = await serve(  # limits and close codes: PROTOCOL.md, server/net/handler.py
            functools.partial(handle, service=self.service, config=self.config, gate=self.gate),
            self.config.host, self.config.port, max_size=self.config.limits.max_frame,
            ping_interval=20, ping_timeout=20, close_timeout=self.config.close_timeout,
            process_request=gated(make_process_request(self.games_dir), self.gate),
        )
        self.port = self._ws.sockets[0].getsockname()[1]
        if stats_enabled():
            self._lag = LoopLag()
            self._lag.extra = self.repo.writer.stats
            self._lag.start()

    async def main_loop(self) -> None:
        assert self.service is not None
        while not self.should_exit:
            self.service.tick()
            wait = self.config.tick
            due = self.service.next_due()
            if due is not None:  # sleep until the next deadline, not a whole tick past it
                wait = min(wait, max(0.0, due - self.clock.now()))
            try:
                await asyncio.wait_for(self._wake.wait(), wait)
            except TimeoutError:
                pass
            self._wake.clear()

    async def shutdown(self) -> None:
        if self._lag is not None:
            self._lag.stop()
            self._lag = None
        if self._ws is not None:
            self._ws.close()  # stop accepting; close connections with 1001 (going away)
            try:
                await asyncio.wait_for(self._ws.wait_closed(), self.config.shutdown_timeout)
            except TimeoutError:
                log.warning("connections still open after %s s; closing anyway", self.config.shutdown_timeout)
        if self.service is not None:
            try:  # a phase being processed finishes (its commit is under way) before the database closes
                await asyncio.wait_for(self.service.drain(), self.config.shutdown_timeout)
            except TimeoutError:
                log.warning("a phase was still being processed at shutdown")
        if self.publisher is not None:  # the job under way finishes (seconds); queued ones are dropped
            await asyncio.to_thread(self.publisher.close)
            self.publisher = None
        if self.repo is not None:
            self.repo.close()
            self.repo = None

    def handle_exit(self) -> None:
        self.should_exit = True
        self._wake.set()

    async def serve(self, ready: Any = None) -> None:
        """Run until SIGINT/SIGTERM; ``ready(server)`` is called once listening."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.handle_exit)
        await self.startup()
        try:
            if ready is not None:
                ready(self)
            await self.main_loop()
        finally:
            await self.shutdown()

    async def __aenter__(self) -> Server:
        await self.startup()
        self._main = asyncio.create_task(self.main_loop())
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.handle_exit()
        if self._main is not None:
            await self._main
        await self.shutdown()


def _tune_malloc() -> None:
    """glibc's allocator, for a server that frees big blocks often.

    - ``M_MMAP_THRESHOLD`` 1 MiB, fixed: every sign-in hashes with scrypt (16 MiB of working
      memory, in an executor thread). By default glibc raises its mmap threshold after the
      first such block is freed, so later ones would come from the thread's heap and stay
      resident (~16 MiB per executor thread). A fixed threshold turns that adjustment off, and
      blocks of 1 MiB and more get their own mappings, unmapped when freed.
    - Below it, blocks come from the heap, and ``M_TRIM_THRESHOLD`` 8 MiB keeps up to that
      much free at its top instead of handing it back at every free. Asyncio reads each
      socket into a fresh 256 KiB buffer; with a lower mmap threshold or the default 128 KiB
      trim threshold, every read mapped (or grew the heap by) fresh pages and faulted them
      in: two page faults per request, a sixth of the server's time per order under load.
    """
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        libc.mallopt(-3, 1024 * 1024)  # M_MMAP_THRESHOLD
        libc.mallopt(-1, 8 * 1024 * 1024)  # M_TRIM_THRESHOLD
    except (OSError, AttributeError):  # not glibc
        pass


GC_THRESHOLDS = (50_000, 20, 50)


def _tune_gc() -> None:
    """Collect cycles less often: a busy server has hundreds of requests in flight, whose
    objects survive the default young-generation collection (every 700 allocations) and
    pile into the older generations, so a full collection ran every few hundred requests and
    walked every object of every game. Measured under ``kessen bench server``: a fifth of
    the time per order with the defaults, 2 % with these. Everything loaded at start (rules,
    boards) is moved out of the collector's sight (``gc.freeze``); it lives as long as the
    server."""
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


__all__ = ["Server"]
