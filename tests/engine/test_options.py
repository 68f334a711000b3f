"""Tests for server.engine.options: the legal orders offered to clients and random players."""

from __future__ import annotations

from collections import deque

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.engine.adjustments import adjustments_due
from server.engine.options import legal_orders
from server.engine.orders import Build, Convoy, Disband, Hold, Move, Order, Retreat, Support, Waive
from server.engine.outcome import FAILS, ILLEGAL
from server.engine.ruleset import Ruleset, province_of
from server.engine.state import GameState, Unit, initial_state
from server.engine.turn import step
from server.ruleset_files import load
from server.selfplay import play
from strategies import reachable_states



@pytest.fixture(scope="module")
def rs() -> Ruleset:
    return load("classic")


def test_start_options_hold_and_move_to_every_neighbour(rs: Ruleset) -> None:
    """On the classic start, each unit may hold and move to each adjacent location, and nowhere else."""
    state = initial_state(rs)
    assert len(state.units) == 22
    for nation in rs.nation_ids:
        options = legal_orders(rs, state, nation)
        mine = [u for u in state.units if u.nation == nation]
        assert sorted(options) == sorted(u.province for u in mine)
        for u in mine:
            opts = options[u.province]
            adj = rs.army_adj[u.loc] if u.kind == "A" else rs.fleet_adj[u.loc]
            assert Hold(u.kind, u.loc) in opts
            moves = {o.dest for o in opts if isinstance(o, Move)}
            assert moves == set(adj), u
            assert not any(isinstance(o, Move) and o.via_convoy for o in opts)  # no fleets at sea yet


def test_start_options_name_each_reachable_coast(rs: Ruleset) -> None:
    """A fleet next to a split-coast province is offered each coast it can reach, never the bare province."""
    state = initial_state(rs)
    opts = legal_orders(rs, state, "russia")["sev"]
    assert Move("F", "sev", "rum") in opts
    stp = legal_orders(rs, state, "russia")["stp"]
    assert {o.dest for o in stp if isinstance(o, Move)} == {"bot", "fin", "lvn"}
    fleet_moves = [o for n in rs.nation_ids for os in legal_orders(rs, state, n).values()
                   for o in os if isinstance(o, Move) and o.unit == "F"]
    for m in fleet_moves:
        assert not rs.provinces[province_of(m.dest)].coasts or "/" in m.dest, m


def convoy_route(rs: Ruleset, state: GameState, army: Unit, dest: str) -> list[Unit]:
    """Fleets at sea forming a shortest convoy route from the army to ``dest``."""
    fleets = {u.province: u for u in state.units if u.kind == "F" and rs.provinces[u.province].is_sea}
    start = [s for s in sorted(rs.sea_adj[army.province]) if s in fleets]
    came: dict[str, str | None] = {s: None for s in start}
    queue = deque(start)
    while queue:
        s = queue.popleft()
        if dest in rs.sea_adj[s]:
            path = [s]
            while came[path[-1]] is not None:
                path.append(came[path[-1]])  # type: ignore[arg-type]
            return [fleets[p] for p in path]
        for n in sorted(rs.sea_adj[s]):
            if n in fleets and n not in came:
                came[n] = s
                queue.append(n)
    raise AssertionError(f"no convoy route for {army} to {dest}")


def alone(rs: Ruleset, state: GameState, nation: str, order: Order) -> dict[str, list[Order]]:
    """The order as the nation's only one; a move needing a convoy gets the convoys of one route
    from the fleets' owners (DATC 6.D.31: without any convoy order such a move is illegal)."""
    orders: dict[str, list[Order]] = {nation: [order]}
    if isinstance(order, Move) and order.via_convoy:
        army = state.unit_at(province_of(order.loc))
        assert army is not None
        if order.dest not in rs.army_adj[army.loc]:
            for f in convoy_route(rs, state, army, order.dest):
                orders.setdefault(f.nation, []).append(Convoy("F", f.loc, "A", army.loc, order.dest))
    return orders


ANY_PHASE = st.sampled_from([None, None, "retreat", "adjustment"]).flatmap(lambda ph: reachable_states(phase=ph))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(state=ANY_PHASE, data=st.data())
def test_listed_orders_are_never_illegal(rs: Ruleset, state: GameState, data: st.DataObject) -> None:
    """Every listed legal order of a few sampled units, given alone, is never adjudicated illegal."""
    nations = [n for n in rs.nation_ids if legal_orders(rs, state, n)]
    if not nations:
        return
    nation = data.draw(st.sampled_from(nations), label="nation")
    options = legal_orders(rs, state, nation)
    keys = data.draw(st.lists(st.sampled_from(sorted(options)), min_size=1, max_size=3, unique=True), label="units")
    for key in keys:
        for order in options[key]:
            turn = step(rs, state, alone(rs, state, nation, order))
            for r in turn.results:
                assert r.result != ILLEGAL, (state.year, state.season, state.phase, r)


def test_convoy_move_without_convoy_orders_fails_or_is_illegal(rs: Ruleset) -> None:
    """A listed move by convoy given with no convoy order fails while a fleet could carry it
    (DATC 6.D.8), and is illegal when the only such fleet supports the move (DATC 6.D.31)."""
    state = GameState.build(1901, "spring", "movement",
                            [Unit("england", "A", "lon"), Unit("england", "F", "nth")],
                            {"lon": "england"})
    move = Move("A", "lon", "bel", via_convoy=True)
    assert move in legal_orders(rs, state, "england")["lon"]
    assert step(rs, state, {"england": [move]}).results[0].result == FAILS
    supported = step(rs, state, {"england": [move, Support("F", "nth", "A", "lon", "bel")]})
    assert [r.result for r in supported.results] == [ILLEGAL, ILLEGAL]
    with_convoy = step(rs, state, {"england": [move, Convoy("F", "nth", "A", "lon", "bel")]})
    assert [r.result for r in with_convoy.results] == ["succeeds", "succeeds"]


# --- builds ---------------------------------------------------------------------------------


def winter(units: list[Unit], centres: dict[str, str]) -> GameState:
    return GameState.build(1901, "winter", "adjustment", units, centres)


def test_build_sites_are_vacant_owned_home_centres(rs: Ruleset) -> None:
    """Builds are offered only on vacant home centres the nation owns, with each buildable unit and waive."""
    state = winter(
        [Unit("france", "A", "par"), Unit("italy", "A", "tus")],
        {"par": "france", "bre": "france", "mar": "france", "bel": "france", "spa": "france",
         "stp": "russia", "mos": "russia", "rom": "austria", "vie": "austria", "ven": "italy",
         "nap": "italy"},
    )
    fr = legal_orders(rs, state, "france")
    assert sorted(fr) == ["bre", "mar"]  # par occupied; bel and spa are not home centres
    assert fr["bre"] == [Build("A", "bre"), Build("F", "bre"), Waive()]
    ru = legal_orders(rs, state, "russia")
    assert sorted(ru) == ["mos", "stp"]
    assert ru["stp"] == [Build("A", "stp"), Build("F", "stp/nc"), Build("F", "stp/sc"), Waive()]
    assert ru["mos"] == [Build("A", "mos"), Waive()]
    assert sorted(legal_orders(rs, state, "austria")) == ["vie"]  # rom is owned but not home
    assert sorted(legal_orders(rs, state, "italy")) == ["nap", "ven"]  # rom lost to Austria
    assert legal_orders(rs, state, "germany") == {}  # no centres, no units


def test_any_owned_option_allows_every_vacant_owned_centre(rs: Ruleset) -> None:
    """With build_sites = "any-owned", every vacant owned centre is a build site."""
    loose = attrs.evolve(rs, options=attrs.evolve(rs.options, build_sites="any-owned"))
    state = winter([Unit("france", "A", "par")],
                   {"par": "france", "bre": "france", "mar": "france", "bel": "france", "spa": "france"})
    assert sorted(legal_orders(loose, state, "france")) == ["bel", "bre", "mar", "spa"]


def test_removals_offer_one_disband_per_unit(rs: Ruleset) -> None:
    """A nation with more units than centres is offered a disband for each of its units."""
    state = winter([Unit("france", "A", "par"), Unit("france", "F", "mao")], {"par": "france"})
    assert legal_orders(rs, state, "france") == {"par": [Disband("A", "par")], "mao": [Disband("F", "mao")]}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1))
def test_build_sites_in_played_games(rs: Ruleset, seed: int) -> None:
    """In every winter of a random game, builds are offered exactly on vacant owned home centres."""
    seen = 0
    for played in play(rs, seed, years=12):
        state = played.state
        if state.phase != "adjustment":
            continue
        due = adjustments_due(rs, state)
        occupied = {u.province for u in state.units}
        owners = state.owners()
        for n in rs.nation_ids:
            options = legal_orders(rs, state, n)
            if due[n] > 0:
                seen += 1
                expected = {c for c in rs.homes[n] if owners.get(c) == n and c not in occupied}
                assert set(options) == expected
                for site, opts in options.items():
                    assert opts[-1] == Waive()
                    assert all(isinstance(o, Build) and province_of(o.loc) == site for o in opts[:-1])
            elif due[n] < 0:
                assert set(options) == {u.province for u in state.units if u.nation == n}
            else:
                assert options == {}


# --- retreats -------------------------------------------------------------------------------


def test_retreat_options_exclude_attacker_origin_standoffs_and_occupied(rs: Ruleset) -> None:
    """A dislodged unit may not retreat to its attacker's origin, a standoff province or an occupied one."""
    state = GameState.build(1901, "spring", "movement", [
        Unit("germany", "A", "mun"),
        Unit("france", "A", "bur"), Unit("france", "A", "ruh"),
        Unit("italy", "A", "ven"), Unit("austria", "A", "vie"),
    ], {})
    orders: dict[str, list[Order]] = {
        "france": [Move("A", "bur", "mun"), Support("A", "ruh", "A", "bur", "mun")],
        "italy": [Move("A", "ven", "tyr")],
        "austria": [Move("A", "vie", "tyr")],
    }
    turn = step(rs, state, orders)
    nxt = turn.state
    assert nxt.phase == "retreat"
    assert "tyr" in nxt.standoffs
    (d,) = nxt.dislodged
    assert d.unit == Unit("germany", "A", "mun") and d.attacker_from == "bur"
    opts = legal_orders(rs, nxt, "germany")["mun"]
    dests = {o.dest for o in opts if isinstance(o, Retreat)}
    assert dests == {"ber", "boh", "kie", "sil"}  # not bur (attacker), tyr (standoff), ruh (occupied)
    assert opts[-1] == Disband("A", "mun")
    assert dict(turn.retreat_options)[d] == ("ber", "boh", "kie", "sil")
    for order in opts:
        (result,) = step(rs, nxt, {"germany": [order]}).results
        assert result.ok, result
    for dest in ("bur", "tyr", "ruh"):
        (result,) = step(rs, nxt, {"germany": [Retreat("A", "mun", dest)]}).results
        assert result.result == ILLEGAL and result.reason is not None
        assert (result.reason.code, result.reason.at) == ("retreat_blocked", dest)
