"""Tests for server.saves.builder: recording a game as it is played."""

from __future__ import annotations

import pytest

from server.engine import canonical
from server.engine.notation import format_order, parse_order
from server.engine.state import initial_state
from server.engine.turn import step
from server.saves.builder import new_save, record_game_from_turns
from server.saves.model import EventRecord, PhaseRecord
from server.saves.verify import verify_save
from server.selfplay import play


def test_new_save_header(classic):
    """The header lists every nation in ruleset order with its player's name, if any."""
    rec = new_save(classic, "g1", "Title", players={"italy": "Ida"}, created=1_700_000_000, seed=5,
                   settings={"press": "none"})
    h = rec.header
    assert h.nation_ids == classic.nation_ids
    assert dict(h.nations)["italy"] == "Ida" and dict(h.nations)["france"] is None
    assert (h.game_id, h.title, h.created, h.seed, h.ruleset_digest) == ("g1", "Title", 1_700_000_000, 5, classic.digest)
    assert rec.initial == initial_state(classic)


def test_unknown_player_nation(classic):
    """A player for a nation the ruleset does not have is a ValueError."""
    with pytest.raises(ValueError, match="atlantis"):
        new_save(classic, "g", players={"atlantis": "X"})


def test_add_phase_with_texts_and_entered_by(classic):
    """add_phase pairs each entered order with its result, in entry order."""
    rec = new_save(classic, "g")
    st = initial_state(classic)
    orders = {"france": [parse_order("A par - bur", classic), parse_order("A mar - bur", classic)],
              "austria": [parse_order("A vie - gal", classic)]}
    turn = step(classic, st, orders)
    texts = {"france": [("A par - bur", "host"), "A mar - bur"], "austria": ["A vie - gal"]}
    prec = rec.add_phase(turn.phase, texts, turn.results, canonical.state_digest(turn.state))
    assert [n for n, _ in prec.orders] == ["austria", "france"]
    fr = prec.orders_of("france")
    assert [(e.text, e.by, e.result) for e in fr] == [("A par - bur", "host", "fails"), ("A mar - bur", "", "fails")]
    assert fr[0].reason.code == "bounced"
    assert verify_save(rec.to_save(), classic).ok


def test_add_phase_refuses_mismatched_results(classic):
    """Orders that are not the ones adjudicated are refused."""
    rec = new_save(classic, "g")
    st = initial_state(classic)
    orders = {"france": [parse_order("A par - bur", classic)]}
    turn = step(classic, st, orders)
    with pytest.raises(ValueError, match="expected"):
        rec.add_phase(turn.phase, {"france": ["A par - pic"]}, turn.results, canonical.state_digest(turn.state))
    with pytest.raises(ValueError, match="more results"):
        rec.add_phase(turn.phase, {}, turn.results, canonical.state_digest(turn.state))


def test_add_event_kinds(classic):
    """Known event kinds are recorded; an unknown kind is refused."""
    rec = new_save(classic, "g")
    ev = rec.add_event("extend", by="host", reason="holiday", time=5, data={"seconds": 3600})
    assert isinstance(ev, EventRecord) and rec.records == (ev,)
    with pytest.raises(ValueError, match="unknown event kind"):
        rec.add_event("explode")


def test_record_game_from_turns(classic):
    """A self-play game becomes a save with one phase record per phase, and verifies."""
    played = list(play(classic, 11, 3))
    save = record_game_from_turns(classic, played, "sp", "Self-play", created=1, seed=11)
    assert save.phase_count == len(played)
    assert all(isinstance(r, PhaseRecord) for r in save.records)
    assert [r.phase for r in save.records] == [p.turn.phase for p in played]
    first = save.records[0]
    assert [e.text for _, es in first.orders for e in es] == [
        format_order(o) for n in classic.nation_ids for o in played[0].orders.get(n, [])]
    assert verify_save(save, classic).ok
