"""A version 1 database (as the first server release wrote it) opens under schema v2 with
nothing lost, and adjudication stays at most once per phase."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from server.storage import schema

V1 = Path(__file__).parent / "data" / "schema_v1.sql"


def test_v1_database_is_migrated_in_place(tmp_path: Path) -> None:
    path = str(tmp_path / "old.db")
    db = sqlite3.connect(path)
    db.executescript(V1.read_text())
    db.execute("PRAGMA user_version = 1")
    db.execute("INSERT INTO users VALUES (1, 'h', 'host', x'00', 0)")
    db.execute("INSERT INTO games (id, ruleset, title, settings, host, status, phase, state, created) "
               "VALUES ('g1', 'classic', 't', '{}', 1, 'active', 'F1901M', x'80', 0)")
    db.execute("INSERT INTO phases VALUES ('g1', 0, 'S1901M', x'80', x'90', 'abc', 5)")
    db.commit()
    db.close()
    conn = schema.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == schema.VERSION == 2
    row = conn.execute("SELECT phase, digest, superseded, before FROM phases").fetchone()
    assert row == ("S1901M", "abc", 0, None)
    assert conn.execute("SELECT paused_left, extended, result FROM games").fetchone() == (None, 0, None)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with pytest.raises(sqlite3.IntegrityError):  # still at most once per phase ...
        conn.execute("INSERT INTO phases (game, idx, phase, orders, results, digest, processed) "
                     "VALUES ('g1', 1, 'S1901M', x'80', x'90', 'd', 6)")
    conn.execute("UPDATE phases SET superseded = 1 WHERE idx = 0")  # ... unless the first was rolled back
    conn.execute("INSERT INTO phases (game, idx, phase, orders, results, digest, processed) "
                 "VALUES ('g1', 1, 'S1901M', x'80', x'90', 'd', 6)")
    conn.close()
    assert schema.connect(path).execute("PRAGMA user_version").fetchone()[0] == 2  # idempotent
