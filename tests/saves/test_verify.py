"""Tests for server.saves.verify: re-adjudication from the initial state and recorded orders."""

from __future__ import annotations

import attrs
import pytest

from server.engine import canonical
from server.engine.notation import parse_order
from server.engine.state import GameState, Unit, initial_state, phase_name
from server.engine.turn import step
from server.saves.builder import new_save
from server.saves.format import to_bytes
from server.saves.model import PhaseRecord, SaveError
from server.saves.verify import replay_steps, resolve_ruleset, verify_bytes, verify_save
from server.selfplay import play


def installed(classic):
    return lambda h: resolve_ruleset(h, lambda rid: classic if rid == "classic" else None)


def _replace_record(save, index, record):
    records = list(save.records)
    records[index] = record
    return attrs.evolve(save, records=tuple(records))


def _first_phase_index(save, after=0):
    return next(k for k, r in enumerate(save.records) if isinstance(r, PhaseRecord) and k >= after)


def test_recorded_game_verifies(small, classic):
    """A game recorded with the builder re-adjudicates to every recorded digest."""
    report = verify_bytes(to_bytes(small), installed(classic))
    assert report.ok, report.problem
    assert report.game_id == "small-3"
    assert report.phases == small.phase_count and report.records == len(small.records)
    assert len(report.chain) == 64


def test_embedded_ruleset_is_used(small_embedded, classic):
    """With the ruleset embedded, no installed ruleset is needed."""
    report = verify_bytes(to_bytes(small_embedded), lambda h: resolve_ruleset(h, lambda rid: None))
    assert report.ok, report.problem


def test_forged_outcome_is_found(small, classic):
    """An outcome changed by someone who also rebuilt the chain is caught by re-adjudication."""
    k = _first_phase_index(small, 3)
    rec = small.records[k]
    nation, entries = rec.orders[0]
    forged = attrs.evolve(entries[0], result="illegal" if entries[0].result != "illegal" else "succeeds")
    rec2 = PhaseRecord.build(rec.phase, ((nation, (forged,) + entries[1:]),) + rec.orders[1:], rec.digest)
    report = verify_save(_replace_record(small, k, rec2), classic)
    assert (report.problem.where, report.problem.index, report.problem.phase) == ("record", k, rec.phase)
    assert "outcome of" in report.problem.message


def test_forged_digest_is_found(small, classic):
    """A state digest that the engine does not reach is named with record and phase."""
    k = _first_phase_index(small, 2)
    rec = attrs.evolve(small.records[k], digest="0" * 64)
    problem = verify_save(_replace_record(small, k, rec), classic).problem
    assert str(problem).startswith(f"record {k} (phase {small.records[k].phase}): state digest mismatch")


def test_wrong_phase_id_is_found(small, classic):
    """A phase record for a phase the game is not at is refused."""
    k = _first_phase_index(small, 2)
    rec = attrs.evolve(small.records[k], phase="S1999M")
    problem = verify_save(_replace_record(small, k, rec), classic).problem
    assert "the game is at phase" in problem.message and problem.index == k


def test_non_canonical_order_text_is_found(small, classic):
    """Order text must be the canonical form of its order."""
    k = _first_phase_index(small, 2)
    rec = small.records[k]
    nation, entries = rec.orders[0]
    bad = attrs.evolve(entries[0], text=entries[0].text.upper())
    rec2 = PhaseRecord.build(rec.phase, ((nation, (bad,) + entries[1:]),) + rec.orders[1:], rec.digest)
    problem = verify_save(_replace_record(small, k, rec2), classic).problem
    assert "cannot be read" in problem.message and problem.index == k


def test_installed_ruleset_with_other_digest(small, classic):
    """A save made with another version of the ruleset names the header field ruleset.digest."""
    save = attrs.evolve(small, header=attrs.evolve(small.header, ruleset_digest="ab" * 32))
    report = verify_bytes(to_bytes(save), installed(classic))
    assert report.problem.field == "ruleset.digest"
    assert str(report.problem).startswith("header field 'ruleset.digest': the installed ruleset 'classic'")


def test_embedded_ruleset_with_other_digest(small_embedded, classic):
    """Embedded files that do not hash to the header's digest are refused."""
    files = dict(small_embedded.header.ruleset_files)
    files["map.toml"] += "\n# edited\n"
    save = attrs.evolve(small_embedded, header=attrs.evolve(small_embedded.header, ruleset_files=files))
    report = verify_bytes(to_bytes(save), installed(classic))
    assert report.problem.field == "ruleset.digest"


def test_unknown_ruleset(small, classic):
    """A ruleset neither embedded nor installed names ruleset.id."""
    save = attrs.evolve(small, header=attrs.evolve(small.header, ruleset_id="atlantis"))
    report = verify_bytes(to_bytes(save), installed(classic))
    assert str(report.problem) == "header field 'ruleset.id': ruleset 'atlantis' is neither embedded nor installed"


def _played(rs, texts_by_phase):
    rec = new_save(rs, "rb", created=0)
    state = initial_state(rs)
    starts = {}
    for texts in texts_by_phase:
        if texts == "rollback":
            rec.add_event("rollback", by="host", reason="mistake", data={"to": "F1901M"})
            state = starts["F1901M"]
            continue
        starts[phase_name(rs, state)] = state
        orders = {n: [parse_order(t, rs) for t in ts] for n, ts in texts.items()}
        turn = step(rs, state, orders)
        rec.add_turn(rs, orders, turn)
        state = turn.state
    return rec.to_save(), state


def test_rollback_replays_from_the_earlier_board(classic):
    """After a rollback event the next phase is adjudicated from the rolled-back board."""
    save, final = _played(classic, [
        {"france": ["A par - bur"]},
        {"france": ["A bur - bel"]},
        "rollback",
        {"france": ["A bur - mun"]},
    ])
    steps = list(replay_steps(classic, save))
    assert steps[-1].after == final
    assert verify_save(save, classic).ok


def test_rollback_to_an_unknown_phase(classic):
    """A rollback to a phase that never happened is refused, naming the event's index."""
    save, _ = _played(classic, [{"france": ["A par - bur"]}])
    rec = new_save(classic, "rb", created=0)
    bad = attrs.evolve(save, records=save.records + (rec.add_event("rollback", data={"to": "F1950M"}),))
    problem = verify_save(bad, classic).problem
    assert (problem.index, problem.message) == (1, "rollback event: no phase F1950M to roll back to")


def test_board_event_sets_the_board(classic):
    """A board event replaces the board; later phases are adjudicated from it."""
    rec = new_save(classic, "bd", created=0)
    st = initial_state(classic)
    units = [Unit(u.nation, u.kind, "bur") if u.loc == "par" else u for u in st.units]
    moved = GameState.build(st.year, st.season, st.phase, units, st.centres)
    rec.add_event("board", by="host", reason="correction", data={"state": canonical.state_plain(moved)})
    orders = {"france": [parse_order("A bur - bel", classic)]}
    turn = step(classic, moved, orders)
    rec.add_turn(classic, orders, turn)
    assert verify_save(rec.to_save(), classic).ok


def test_replay_steps_raise_save_error(small, classic):
    """replay_steps raises SaveError at the first bad record."""
    k = _first_phase_index(small, 1)
    bad = _replace_record(small, k, attrs.evolve(small.records[k], digest="1" * 64))
    with pytest.raises(SaveError, match=f"record {k} "):
        list(replay_steps(classic, bad))


def test_canonical_reader_agrees_with_the_parser(classic):
    """Every legal order's canonical text reads back to the same order by the fast path."""
    from server.engine.notation import format_order
    from server.engine.options import legal_orders
    from server.engine.orders import Move, Permit, Waive
    from server.saves.verify import _read_canonical

    seen = 0
    for p in play(classic, 5, 2):
        for nation in classic.nation_ids:
            for options in legal_orders(classic, p.state, nation).values():
                for o in options:
                    text = format_order(o)
                    assert _read_canonical(classic, text) == parse_order(text, classic) == o, text
                    seen += 1
    assert seen > 1000
    for o in (Waive(), Move("A", "mos", "war", via="tsr"), Move("A", "lon", "bel", via_convoy=True),
              Permit("F", "nth", "hel")):
        assert _read_canonical(classic, format_order(o)) == o
    for text in ("A par  - bur", "A xyz - bur", "A par - bur via", "a par - bur", "F stp/xc H"):
        assert _read_canonical(classic, text) is None
