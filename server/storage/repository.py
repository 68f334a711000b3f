"""The repository: every read and write of the server. One writer, with group commit.

One connection writes (:class:`Writer`). A write is a function ``fn(db)``. The event loop
awaits :meth:`Repository.submit`: writes submitted while the previous group is being
committed wait; then all of them run in one ``BEGIN IMMEDIATE`` transaction (each inside
its own ``SAVEPOINT``, so one that raises is undone alone and gets its exception back), and
the ``COMMIT`` (WAL, ``synchronous=FULL``: one fsync for the whole group) runs in a helper
thread so the loop goes on serving. Only after the commit returns is each write's future
completed: nobody is told a write happened before it is durable. The statements themselves
run on the loop thread (they take microseconds; running them on a second thread would make
the two fight over the GIL at every statement), and the connection is never used by the two
threads at once. Setup paths and the command line use the blocking :meth:`Repository.run`.

Reads go through a second connection (``Repository.db``); WAL lets it read while a group is
being committed, and it sees every committed write. ``kessen user add`` may open a second
Repository from another process (SQLite's lock and ``busy_timeout`` serialise the two).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import sqlite3
import time
from typing import Any, Callable, TypeVar

import msgpack

from . import schema

T = TypeVar("T")
MAX_GROUP = 1024
"""At most this many writes share one transaction."""


def _unpack(blob: bytes) -> Any:
    return msgpack.unpackb(blob, raw=False, strict_map_key=False)


def pack(value: Any) -> bytes:
    return msgpack.packb(value, use_bin_type=True)


class _Group:
    """Writes committed together."""

    __slots__ = ("futures", "results", "commit", "finished")

    def __init__(self, futures: list[asyncio.Future[Any]], results: list[tuple[bool, Any]]) -> None:
        self.futures, self.results = futures, results
        self.commit: concurrent.futures.Future[None] | None = None
        self.finished = False


class Writer:
    """The one writing connection, with group commit (see the module docstring)."""

    def __init__(self, path: str) -> None:
        self.db = schema.connect(path)
        self.db.row_factory = sqlite3.Row
        self.seqs: dict[str, int] = {}  # last push seq of each game, as written (in the open transaction)
        self.phases: dict[str, str] = {}  # each game's phase as written: see phase()
        self.queue: list[tuple[Callable[[sqlite3.Connection], Any], asyncio.Future[Any]]] = []
        self.scheduled = False
        self.inflight: _Group | None = None
        self.pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="kessen-commit")
        self.groups = self.writes = 0
        self.busy = self.syncing = 0.0  # seconds running writes on the loop, and in COMMIT (the fsync)

    def stats(self) -> dict[str, Any]:
        return {"groups": self.groups, "writes": self.writes, "statements_s": round(self.busy, 3),
                "commit_s": round(self.syncing, 3)}

    def seq(self, db: sqlite3.Connection, game: str) -> int:
        """The game's last push seq (inside a write)."""
        got = self.seqs.get(game)
        if got is None:
            row = db.execute("SELECT seq FROM games WHERE id = ?", (game,)).fetchone()
            got = self.seqs[game] = int(row[0]) if row is not None else 0
        return got

    def phase(self, db: sqlite3.Connection, game: str) -> str | None:
        """The game's phase as written, including the open transaction (inside a write).

        Remembered between writes that only read it: a write is a *phase keeper* if it has
        the attribute ``keeps_phase`` (orders and ready flags, which check the phase before
        writing); after any other write, and after anything is undone, it is read again.
        Every write of the database goes through this writer, so nothing else can move a
        game's phase meanwhile.
        """
        got = self.phases.get(game)
        if got is None:
            row = db.execute("SELECT phase FROM games WHERE id = ?", (game,)).fetchone()
            if row is None:
                return None
            got = self.phases[game] = str(row[0])
        return got

    # ---- asynchronous writes (the event loop) ----------------------------------------------
    def submit(self, fn: Callable[[sqlite3.Connection], Any]) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        self.queue.append((fn, fut))
        if not self.scheduled and self.inflight is None:
            self.scheduled = True
            loop.call_soon(self._flush)  # after this loop iteration: the writes submitted meanwhile join
        return fut

    def _flush(self) -> None:
        self.scheduled = False
        if self.inflight is not None or not self.queue:
            return
        jobs, self.queue = self.queue[:MAX_GROUP], self.queue[MAX_GROUP:]
        futures = [f for _, f in jobs]
        try:
            results = self._execute([fn for fn, _ in jobs])
        except Exception as e:  # BEGIN or a statement failed (locked, I/O): none of them happened
            self._rollback()  # the transaction, if it was begun, is not left open for the next group
            for f in futures:
                if not f.done():
                    f.set_exception(e)
            self._next()
            return
        group = self.inflight = _Group(futures, results)
        loop = asyncio.get_running_loop()
        group.commit = self.pool.submit(self._commit)
        group.commit.add_done_callback(lambda _: _call_soon(loop, self._finish, group))

    def _execute(self, fns: list[Callable[[sqlite3.Connection], Any]]) -> list[tuple[bool, Any]]:
        """BEGIN and every write in its savepoint; the caller commits."""
        db = self.db
        t0 = time.perf_counter()
        db.execute("BEGIN IMMEDIATE")
        results: list[tuple[bool, Any]] = []
        for fn in fns:
            light = getattr(fn, "light", False)
            if not light:
                db.execute("SAVEPOINT job")
            try:
                value = fn(db)
            except sqlite3.Error as e:
                if light:  # its one statement failed: the transaction may be gone; fail the group
                    raise
                self._undo(db, light=False)
                results.append((False, e))
                continue
            except Exception as e:  # undo this write alone; its caller gets the error
                self._undo(db, light)
                results.append((False, e))
                continue
            if not getattr(fn, "keeps_phase", False):
                self.phases.clear()
            if not light:
                db.execute("RELEASE job")
            results.append((True, value))
        self.busy += time.perf_counter() - t0
        self.groups += 1
        self.writes += len(fns)
        return results

    def _undo(self, db: sqlite3.Connection, light: bool) -> None:
        """Undo the write that just raised. A *light* write (attribute ``light``: it raises
        only before its one write statement, or from that statement) wrote nothing and has no
        savepoint; it saves two statements on the most frequent write, replacing orders."""
        if not light:
            db.execute("ROLLBACK TO job")
            db.execute("RELEASE job")
        self.seqs.clear()
        self.phases.clear()

    def _commit(self) -> None:  # the helper thread; the loop does not touch the connection meanwhile
        t0 = time.perf_counter()
        self.db.execute("COMMIT")
        self.syncing += time.perf_counter() - t0

    def _finish(self, group: _Group, flush: bool = True) -> None:
        if group.finished:
            return
        group.finished = True
        self.inflight = None
        assert group.commit is not None
        error = group.commit.exception()
        if error is not None:  # the transaction failed as a whole: nothing of it happened
            self._rollback()
        futures, results = group.futures, group.results
        # the commit's done-callback refers to the group: break that cycle, so the group's
        # futures and results are freed now rather than by the cycle collector
        group.commit, group.futures, group.results = None, [], []
        for fut, (ok, value) in zip(futures, results):
            if fut.done():
                continue
            if error is not None:
                fut.set_exception(error)
            elif ok:
                fut.set_result(value)
            else:
                fut.set_exception(value)
        if flush:
            self._next()

    def _next(self) -> None:
        if self.queue and not self.scheduled:
            self.scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _rollback(self) -> None:
        self.seqs.clear()
        self.phases.clear()
        try:
            self.db.execute("ROLLBACK")
        except sqlite3.Error:
            pass

    # ---- blocking writes (setup, command line, rare changes) -------------------------------
    def _settle(self) -> None:
        """Wait for the group being committed, if any (blocking)."""
        group = self.inflight
        if group is not None and group.commit is not None:
            concurrent.futures.wait([group.commit])
            self._finish(group, flush=False)

    def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        self._settle()
        self.phases.clear()
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            value = fn(db)
            db.execute("COMMIT")
        except BaseException:
            self._rollback()
            raise
        if self.queue and not self.scheduled:
            try:
                self._next()
            except RuntimeError:  # no running loop: nothing can be queued
                pass
        return value

    def close(self) -> None:
        self._settle()
        if self.queue:  # submitted, never flushed: commit them now
            jobs, self.queue = self.queue, []
            try:
                results = self._execute([fn for fn, _ in jobs])
                self.db.execute("COMMIT")
            except Exception as e:
                self._rollback()
                results = [(False, e)] * len(jobs)
            for (_, fut), (ok, value) in zip(jobs, results):
                if not fut.done():
                    fut.set_result(value) if ok else fut.set_exception(value)
        self.pool.shutdown(wait=True)
        self.db.close()


def _call_soon(loop: asyncio.AbstractEventLoop, fn: Callable[..., Any], *args: Any) -> None:
    try:
        loop.call_soon_threadsafe(fn, *args)
    except RuntimeError:  # the loop is closed (shutdown): close() settles the group itself
        pass


class Repository:
    """Typed queries over the schema of :mod:`server.storage.schema`."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.db = schema.connect(path)
        self.db.row_factory = sqlite3.Row
        self.writer = Writer(path)

    def close(self) -> None:
        self.writer.close()
        self.db.close()

    def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Write, blocking until it is committed; returns ``fn``'s value (or raises its error)."""
        return self.writer.run(fn)

    def submit(self, fn: Callable[[sqlite3.Connection], T]) -> asyncio.Future[T]:
        """Write from the event loop: a future completed once the write is committed."""
        return self.writer.submit(fn)

    def integrity(self) -> str:
        return str(self.db.execute("PRAGMA integrity_check").fetchone()[0])

    # ---- users -----------------------------------------------------------------------------
    def add_user(self, name: str, role: str, token_hash: bytes, now: int) -> int:
        def write(db: sqlite3.Connection) -> int:
            cur = db.execute("INSERT INTO users (name, role, token_hash, created) VALUES (?, ?, ?, ?)",
                             (name, role, token_hash, now))
            return int(cur.lastrowid or 0)
        return self.run(write)

    def next_user_id(self) -> int:
        row = self.db.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM users").fetchone()
        return int(row[0])

    def user(self, user_id: int) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()

    def user_by_name(self, name: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM users WHERE name = ?", (name,)).fetchone()

    def set_token(self, user_id: int, token_hash: bytes) -> None:
        self.run(lambda db: db.execute("UPDATE users SET token_hash = ? WHERE id = ?", (token_hash, user_id)))

    # ---- invites ---------------------------------------------------------------------------
    def next_invite_id(self) -> int:
        return int(self.db.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM invites").fetchone()[0])

    def add_invite(self, invite_id: int, game: str, nation: str | None, code_hash: bytes, by: int, now: int) -> None:
        self.run(lambda db: db.execute(
            "INSERT INTO invites (id, game, nation, code_hash, created_by, created) VALUES (?, ?, ?, ?, ?, ?)",
            (invite_id, game, nation, code_hash, by, now)))

    def invite(self, invite_id: int) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM invites WHERE id = ?", (invite_id,)).fetchone()

    def use_invite(self, invite_id: int, user_id: int) -> bool:
        return self.run(lambda db: db.execute(
            "UPDATE invites SET used_by = ? WHERE id = ? AND used_by IS NULL", (user_id, invite_id)).rowcount == 1)

    # ---- games -----------------------------------------------------------------------------
    def add_game(self, game: str, ruleset: str, title: str, settings: dict[str, Any], host: int,
                 phase: str, state: bytes, nations: tuple[str, ...], now: int) -> None:
        def write(db: sqlite3.Connection) -> None:
            db.execute("INSERT INTO games (id, ruleset, title, settings, host, status, phase, state, created) "
                       "VALUES (?, ?, ?, ?, ?, 'forming', ?, ?, ?)",
                       (game, ruleset, title, json.dumps(settings, sort_keys=True), host, phase, state, now))
            db.executemany("INSERT INTO seats (game, nation) VALUES (?, ?)", [(game, n) for n in nations])
        self.run(write)

    def game(self, game: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM games WHERE id = ?", (game,)).fetchone()

    def games(self, statuses: tuple[str, ...] | None = None) -> list[sqlite3.Row]:
        if statuses is None:
            return list(self.db.execute("SELECT * FROM games ORDER BY id"))
        marks = ",".join("?" * len(statuses))
        return list(self.db.execute(f"SELECT * FROM games WHERE status IN ({marks}) ORDER BY id", statuses))

    def settings(self, row: sqlite3.Row) -> dict[str, Any]:
        return dict(json.loads(row["settings"]))

    def seats(self, game: str) -> list[sqlite3.Row]:
        return list(self.db.execute(
            "SELECT seats.*, users.name AS player FROM seats LEFT JOIN users ON users.id = seats.user "
            "WHERE game = ? ORDER BY nation", (game,)))

    def seats_of(self, user_id: int) -> list[sqlite3.Row]:
        return list(self.db.execute("SELECT game, nation FROM seats WHERE user = ? ORDER BY game", (user_id,)))

    def hosted_by(self, user_id: int) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT id FROM games WHERE host = ? ORDER BY id", (user_id,))]

    # ---- orders and ready flags ------------------------------------------------------------
    def orders(self, game: str, phase: str) -> dict[str, sqlite3.Row]:
        return {r["nation"]: r for r in self.db.execute(
            "SELECT * FROM orders WHERE game = ? AND phase = ?", (game, phase))}

    def ready(self, game: str, phase: str) -> dict[str, int]:
        return {r["nation"]: int(r["at"]) for r in self.db.execute(
            "SELECT nation, at FROM ready WHERE game = ? AND phase = ?", (game, phase))}

    # ---- pushes ----------------------------------------------------------------------------
    def pushes_after(self, game: str, seq: int, limit: int = 100_000) -> list[tuple[int, str, bytes]]:
        """``(seq, audience, frame)`` of every push after ``seq``; the caller filters by audience."""
        return [(int(r[0]), str(r[1]), bytes(r[2])) for r in self.db.execute(
            "SELECT seq, audience, frame FROM pushes WHERE game = ? AND seq > ? ORDER BY seq LIMIT ?",
            (game, seq, limit))]

    def phase_count(self, game: str) -> int:
        """Phase rows of the game, superseded ones included (the next row's ``idx``)."""
        return int(self.db.execute("SELECT COUNT(*) FROM phases WHERE game = ?", (game,)).fetchone()[0])

    # ---- history, absences, tenures --------------------------------------------------------
    def events(self, game: str) -> list[dict[str, Any]]:
        return [{"n": r["n"], "pos": r["pos"], "phase": r["phase"], "kind": r["kind"], "by": r["by"],
                 "reason": r["reason"], "time": r["time"], "data": _unpack(r["data"])}
                for r in self.db.execute("SELECT * FROM events WHERE game = ? ORDER BY n", (game,))]

    def absences(self, game: str) -> list[tuple[int, int, int]]:
        return [(int(r[0]), int(r[1]), int(r[2])) for r in self.db.execute(
            "SELECT user, start, end FROM absences WHERE game = ? ORDER BY start, user", (game,))]

    def tenures(self, game: str) -> list[dict[str, Any]]:
        return [dict(r) for r in self.db.execute(
            "SELECT nation, user, player, start_phase, start_time, end_phase, end_time, reason FROM tenures "
            "WHERE game = ? ORDER BY nation, start_time, rowid", (game,))]

    def last_phase(self, game: str) -> sqlite3.Row | None:
        """The latest phase row that is not superseded (what a rollback undoes)."""
        return self.db.execute("SELECT * FROM phases WHERE game = ? AND superseded = 0 ORDER BY idx DESC LIMIT 1",
                               (game,)).fetchone()

    # ---- phases ----------------------------------------------------------------------------
    def phases(self, game: str) -> list[dict[str, Any]]:
        return [{"idx": r["idx"], "phase": r["phase"], "orders": _unpack(r["orders"]),
                 "results": _unpack(r["results"]), "digest": r["digest"], "processed": r["processed"],
                 "superseded": bool(r["superseded"])}
                for r in self.db.execute("SELECT * FROM phases WHERE game = ? ORDER BY idx", (game,))]


class ReadOnlyRepository(Repository):
    """The read queries of :class:`Repository` over a read-only connection, no writer: for
    another process reading a live database (the publishing worker, :mod:`server.net.publish`)."""

    def __init__(self, path: str) -> None:
        self.path = path
        from urllib.parse import quote

        uri = f"file:{quote(os.path.abspath(path))}?mode=ro"
        self.db = sqlite3.connect(uri, uri=True, check_same_thread=False)
        self.db.execute("PRAGMA busy_timeout = 10000")
        self.db.row_factory = sqlite3.Row

    def close(self) -> None:
        self.db.close()

    def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        raise RuntimeError("a read-only repository does not write")

    def submit(self, fn: Callable[[sqlite3.Connection], T]) -> asyncio.Future[T]:
        raise RuntimeError("a read-only repository does not write")


__all__ = ["Repository", "ReadOnlyRepository", "Writer", "pack"]
