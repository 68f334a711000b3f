"""The SQLite schema, versioned with ``PRAGMA user_version``.

Tables:

- ``users``: accounts; ``token_hash`` is salt + scrypt of the token (never the token).
- ``invites``: invite codes (hashed), for a game and optionally a nation; ``used_by`` once used.
- ``games``: one row per game: settings (JSON), status (``forming``, ``active``, ``finished``,
  ``quarantined``), current ``phase`` and ``state`` (canonical msgpack of ``state_plain``),
  ``deadline`` (UTC seconds), ``seq`` (last push sequence number).
- ``seats``: who plays each nation, missed movement phases, civil disorder.
- ``orders``: the latest whole set per (game, phase, nation), canonical text, who entered it.
- ``ready``: ready flags per (game, phase, nation) with the time they were set.
- ``pushes``: every push of a game by sequence number, the encoded frame, for resync.
- ``phases``: each adjudicated phase: orders as entered, results, digest of the next state.
  ``UNIQUE(game, phase)`` makes adjudication happen at most once.
"""

from __future__ import annotations

import sqlite3

VERSION = 1

DDL = """
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('host', 'player')),
    token_hash BLOB NOT NULL,
    created INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS games (
    id TEXT PRIMARY KEY,
    ruleset TEXT NOT NULL,
    title TEXT NOT NULL,
    settings TEXT NOT NULL,
    host INTEGER NOT NULL REFERENCES users(id),
    status TEXT NOT NULL,
    phase TEXT NOT NULL,
    state BLOB NOT NULL,
    deadline INTEGER,
    seq INTEGER NOT NULL DEFAULT 0,
    created INTEGER NOT NULL,
    error TEXT
);
CREATE TABLE IF NOT EXISTS invites (
    id INTEGER PRIMARY KEY,
    game TEXT NOT NULL REFERENCES games(id),
    nation TEXT,
    code_hash BLOB NOT NULL,
    created_by INTEGER NOT NULL REFERENCES users(id),
    used_by INTEGER REFERENCES users(id),
    created INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS seats (
    game TEXT NOT NULL REFERENCES games(id),
    nation TEXT NOT NULL,
    user INTEGER REFERENCES users(id),
    missed INTEGER NOT NULL DEFAULT 0,
    civil_disorder INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (game, nation)
);
CREATE TABLE IF NOT EXISTS orders (
    game TEXT NOT NULL REFERENCES games(id),
    phase TEXT NOT NULL,
    nation TEXT NOT NULL,
    text TEXT NOT NULL,
    entered_by TEXT NOT NULL,
    submitted INTEGER NOT NULL,
    PRIMARY KEY (game, phase, nation)
);
CREATE TABLE IF NOT EXISTS ready (
    game TEXT NOT NULL REFERENCES games(id),
    phase TEXT NOT NULL,
    nation TEXT NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (game, phase, nation)
);
CREATE TABLE IF NOT EXISTS pushes (
    game TEXT NOT NULL REFERENCES games(id),
    seq INTEGER NOT NULL,
    audience TEXT NOT NULL DEFAULT 'all',
    frame BLOB NOT NULL,
    PRIMARY KEY (game, seq)
);
CREATE TABLE IF NOT EXISTS phases (
    game TEXT NOT NULL REFERENCES games(id),
    idx INTEGER NOT NULL,
    phase TEXT NOT NULL,
    orders BLOB NOT NULL,
    results BLOB NOT NULL,
    digest TEXT NOT NULL,
    processed INTEGER NOT NULL,
    PRIMARY KEY (game, idx),
    UNIQUE (game, phase)
);
"""


def connect(path: str) -> sqlite3.Connection:
    """Open (creating if needed) the database in WAL mode with ``synchronous=FULL``."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout = 10000")
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal" and path != ":memory:":
        raise RuntimeError(f"{path}: cannot switch to WAL mode (got {mode})")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > VERSION:
        raise RuntimeError(f"{path}: schema version {version} is newer than this Kessen ({VERSION})")
    if version < VERSION:
        conn.execute("BEGIN IMMEDIATE")
        try:
            for stmt in DDL.split(";"):
                if stmt.strip():
                    conn.execute(stmt)
            conn.execute(f"PRAGMA user_version = {VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return conn


__all__ = ["VERSION", "connect"]
