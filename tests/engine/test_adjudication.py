"""Hand-written behaviour tests of ``step()`` on the classic map, beyond the DATC cases:
default holds, foreign support, reasons that name provinces, the Fall/Winter cycle,
victory, and retreat-phase corner cases."""

from __future__ import annotations

import pytest

from server.engine.orders import Build, Hold, Move, Order, Retreat, Support, Waive
from server.engine.outcome import FAILS, ILLEGAL, SUCCEEDS, VOID, OrderResult, Reason
from server.engine.ruleset import Ruleset
from server.engine.state import Dislodged, GameState, Unit, phase_name
from server.engine.turn import Event, Turn, step
from server.ruleset_files import load

Orders = dict[str, list[Order]]


@pytest.fixture(scope="module")
def rs() -> Ruleset:
    return load("classic")


def board(season: str, units: list[Unit], centres: dict[str, str] | None = None,
          year: int = 1901, phase: str = "movement", dislodged: list[Dislodged] | None = None) -> GameState:
    return GameState.build(year, season, phase, units, centres or {}, dislodged or ())


def result_of(turn: Turn, order: Order) -> OrderResult:
    (r,) = [r for r in turn.results if r.order == order]
    return r


A, F = "A", "F"


# --- holds and support ----------------------------------------------------------------------


def test_unit_without_orders_holds(rs: Ruleset) -> None:
    """A unit given no order holds its province and makes an attack on it bounce."""
    state = board("spring", [Unit("germany", A, "mun"), Unit("france", A, "bur")])
    attack = Move(A, "mun", "bur")
    turn = step(rs, state, {"germany": [attack]})
    assert result_of(turn, attack).result == FAILS
    assert turn.state.units == state.units
    assert [len(turn.results), turn.state.phase, turn.state.season] == [1, "movement", "fall"]


def test_no_orders_at_all_changes_nothing(rs: Ruleset) -> None:
    """With no orders from anyone, every unit stays where it is and the game moves to Fall."""
    state = board("spring", [Unit("germany", A, "mun"), Unit("france", A, "bur"), Unit("russia", F, "stp/sc")])
    turn = step(rs, state, {})
    assert turn.results == ()
    assert turn.state.units == state.units
    assert phase_name(rs, turn.state) == "F1901M"


def test_support_from_another_nation_counts(rs: Ruleset) -> None:
    """Italy's support lets France's attack dislodge Germany; without it the attack bounces."""
    state = board("spring", [Unit("germany", A, "mun"), Unit("france", A, "bur"), Unit("italy", A, "tyr")])
    attack, help_ = Move(A, "bur", "mun"), Support(A, "tyr", A, "bur", "mun")
    alone = step(rs, state, {"france": [attack]})
    assert result_of(alone, attack).reason == Reason("bounced", at="mun")
    helped = step(rs, state, {"france": [attack], "italy": [help_]})
    assert result_of(helped, attack).result == SUCCEEDS
    assert result_of(helped, help_).result == SUCCEEDS
    assert Unit("france", A, "mun") in helped.state.units
    assert [d.unit for d in helped.dislodged] == [Unit("germany", A, "mun")]


def test_support_of_a_unit_that_does_something_else_is_void(rs: Ruleset) -> None:
    """A support for a move the supported unit did not order is void and names that unit's province."""
    state = board("spring", [Unit("france", A, "bur"), Unit("italy", A, "tyr")])
    help_ = Support(A, "tyr", A, "bur", "mun")
    turn = step(rs, state, {"italy": [help_], "france": [Hold(A, "bur")]})
    r = result_of(turn, help_)
    assert (r.result, r.reason) == (VOID, Reason("unmatched", at="bur"))


# --- reasons name provinces -------------------------------------------------------------------


def test_bounce_reason_names_the_province(rs: Ruleset) -> None:
    """Two equal attacks on one province both fail 'bounced at' that province."""
    state = board("spring", [Unit("france", A, "par"), Unit("germany", A, "mun")])
    a, b = Move(A, "par", "bur"), Move(A, "mun", "bur")
    turn = step(rs, state, {"france": [a], "germany": [b]})
    for order in (a, b):
        r = result_of(turn, order)
        assert (r.result, r.reason) == (FAILS, Reason("bounced", at="bur"))
        assert r.reason is not None and r.reason.text() == "bounced at bur"
    assert turn.state.units == state.units


def test_cut_reason_names_the_attacker(rs: Ruleset) -> None:
    """A support attacked from Belgium fails 'cut by' bel."""
    state = board("spring", [Unit("germany", A, "ruh"), Unit("germany", A, "mun"), Unit("france", A, "bel")])
    help_ = Support(A, "ruh", A, "mun")
    turn = step(rs, state, {"germany": [help_, Hold(A, "mun")], "france": [Move(A, "bel", "ruh")]})
    r = result_of(turn, help_)
    assert (r.result, r.reason) == (FAILS, Reason("cut", by="bel"))
    assert r.reason is not None and "bel" in r.reason.text()


def test_dislodged_reason_names_the_attacker(rs: Ruleset) -> None:
    """A holding unit beaten by a supported attack from Burgundy fails 'dislodged by' bur."""
    state = board("spring", [Unit("germany", A, "mun"), Unit("france", A, "bur"), Unit("france", A, "ruh")])
    hold = Hold(A, "mun")
    turn = step(rs, state, {"germany": [hold],
                            "france": [Move(A, "bur", "mun"), Support(A, "ruh", A, "bur", "mun")]})
    r = result_of(turn, hold)
    assert (r.result, r.reason) == (FAILS, Reason("dislodged", by="bur"))
    assert r.reason is not None and "bur" in r.reason.text()
    assert turn.dislodged == (Dislodged(Unit("germany", A, "mun"), "bur", False),)


def test_impossible_order_is_an_outcome_and_the_unit_holds(rs: Ruleset) -> None:
    """A move to a non-adjacent province is illegal, names the province, and the unit holds."""
    state = board("spring", [Unit("france", A, "par"), Unit("germany", A, "bur")])
    bad = Move(A, "par", "mos")
    turn = step(rs, state, {"france": [bad], "germany": [Move(A, "bur", "par")]})
    r = result_of(turn, bad)
    assert (r.result, r.reason) == (ILLEGAL, Reason("not_adjacent", at="mos"))
    assert Unit("france", A, "par") in turn.state.units  # it held, so Burgundy bounced


# --- the year: ownership, builds, victory -----------------------------------------------------


def test_spring_moves_do_not_change_ownership(rs: Ruleset) -> None:
    """Taking a centre in Spring does not change its owner."""
    state = board("spring", [Unit("france", A, "bur")], {"par": "france", "bel": "germany"})
    turn = step(rs, state, {"france": [Move(A, "bur", "bel")]})
    assert turn.state.owners()["bel"] == "germany"
    assert not any(e.code == "captured" for e in turn.events)


def test_fall_captures_then_winter_builds(rs: Ruleset) -> None:
    """Centres taken in Fall change hands; in Winter the new count is built on vacant home centres."""
    state = board("fall", [Unit("france", A, "bur"), Unit("france", F, "mao")],
                  {"par": "france", "bre": "france", "mar": "france", "bel": "germany", "mun": "germany"})
    fall = step(rs, state, {"france": [Move(A, "bur", "bel"), Move(F, "mao", "spa/nc")]})
    owners = fall.state.owners()
    assert owners["bel"] == "france" and owners["spa"] == "france"
    assert Event("captured", "france", "bel", "germany") in fall.events
    assert Event("captured", "france", "spa", "") in fall.events
    assert phase_name(rs, fall.state) == "W1901A"

    builds: Orders = {"france": [Build(A, "par"), Build(F, "bre"), Waive()],
                      "germany": [Build(A, "mun")]}
    winter = step(rs, fall.state, builds)
    assert [r.result for r in winter.results] == [SUCCEEDS, SUCCEEDS, SUCCEEDS, SUCCEEDS]
    assert sorted(u.loc for u in winter.state.units if u.nation == "france") == ["bel", "bre", "par", "spa/nc"]
    assert Unit("germany", A, "mun") in winter.state.units
    assert phase_name(rs, winter.state) == "S1902M"
    assert winter.state.centres == fall.state.centres


def test_build_beyond_the_allowance_fails(rs: Ruleset) -> None:
    """With one build due, a second build order (here a waive) fails with 'too many builds'."""
    state = board("winter", [], {"par": "france"}, phase="adjustment")
    turn = step(rs, state, {"france": [Build(A, "par"), Waive()]})
    assert [r.result for r in turn.results] == [SUCCEEDS, FAILS]
    assert turn.results[1].reason == Reason("too_many", detail="builds")
    assert turn.state.units == (Unit("france", A, "par"),)


def test_build_on_a_centre_not_owned_is_illegal(rs: Ruleset) -> None:
    """A build on a home centre the nation does not own is illegal and names the centre."""
    state = board("winter", [Unit("france", A, "par")], {"par": "france", "bre": "france", "mar": "italy"},
                  phase="adjustment")
    bad = Build(A, "mar")
    turn = step(rs, state, {"france": [bad, Build(F, "bre")]})
    r = result_of(turn, bad)
    assert (r.result, r.reason) == (ILLEGAL, Reason("not_owned", at="mar"))
    assert Unit("france", F, "bre") in turn.state.units


def seventeen_for_france(rs: Ruleset, count: int = 17) -> dict[str, str]:
    """France owns ``count`` centres (never Belgium); everyone else shares the rest."""
    others = ["austria", "england", "germany", "italy", "russia", "turkey"]
    centres = sorted(rs.centres - {"bel"})
    owners = {c: "france" for c in centres[:count]}
    for i, c in enumerate(centres[count:]):
        owners[c] = others[i % len(others)]
    return owners


def test_victory_at_eighteen_centres_ends_the_game(rs: Ruleset) -> None:
    """France taking its 18th centre in Fall wins; the game is then over and step() refuses it."""
    centres = seventeen_for_france(rs)
    assert list(centres.values()).count("france") == 17 and "bel" not in centres
    state = board("fall", [Unit("france", A, "bur"), Unit("germany", A, "ruh")], centres, year=1908)
    turn = step(rs, state, {"france": [Move(A, "bur", "bel")]})
    assert turn.state.winner == "france"
    assert Event("victory", "france", detail="18") in turn.events
    assert turn.state.centre_counts()["france"] == 18
    with pytest.raises(ValueError, match="over"):
        step(rs, turn.state, {})


def test_no_victory_below_eighteen_or_in_spring(rs: Ruleset) -> None:
    """Reaching 17 centres in Fall, or taking the 18th only in Spring, wins nothing."""
    state = board("fall", [Unit("france", A, "bur")], seventeen_for_france(rs, 16), year=1908)
    turn = step(rs, state, {"france": [Move(A, "bur", "bel")]})
    assert turn.state.winner is None and turn.state.centre_counts()["france"] == 17
    spring = board("spring", [Unit("france", A, "bur")], seventeen_for_france(rs), year=1908)
    turn = step(rs, spring, {"france": [Move(A, "bur", "bel")]})
    assert turn.state.winner is None
    assert not any(e.code == "victory" for e in turn.events)


# --- retreats -------------------------------------------------------------------------------


def test_two_retreats_to_one_province_both_disband(rs: Ruleset) -> None:
    """Two dislodged units retreating to Tyrolia both fail and are disbanded."""
    gm, au = Unit("germany", A, "mun"), Unit("austria", A, "boh")
    state = board("spring", [Unit("france", A, "mun"), Unit("russia", A, "boh")], phase="retreat",
                  dislodged=[Dislodged(gm, "bur"), Dislodged(au, "gal")])
    a, b = Retreat(A, "mun", "tyr"), Retreat(A, "boh", "tyr")
    turn = step(rs, state, {"germany": [a], "austria": [b]})
    for order in (a, b):
        r = result_of(turn, order)
        assert (r.result, r.reason) == (FAILS, Reason("standoff", at="tyr"))
    assert turn.state.units == state.units
    assert {(e.code, e.nation, e.at) for e in turn.events} == {("disbanded", "germany", "mun"), ("disbanded", "austria", "boh")}
    assert phase_name(rs, turn.state) == "F1901M"
    alone = step(rs, state, {"germany": [a]})
    assert result_of(alone, a).result == SUCCEEDS
    assert Unit("germany", A, "tyr") in alone.state.units and gm not in alone.state.units
    assert au not in alone.state.units  # no order: disbanded


def test_dislodged_unit_with_no_retreat_is_disbanded_at_once(rs: Ruleset) -> None:
    """A unit dislodged with nowhere to go is disbanded at once and no retreat phase is held."""
    state = board("spring", [Unit("germany", A, "hol"), Unit("france", A, "bel"), Unit("france", A, "ruh"),
                             Unit("france", A, "kie")])
    turn = step(rs, state, {"france": [Move(A, "bel", "hol"), Support(A, "ruh", A, "bel", "hol")]})
    d = Dislodged(Unit("germany", A, "hol"), "bel", False)
    assert turn.dislodged == (d,)
    assert turn.retreat_options == ((d, ()),)  # bel: the attacker's origin; kie and ruh: occupied
    assert Event("disbanded", "germany", "hol") in turn.events
    assert phase_name(rs, turn.state) == "F1901M"
    assert turn.state.dislodged == ()
    assert all(u.nation == "france" for u in turn.state.units)


def test_retreat_phase_only_for_units_that_can_retreat(rs: Ruleset) -> None:
    """When one dislodged unit can retreat and another cannot, only the first waits in the retreat phase."""
    state = board("spring", [
        Unit("germany", A, "hol"), Unit("france", A, "bel"), Unit("france", A, "ruh"), Unit("france", A, "kie"),
        Unit("germany", A, "mun"), Unit("austria", A, "tyr"), Unit("austria", A, "boh"),
    ])
    turn = step(rs, state, {
        "france": [Move(A, "bel", "hol"), Support(A, "ruh", A, "bel", "hol")],
        "austria": [Move(A, "tyr", "mun"), Support(A, "boh", A, "tyr", "mun")],
    })
    assert phase_name(rs, turn.state) == "S1901R"
    assert [d.unit for d in turn.state.dislodged] == [Unit("germany", A, "mun")]
    assert Event("disbanded", "germany", "hol") in turn.events
