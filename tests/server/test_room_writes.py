"""In-process checks of a room's order checking and of the writer's remembered phases.

``Room.check_orders`` remembers each line's reading for the phase; these tests hold it to a
plain reference (every line read afresh, the rules written out once more) on random sets,
before and after the cache is warm. ``Writer.phase`` remembers each game's phase between
writes that only check it; these tests check that a write which moves the phase, a write
undone by its savepoint, and a blocking write each make it read the phase again.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.engine.adjustments import adjustments_due
from server.engine.errors import OrderSyntaxError
from server.engine.notation import format_order, parse_orders
from server.engine.orders import Build, Disband, Retreat, Waive
from server.net.clock import FakeClock
from server.net.room import Batch, Room
from server.net.service import Service
from server.protocol.errors import ProtocolError
from server.storage.repository import Repository

T0 = 1_800_000_000


def _service(path: Path) -> tuple[Service, Room]:
    service = Service(Repository(str(path)), FakeClock(T0))
    host, _ = service.add_user("host", "host")
    room = service.create_game(host, "classic", "writes", {"early": False}, "g1")
    for i, nation in enumerate(room.ruleset.nation_ids):
        uid, _ = service.add_user(f"p{i}", "player")
        room.claim(nation, uid, f"p{i}", T0)
    room.start(T0)
    return service, room


@pytest.fixture(scope="module")
def game(tmp_path_factory: pytest.TempPathFactory) -> Any:
    service, room = _service(tmp_path_factory.mktemp("room") / "g.db")
    yield room
    service.repo.close()


def reference(room: Room, nation: str, text: str) -> dict[str, Any]:
    """What ``check_orders`` must say, computed the slow way: no cache, each line read alone."""
    st_ = room.state
    kind = st_.phase
    mine = [d.unit for d in st_.dislodged if d.unit.nation == nation] if kind == "retreat" \
        else [u for u in st_.units if u.nation == nation]
    units = {u.province: (u.kind, u.loc) for u in mine}
    accepted: list[str] = []
    rejected: list[dict[str, Any]] = []
    given_: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#") or line.startswith("//"):
            continue
        got = parse_orders(line, room.ruleset, units=units)[0][2]
        reason = None
        if isinstance(got, OrderSyntaxError):
            reason = str(got)
        elif kind == "adjustment":
            if not isinstance(got, (Build, Disband, Waive)):
                reason = "only builds, removals (D) and waive in an adjustment phase"
        elif isinstance(got, (Build, Waive)) or (kind == "movement" and isinstance(got, (Retreat, Disband))):
            reason = f"not an order for a {kind} phase"
        elif kind == "retreat" and not isinstance(got, (Retreat, Disband)):
            reason = "only retreats (R) and disbands (D) in a retreat phase"
        else:
            prov = got.loc.split("/")[0]  # type: ignore[union-attr]
            unit = units.get(prov)
            if unit is None or unit[0] != got.unit:  # type: ignore[union-attr]
                what = "dislodged " if kind == "retreat" else ""
                reason = f"{nation} has no {what}{'army' if got.unit == 'A' else 'fleet'} in {prov}"  # type: ignore[union-attr]
            elif prov in given_:
                reason = f"{unit[0]} {unit[1]} already has an order (line {given_[prov]})"
        if reason is not None:
            rejected.append({"line": number, "text": line, "reason": reason})
            continue
        if hasattr(got, "loc") and not isinstance(got, Build):
            given_[got.loc.split("/")[0]] = number  # type: ignore[union-attr]
        accepted.append(format_order(got))  # type: ignore[arg-type]
    out: dict[str, Any] = {"orders": accepted, "rejected": rejected}
    if kind == "adjustment":
        due = adjustments_due(room.ruleset, st_).get(nation, 0)
        out["due"] = due
        out["missing"] = [f"{abs(due) - len(accepted)} more {'build' if due > 0 else 'removal'}(s)"] \
            if abs(due) > len(accepted) else []
    else:
        out["missing"] = [f"{u.kind} {u.loc}" for u in mine if u.province not in given_]
    return out


# lines a player might write on the 1901 board: valid, duplicated, foreign, malformed, comments
LINES = ["A Par H", "A par - bur", "A Par - Pic", "A Mar - Spa", "F Bre - Mid", "F Bre - MAO", "A Par S A Mar - Bur",
         "F Lon - Nth", "A Lvp - Yor", "F Edi - Nwg", "A Vie - Bud", "A Vie - Bdu", "F Tri - Adr", "A Bud - Ser",
         "A Mar H", "A Mar S A Par", "F Bre H", "F Bre R Pic", "A Par D", "Build A Par", "WAIVE",
         "A Pic H", "F Par H", "A Par - Bur via convoy", "", "   ", "# a comment", "// another", "xyzzy",
         "A Par - ", "F Kie - Den", "A Ber - Kie", "A Mun - Ruh", "F Ank - Bla", "A Con - Bul"]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(nation=st.sampled_from(["france", "england", "austria", "germany", "turkey"]),
       lines=st.lists(st.sampled_from(LINES), max_size=9))
def test_check_orders_matches_the_reference(game: Room, nation: str, lines: list[str]) -> None:
    text = "\n".join(lines)
    want = reference(game, nation, text)
    assert game.check_orders(nation, text) == want  # cold or warm: lines seen in earlier examples
    assert game.check_orders(nation, text) == want  # warm


def test_check_orders_cache_is_per_nation_and_per_phase(game: Room) -> None:
    assert game.check_orders("france", "A Par H")["orders"] == ["A par H"]
    refused = game.check_orders("germany", "A Par H")  # same line, other nation: not France's reading
    assert refused["orders"] == [] and refused["rejected"][0]["reason"] == "germany has no army in par"
    game._parsed[("france", "A Par H")] = (None, "stale", None, False)
    game.forget_phase()  # what an adjudication or a rollback does: the readings are dropped
    assert game.check_orders("france", "A Par H")["orders"] == ["A par H"]


def _job(room: Room, fn: Any, keeps_phase: bool) -> Any:
    return room._job(fn, keeps_phase)


def test_writer_reads_the_phase_again_after_a_write_that_moves_it(tmp_path: Path) -> None:
    service, room = _service(tmp_path / "w.db")
    writer = service.repo.writer
    try:
        async def main() -> None:
            seen: list[str | None] = []

            def check(db: sqlite3.Connection, b: Batch) -> None:  # an orders-like write
                seen.append(writer.phase(db, room.id))
                if seen[-1] != "S1901M":
                    raise ProtocolError("stale_phase", "moved", "phase")

            def move(db: sqlite3.Connection, b: Batch) -> None:  # an adjudication-like write
                db.execute("UPDATE games SET phase = 'F1901M' WHERE id = ?", (room.id,))

            def fail(db: sqlite3.Connection, b: Batch) -> None:  # moves, then is undone
                db.execute("UPDATE games SET phase = 'X' WHERE id = ?", (room.id,))
                raise RuntimeError("undone by its savepoint")

            # one group: check (remembers S1901M), a failed move (undone), check, move, check
            futs = [service.repo.submit(_job(room, check, True)), service.repo.submit(_job(room, fail, False)),
                    service.repo.submit(_job(room, check, True)), service.repo.submit(_job(room, move, False)),
                    service.repo.submit(_job(room, check, True))]
            results = await asyncio.gather(*futs, return_exceptions=True)
            assert seen == ["S1901M", "S1901M", "F1901M"]
            assert isinstance(results[1], RuntimeError)
            assert isinstance(results[4], ProtocolError) and results[4].code == "stale_phase"
            assert writer.groups == 1
            # a blocking write (another path) moves it back: the next check reads it again
            writer.run(lambda db: db.execute("UPDATE games SET phase = 'S1901M' WHERE id = ?", (room.id,)))
            seen.clear()
            await service.repo.submit(_job(room, check, True))
            assert seen == ["S1901M"]

        asyncio.run(main())
    finally:
        service.repo.close()


def test_orders_refused_after_the_phase_moved_in_the_same_group(tmp_path: Path) -> None:
    """Through the room: orders submitted behind an adjudication in one group are refused."""
    service, room = _service(tmp_path / "r.db")
    try:
        async def main() -> None:
            first = asyncio.ensure_future(room.submit("france", "A Par H", "p2", T0))
            room.closing = True
            processing = asyncio.ensure_future(room.process(T0 + 10))
            await first
            await processing
            assert room.phase == "F1901M"
            room.closing = False
            with pytest.raises(ProtocolError) as e:  # the room's guard
                room.check_phase("S1901M")
            assert e.value.code == "stale_phase"

            def late(db: sqlite3.Connection, b: Batch) -> None:  # the writer's own guard
                from server.net.room import _still_at
                _still_at(service.repo.writer, db, room.id, "S1901M")
            with pytest.raises(ProtocolError):
                await service.repo.submit(_job(room, late, True))
            rows = service.repo.orders(room.id, "S1901M")
            assert rows["france"]["text"] == "A par H"

        asyncio.run(main())
    finally:
        service.repo.close()


def test_processing_waits_for_a_write_whose_caller_was_cancelled(tmp_path: Path) -> None:
    """A request cancelled while its write waits for the commit (a client gone, a shutdown):
    the write still lands, and adjudication, which starts meanwhile, reads it."""
    service, room = _service(tmp_path / "c.db")
    try:
        async def main() -> None:
            task = asyncio.ensure_future(room.submit("france", "A Par - Bur", "p2", T0))
            await asyncio.sleep(0)  # the write is queued; the request now waits for its commit
            task.cancel()
            room.closing = True
            await room.process(T0 + 10)
            assert task.cancelled()
            assert any(u.nation == "france" and u.loc == "bur" for u in room.state.units)

        asyncio.run(main())
    finally:
        service.repo.close()


def test_light_writes_skip_savepoints_and_a_failing_one_fails_only_its_group(tmp_path: Path) -> None:
    """A light write (no savepoint) refused by its check leaves the group's other writes in
    place; one whose statement fails fails its whole group, and the transaction is not left
    open for the next group."""
    service, room = _service(tmp_path / "l.db")
    writer = service.repo.writer
    try:
        async def main() -> None:
            def put(nation: str, text: str) -> Any:
                def fn(db: sqlite3.Connection, b: Batch) -> None:
                    db.execute("INSERT OR REPLACE INTO orders (game, phase, nation, text, entered_by, submitted) "
                               "VALUES (?, 'S1901M', ?, ?, '', 0)", (room.id, nation, text))
                return _job(room, fn, True)

            def refused(db: sqlite3.Connection, b: Batch) -> None:
                raise ProtocolError("stale_phase", "refused before writing", "phase")

            def broken(db: sqlite3.Connection, b: Batch) -> None:
                db.execute("UPDATE no_such_table SET x = 1")

            light_refused = room._job(refused, True, light=True)
            light_broken = room._job(broken, True, light=True)
            got = await asyncio.gather(service.repo.submit(put("france", "A par H")),
                                       service.repo.submit(light_refused),
                                       service.repo.submit(put("england", "F lon H")), return_exceptions=True)
            assert isinstance(got[1], ProtocolError) and not isinstance(got[0], Exception)
            assert sorted(service.repo.orders(room.id, "S1901M")) == ["england", "france"]
            got = await asyncio.gather(service.repo.submit(put("italy", "A rom H")),
                                       service.repo.submit(light_broken), return_exceptions=True)
            assert all(isinstance(g, sqlite3.Error) for g in got)  # the whole group failed...
            assert "italy" not in service.repo.orders(room.id, "S1901M")  # ...and nothing of it stayed
            await service.repo.submit(put("italy", "A ven H"))  # the next group begins afresh
            assert service.repo.orders(room.id, "S1901M")["italy"]["text"] == "A ven H"
            assert not writer.db.in_transaction

        asyncio.run(main())
    finally:
        service.repo.close()
