"""A connection that survives the server going away (I/O edge; see PROTOCOL.md, *Pushes*).

:class:`Reconnecting` has the interface the shell uses from :class:`~client_cli.connection.Connection`
(``request``, ``welcome``, ``pushes``, ``last_seq``, ``changed``, ``close``). When the link
drops it retries with exponential backoff (``backoff`` seconds doubling up to ``max_backoff``,
at most ``attempts`` tries, or forever if None), signs in again with the saved token, and for
every game it follows sends ``resync {game, after: last seq}``. Pushes are merged into
``pushes`` (sorted, each ``seq`` once) only when a resync is complete, so a reader that shows
"every push above the last one shown" sees the missed pushes in order, exactly once, with no
gaps. ``notify`` gets one-line notices: ``connection lost; reconnecting...``,
``reconnected; 3 updates while away``, or why it stopped trying (token refused, gave up).

A refused token (any ``Refused`` to the hello) stops retrying at once. After that, or after
the last attempt, :meth:`Reconnecting.request` raises the reason (``failed``).

:meth:`Reconnecting.start` can also resync from saved seqs (a previous run's, see
:func:`client_cli.config.load_seqs`); ``since`` then says from where, for the shell to show
what happened while the client was not running.
"""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable

from .connection import TIMEOUT, ClientError, ConnectError, Connection, Refused

Opener = Callable[[], Awaitable[Connection]]


class Reconnecting:
    """Use ``await Reconnecting.open(url, token=...)``; ``close()`` when done."""

    def __init__(self, opener: Opener, *, backoff: float = 0.2, max_backoff: float = 5.0,
                 attempts: int | None = None, timeout: float = TIMEOUT,
                 notify: Callable[[str], None] | None = None) -> None:
        self.opener, self.backoff, self.max_backoff, self.attempts = opener, backoff, max_backoff, attempts
        self.timeout = timeout
        self.notify = notify or (lambda line: None)
        self.conn: Connection | None = None
        self.welcome: dict[str, Any] = {}
        self.pushes: dict[str, list[dict[str, Any]]] = {}
        self.last_seq: dict[str, int] = {}  # per followed game: the last seq merged (resync from here)
        self.since: dict[str, int] = {}  # games resynced at start from a saved seq: that seq
        self.changed = asyncio.Event()
        self.up = asyncio.Event()
        self.failed: ClientError | None = None
        self.reconnects = 0
        self.closing = False
        self.resyncing = False
        self.supervisor: asyncio.Task[None] | None = None
        self.pump: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, url: str, *, token: str, timeout: float = TIMEOUT, **kw: Any) -> Reconnecting:
        """Connect (the first time errors are raised as by ``Connection.open``) and keep connected."""
        self = cls(lambda: Connection.open(url, token=token, timeout=timeout), timeout=timeout, **kw)
        await self.start()
        return self

    async def start(self, last_seq: dict[str, int] | None = None) -> None:
        """The first connection (raises ``ConnectError`` / ``Refused``); ``last_seq``: resync from
        these (a saved state) instead of the welcome's seqs."""
        conn = await self.opener()
        self.welcome = conn.welcome
        for g in conn.welcome.get("games", []):
            self.last_seq[g["game"]] = g.get("seq", 0)
        self._attach(conn)
        if last_seq:
            for game, seq in last_seq.items():
                if seq < self.last_seq.get(game, seq + 1):  # behind: the missed pushes are shown
                    self.since[game] = seq
                self.last_seq[game] = min(seq, self.last_seq.get(game, seq))
            try:
                await self._resync(conn)
            except BaseException:
                await conn.close()
                raise
        self.supervisor = asyncio.create_task(self._supervise())

    def _attach(self, conn: Connection) -> None:
        self.conn = conn
        if self.pump is not None:
            self.pump.cancel()
        self.pump = asyncio.create_task(self._pump(conn))
        self.up.set()

    async def _pump(self, conn: Connection) -> None:
        while True:
            await conn.changed.wait()
            conn.changed.clear()
            if not self.resyncing and self._merge(conn):
                self.changed.set()

    def _merge(self, conn: Connection) -> int:
        """Copy the connection's new pushes in; returns how many were new."""
        new = 0
        for game, got in conn.pushes.items():
            mine = self.pushes.setdefault(game, [])
            seen = {p.get("seq") for p in mine}
            fresh = [p for p in got if p.get("seq") not in seen]
            if fresh:
                mine.extend(fresh)
                mine.sort(key=lambda p: p.get("seq", 0))
                new += sum(1 for p in fresh if p.get("seq", 0) > self.last_seq.get(game, 0))
                self.last_seq[game] = max(self.last_seq.get(game, 0), mine[-1].get("seq", 0))
        return new

    async def _resync(self, conn: Connection) -> int:
        """Resync every followed game on ``conn``; merge; returns the number of missed pushes."""
        self.resyncing = True
        try:
            for game, after in list(self.last_seq.items()):
                try:
                    await conn.request("resync", game=game, after=after)
                except Refused:  # the game is gone (not_found): stop following it
                    self.last_seq.pop(game, None)
            return self._merge(conn)
        finally:
            self.resyncing = False

    async def _supervise(self) -> None:
        while not self.closing:
            assert self.conn is not None
            try:
                await asyncio.shield(self.conn.reader)
            except Exception:  # noqa: BLE001 - the reader died: the link is gone either way
                pass
            if self.closing:
                return
            self.up.clear()
            self.notify("connection lost; reconnecting...")
            self.changed.set()
            conn = await self._reconnect()
            if conn is None:
                self.changed.set()
                return
            self.reconnects += 1
            self._attach(conn)
            try:
                n = await self._resync(conn)
            except ConnectError:
                continue  # lost again during the resync: the loop notices the closed reader
            self.notify(f"reconnected; {n} update{'s' if n != 1 else ''} while away")
            self.changed.set()

    async def _reconnect(self) -> Connection | None:
        delay, tries = self.backoff, 0
        while not self.closing:
            tries += 1
            try:
                conn = await self.opener()
                self.welcome = conn.welcome
                return conn
            except Refused as e:
                self.failed = Refused(e.code, f"the server refused the saved token ({e.message}); "
                                      "not reconnecting: sign in again with an invite or a new token", e.field)
                self.notify(f"reconnect refused: {e.code}: {e.message}; not retrying")
                return None
            except ConnectError as e:
                if self.attempts is not None and tries >= self.attempts:
                    self.failed = ConnectError(f"the server is down: gave up after {tries} attempts ({e})")
                    self.notify(f"gave up reconnecting after {tries} attempts: {e}")
                    return None
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.max_backoff)
        return None

    async def request(self, kind: str, /, **fields: Any) -> dict[str, Any]:
        """As :meth:`Connection.request`; while reconnecting, waits (up to the timeout) first.

        Raises:
            ConnectError: not reconnected in time, gave up, or the link dropped mid-request
                (the request may or may not have been applied).
            Refused: the reply was an error, or the token was refused on reconnecting.
        """
        if self.failed is None and not self.up.is_set():
            try:
                await asyncio.wait_for(self.up.wait(), self.timeout)
            except asyncio.TimeoutError:
                raise ConnectError("the connection is lost and not back yet; still trying") from None
        if self.failed is not None:
            raise self.failed
        assert self.conn is not None
        conn = self.conn
        reply = await conn.request(kind, **fields)
        game = fields.get("game")
        if kind in ("watch", "resync") and isinstance(game, str) and game not in self.last_seq:
            self.last_seq[game] = int(reply.get("seq") or reply.get("last") or 0)
        if kind in ("resync", "watch"):
            if not self.resyncing and self._merge(conn):
                self.changed.set()
        return reply

    async def close(self) -> None:
        self.closing = True
        self.up.set()
        for t in (self.supervisor, self.pump):
            if t is not None:
                t.cancel()
        if self.conn is not None:
            await self.conn.close()

    async def __aenter__(self) -> Reconnecting:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()


__all__ = ["Reconnecting"]
