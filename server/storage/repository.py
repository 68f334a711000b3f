"""The repository: every read and write of the server, through one connection (one writer).

Writes happen in short ``BEGIN IMMEDIATE`` transactions opened with :meth:`Repository.write`;
a block that raises rolls back. The server owns one Repository and calls it from the event
loop thread only, so there is exactly one writer; ``kessen user add`` may open a second one
from another process (SQLite's lock and ``busy_timeout`` serialise the two).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from typing import Any, Iterator

import msgpack

from . import schema


def _unpack(blob: bytes) -> Any:
    return msgpack.unpackb(blob, raw=False, strict_map_key=False)


def pack(value: Any) -> bytes:
    return msgpack.packb(value, use_bin_type=True)


class Repository:
    """Typed queries over the schema of :mod:`server.storage.schema`."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.db = schema.connect(path)
        self.db.row_factory = sqlite3.Row
        self._depth = 0

    def close(self) -> None:
        self.db.close()

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One all-or-nothing transaction (re-entrant: an inner block joins the outer one)."""
        if self._depth:
            self._depth += 1
            try:
                yield self.db
            finally:
                self._depth -= 1
            return
        self.db.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield self.db
        except BaseException:
            self._depth = 0
            self.db.execute("ROLLBACK")
            raise
        self._depth = 0
        self.db.execute("COMMIT")

    def integrity(self) -> str:
        return str(self.db.execute("PRAGMA integrity_check").fetchone()[0])

    # ---- users -----------------------------------------------------------------------------
    def add_user(self, name: str, role: str, token_hash: bytes, now: int) -> int:
        with self.write() as db:
            cur = db.execute("INSERT INTO users (name, role, token_hash, created) VALUES (?, ?, ?, ?)",
                             (name, role, token_hash, now))
            return int(cur.lastrowid or 0)

    def next_user_id(self) -> int:
        row = self.db.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM users").fetchone()
        return int(row[0])

    def user(self, user_id: int) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()

    def user_by_name(self, name: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM users WHERE name = ?", (name,)).fetchone()

    def set_token(self, user_id: int, token_hash: bytes) -> None:
        with self.write() as db:
            db.execute("UPDATE users SET token_hash = ? WHERE id = ?", (token_hash, user_id))

    # ---- invites ---------------------------------------------------------------------------
    def next_invite_id(self) -> int:
        return int(self.db.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM invites").fetchone()[0])

    def add_invite(self, invite_id: int, game: str, nation: str | None, code_hash: bytes, by: int, now: int) -> None:
        with self.write() as db:
            db.execute("INSERT INTO invites (id, game, nation, code_hash, created_by, created) VALUES (?, ?, ?, ?, ?, ?)",
                       (invite_id, game, nation, code_hash, by, now))

    def invite(self, invite_id: int) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM invites WHERE id = ?", (invite_id,)).fetchone()

    def use_invite(self, invite_id: int, user_id: int) -> bool:
        with self.write() as db:
            cur = db.execute("UPDATE invites SET used_by = ? WHERE id = ? AND used_by IS NULL", (user_id, invite_id))
            return cur.rowcount == 1

    # ---- games -----------------------------------------------------------------------------
    def add_game(self, game: str, ruleset: str, title: str, settings: dict[str, Any], host: int,
                 phase: str, state: bytes, nations: tuple[str, ...], now: int) -> None:
        with self.write() as db:
            db.execute("INSERT INTO games (id, ruleset, title, settings, host, status, phase, state, created) "
                       "VALUES (?, ?, ?, ?, ?, 'forming', ?, ?, ?)",
                       (game, ruleset, title, json.dumps(settings, sort_keys=True), host, phase, state, now))
            db.executemany("INSERT INTO seats (game, nation) VALUES (?, ?)", [(game, n) for n in nations])

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
    def pushes_after(self, game: str, seq: int, limit: int = 100_000) -> list[tuple[int, bytes]]:
        return [(int(r[0]), bytes(r[1])) for r in self.db.execute(
            "SELECT seq, frame FROM pushes WHERE game = ? AND seq > ? AND audience = 'all' ORDER BY seq LIMIT ?",
            (game, seq, limit))]

    # ---- phases ----------------------------------------------------------------------------
    def phases(self, game: str) -> list[dict[str, Any]]:
        return [{"idx": r["idx"], "phase": r["phase"], "orders": _unpack(r["orders"]),
                 "results": _unpack(r["results"]), "digest": r["digest"], "processed": r["processed"]}
                for r in self.db.execute("SELECT * FROM phases WHERE game = ? ORDER BY idx", (game,))]


__all__ = ["Repository", "pack"]
