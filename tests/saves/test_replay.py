"""Tests for server.saves.replay: boards at any phase, the JSON export, CSV tables."""

from __future__ import annotations

import csv
import io
import json
import sqlite3

import numpy as np
import pytest

from server.engine import canonical
from server.saves.format import to_bytes
from server.saves.model import PhaseRecord, SaveError
from server.saves.replay import (
    TABLES,
    board_at,
    board_plain,
    board_text,
    boards,
    export_json,
    export_plain,
    save_from_export,
    table_rows,
)


def test_boards_follow_the_records(small, classic):
    """There is one board per phase record, then the final board."""
    bs = list(boards(classic, small))
    phases = [r for r in small.records if isinstance(r, PhaseRecord)]
    assert [b.phase for b in bs[:-1]] == [r.phase for r in phases]
    assert bs[0].state == small.initial
    assert bs[-1].index is None and bs[-1].record is None


def test_board_at_a_phase(small, classic):
    """board_at gives the board at the start of the phase with its orders and results."""
    target = small.phases[3]
    b = board_at(classic, small, target.phase.lower())
    assert b.record == target and b.turn is not None
    plain = board_plain(classic, b)
    assert plain["phase"] == target.phase and plain["record"] == small.records.index(target)
    assert sum(len(v) for v in plain["orders"].values()) == target.order_count
    assert sum(plain["centre_counts"].values()) == len(b.state.centres)
    text = board_text(classic, b, "Small game")
    assert target.phase in text and "centres:" in text


def test_board_at_final_and_unknown(small, classic):
    """No phase gives the final board; an unknown phase is a KeyError naming the range."""
    final = board_at(classic, small)
    assert final.index is None
    with pytest.raises(KeyError, match="runs from S1901M"):
        board_at(classic, small, "S1999M")


def test_json_export_round_trip_is_byte_identical(small, small_embedded):
    """Export to JSON and back gives the very same bytes."""
    for save in (small, small_embedded):
        text = export_json(save)
        back = save_from_export(json.loads(text))
        assert to_bytes(back) == to_bytes(save)


def test_json_export_schema(small):
    """The export names its schema and holds header, initial state, records and end."""
    doc = export_plain(small)
    assert doc["schema"] == "kessen.save/1"
    assert doc["initial_state"] == canonical.state_plain(small.initial)
    assert doc["end"]["records"] == len(small.records) == len(doc["records"])
    kinds = {r["kind"] for r in doc["records"]}
    assert kinds == {"phase", "event"}
    phase = next(r for r in doc["records"] if r["kind"] == "phase")
    entry = next(iter(phase["orders"].values()))[0]
    assert set(entry) == {"order", "by", "result", "reason"}


def test_edited_export_is_refused(small):
    """An export edited by hand fails on import, naming the record."""
    doc = export_plain(small)
    k = next(i for i, r in enumerate(doc["records"]) if r["kind"] == "phase" and i > 2)
    first = next(iter(doc["records"][k]["orders"].values()))
    first[0]["result"] = "void" if first[0]["result"] != "void" else "fails"
    with pytest.raises(SaveError, match=f"record {k} .*chain mismatch"):
        save_from_export(json.loads(json.dumps(doc)))
    with pytest.raises(SaveError, match="schema"):
        save_from_export({"schema": "other"})


def _csv(rows, columns):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    w.writerows(rows)
    return buf.getvalue()


def test_csv_tables_join_in_sqlite(small, classic):
    """The CSV tables load into sqlite and join on game and phase ids."""
    rows = table_rows(classic, small)
    db = sqlite3.connect(":memory:")
    for name, columns in TABLES.items():
        text = _csv(rows[name], columns)
        reader = csv.reader(io.StringIO(text))
        head = next(reader)
        db.execute(f"create table {name} ({', '.join(f'[{c}]' for c in head)})")
        db.executemany(f"insert into {name} values ({', '.join('?' * len(head))})", reader)
    n_orders = db.execute("select count(*) from orders o join phases p on o.game = p.game and o.phase = p.phase").fetchone()[0]
    assert n_orders == sum(r.order_count for r in small.phases)
    per_phase = db.execute(
        "select p.phase, p.units, count(u.unit) from phases p join units u "
        "on u.game = p.game and u.record = p.record and u.dislodged = '0' group by p.record").fetchall()
    assert per_phase and all(int(a) == b for _, a, b in per_phase)
    centres = db.execute("select count(*) from centres c join phases p on c.game = p.game and c.record = p.record").fetchone()[0]
    assert centres == sum(int(r[9]) for r in rows["phases"])


def test_csv_tables_load_in_numpy(small, classic):
    """The phases table loads with numpy.genfromtxt."""
    rows = table_rows(classic, small)
    text = _csv(rows["phases"], TABLES["phases"])
    arr = np.genfromtxt(io.StringIO(text), delimiter=",", names=True, dtype=None, encoding="utf-8")
    assert len(arr) == small.phase_count + 1
    assert int(arr["year"].min()) == 1901
    assert list(arr["played"]).count(0) == 1
