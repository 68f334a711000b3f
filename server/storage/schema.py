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
- ``phases``: each adjudicated phase: orders as entered, results, digest of the next state,
  and ``before`` (what a rollback restores: board, seats, deadline). A unique index on
  ``(game, phase)`` over the rows not ``superseded`` makes adjudication happen at most once;
  a rolled-back phase stays, marked ``superseded``.
- ``events``: the game's event history (host actions, absences, the end of the game),
  readable by its players; ``pos`` is the number of phase rows when it happened, so an
  export interleaves events and phases exactly.
- ``press``: every press message; ``recipients`` is ``*`` (broadcast) or a comma list of
  nations and ``host``; ``released`` once published at the end of the game.
- ``votes``: draw and concession votes per nation (they stand until changed).
- ``absences``: declared absences per (game, user).
- ``tenures``: who played each nation from when to when, and why it ended.
- ``reminders``: reminders already sent (game, phase, offset): each is sent once.

Version 2 added ``events``, ``press``, ``votes``, ``absences``, ``tenures``,
``reminders``, ``users.tz``, ``games.paused_left/extended/result``, ``seats.advertised``
and the rollback columns of ``phases``; :func:`connect` migrates a version 1 file in one
transaction.
"""

from __future__ import annotations

import sqlite3

VERSION = 2

DDL = """
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('host', 'player')),
    token_hash BLOB NOT NULL,
    created INTEGER NOT NULL,
    tz TEXT
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
    error TEXT,
    paused_left INTEGER,
    extended INTEGER NOT NULL DEFAULT 0,
    result TEXT
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
    advertised INTEGER NOT NULL DEFAULT 0,
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
    superseded INTEGER NOT NULL DEFAULT 0,
    before BLOB,
    PRIMARY KEY (game, idx)
);
CREATE UNIQUE INDEX IF NOT EXISTS phases_once ON phases (game, phase) WHERE superseded = 0;
CREATE TABLE IF NOT EXISTS events (
    game TEXT NOT NULL REFERENCES games(id),
    n INTEGER NOT NULL,
    pos INTEGER NOT NULL,
    phase TEXT NOT NULL,
    kind TEXT NOT NULL,
    by TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    time INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (game, n)
);
CREATE TABLE IF NOT EXISTS press (
    game TEXT NOT NULL REFERENCES games(id),
    id INTEGER NOT NULL,
    phase TEXT NOT NULL,
    sender TEXT NOT NULL,
    grey INTEGER NOT NULL DEFAULT 0,
    recipients TEXT NOT NULL,
    text TEXT NOT NULL,
    time INTEGER NOT NULL,
    released INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (game, id)
);
CREATE TABLE IF NOT EXISTS votes (
    game TEXT NOT NULL REFERENCES games(id),
    nation TEXT NOT NULL,
    kind TEXT NOT NULL,
    value INTEGER NOT NULL,
    phase TEXT NOT NULL,
    time INTEGER NOT NULL,
    PRIMARY KEY (game, nation, kind)
);
CREATE TABLE IF NOT EXISTS absences (
    game TEXT NOT NULL REFERENCES games(id),
    user INTEGER NOT NULL REFERENCES users(id),
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    created INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS tenures (
    game TEXT NOT NULL REFERENCES games(id),
    nation TEXT NOT NULL,
    user INTEGER NOT NULL REFERENCES users(id),
    player TEXT NOT NULL,
    start_phase TEXT NOT NULL,
    start_time INTEGER NOT NULL,
    end_phase TEXT,
    end_time INTEGER,
    reason TEXT
);
CREATE TABLE IF NOT EXISTS reminders (
    game TEXT NOT NULL REFERENCES games(id),
    phase TEXT NOT NULL,
    offset INTEGER NOT NULL,
    PRIMARY KEY (game, phase, offset)
);
"""


MIGRATE_1_TO_2 = (
    "ALTER TABLE users ADD COLUMN tz TEXT",
    "ALTER TABLE games ADD COLUMN paused_left INTEGER",
    "ALTER TABLE games ADD COLUMN extended INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE games ADD COLUMN result TEXT",
    "ALTER TABLE seats ADD COLUMN advertised INTEGER NOT NULL DEFAULT 0",
    # UNIQUE(game, phase) becomes a partial index: the table is rebuilt
    "ALTER TABLE phases RENAME TO phases_v1",
    "CREATE TABLE phases (game TEXT NOT NULL REFERENCES games(id), idx INTEGER NOT NULL, phase TEXT NOT NULL, "
    "orders BLOB NOT NULL, results BLOB NOT NULL, digest TEXT NOT NULL, processed INTEGER NOT NULL, "
    "superseded INTEGER NOT NULL DEFAULT 0, before BLOB, PRIMARY KEY (game, idx))",
    "INSERT INTO phases (game, idx, phase, orders, results, digest, processed) "
    "SELECT game, idx, phase, orders, results, digest, processed FROM phases_v1",
    "DROP TABLE phases_v1",
)


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
            if version == 1:
                for stmt in MIGRATE_1_TO_2:
                    conn.execute(stmt)
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
