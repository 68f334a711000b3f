"""Shared hypothesis strategies for the engine tests.

* :func:`reachable_states`: a classic (or any) state reached by a seeded random game of
  :func:`server.selfplay.play`, never a finished one;
* :func:`order_sets`: ``{nation: [orders]}`` for a state, each orderable unit (or build site)
  given one of its :func:`~server.engine.options.legal_orders` or nothing, plus now and then
  a random, usually illegal, order built from random province ids.
"""

from __future__ import annotations

import functools

from hypothesis import strategies as st

from server.engine.orders import (
    Build,
    Convoy,
    Disband,
    Hold,
    Move,
    Order,
    Retreat,
    Support,
    Waive,
)
from server.engine.options import legal_orders
from server.engine.ruleset import Ruleset
from server.engine.state import GameState, initial_state
from server.ruleset_files import load
from server.selfplay import play

Orders = dict[str, list[Order]]



@functools.lru_cache(maxsize=4096)
def state_after(ruleset_id: str, seed: int, phases: int, phase: str | None = None) -> GameState | None:
    """The state after ``phases`` phases of the seeded random game (stopping before a win);
    with ``phase``, the first state of that kind from there on (``None`` if none comes soon)."""
    rs = load(ruleset_id)
    state = initial_state(rs)
    if phases == 0 and phase in (None, state.phase):
        return state
    for k, played in enumerate(play(rs, seed, years=phases + 40), start=1):
        if played.turn.state.winner is not None:
            break
        state = played.turn.state
        if k >= phases and phase in (None, state.phase):
            return state
        if k >= phases + 60:
            break
    return state if phase is None else None


def reachable_states(
    ruleset_id: str = "classic", max_phases: int = 45, phase: str | None = None,
) -> st.SearchStrategy[GameState]:
    """States of a seeded random game after a drawn number of phases (never a finished game);
    ``phase`` ("movement", "retreat" or "adjustment") asks for a state of that kind."""
    return st.builds(
        functools.partial(state_after, ruleset_id),
        seed=st.integers(0, 2**32 - 1),
        phases=st.integers(0, max_phases),
        phase=st.just(phase),
    ).filter(lambda s: s is not None)  # type: ignore[return-value]


def locations(ruleset: Ruleset) -> list[str]:
    """Every province id and every split-coast location, sorted."""
    out = set(ruleset.provinces)
    for p in ruleset.provinces.values():
        out.update(f"{p.id}/{c}" for c in p.coasts)
    return sorted(out)


@st.composite
def random_orders(draw: st.DrawFn, ruleset: Ruleset) -> Order:
    """An order of any kind over random locations (mostly impossible ones)."""
    locs = st.sampled_from(locations(ruleset))
    kind = st.sampled_from(["A", "F"])
    return draw(st.one_of(
        st.builds(Hold, kind, locs),
        st.builds(Move, kind, locs, locs, st.booleans()),
        st.builds(Support, kind, locs, kind, locs, st.none() | locs),
        st.builds(Convoy, kind, locs, kind, locs, locs),
        st.builds(Retreat, kind, locs, locs),
        st.builds(Disband, kind, locs),
        st.builds(Build, kind, locs),
        st.just(Waive()),
    ))


@st.composite
def order_sets(
    draw: st.DrawFn, ruleset: Ruleset, state: GameState, *, illegal: bool = True,
    unique: bool = False,
) -> Orders:
    """Orders for ``state``: for each orderable unit/site one legal order or none, in a drawn
    order per nation, plus (when ``illegal``) a few random orders for random nations.

    With ``unique``, a nation never gives two orders for one province (so the order in which
    its movement or retreat orders are listed cannot matter).
    """
    out: Orders = {}
    for nation in ruleset.nation_ids:
        options = legal_orders(ruleset, state, nation)
        chosen: list[Order] = []
        for key in sorted(options):
            if options[key] and draw(st.integers(0, 9)) > 0:
                chosen.append(draw(st.sampled_from(options[key])))
        if chosen:
            out[nation] = draw(st.permutations(chosen))
    if illegal:
        extra = draw(st.lists(
            st.tuples(st.sampled_from(ruleset.nation_ids), random_orders(ruleset)), max_size=4,
        ))
        for nation, order in extra:
            mine = out.setdefault(nation, [])
            where = draw(st.integers(0, len(mine)))
            mine.insert(where, order)
    if unique:
        for nation, mine in out.items():
            seen: set[str] = set()
            kept = []
            for order in mine:
                key = getattr(order, "loc", "waive").split("/")[0]
                if key not in seen:
                    seen.add(key)
                    kept.append(order)
            out[nation] = kept
    return {n: o for n, o in out.items() if o}


@st.composite
def states_with_orders(
    draw: st.DrawFn, ruleset_id: str = "classic", *, illegal: bool = True, unique: bool = False,
    max_phases: int = 45, phases: tuple[str | None, ...] = (None, None, "retreat", "adjustment"),
) -> tuple[Ruleset, GameState, Orders]:
    """A reachable state of ``ruleset_id`` with an order set for it.

    The kind of phase is drawn from ``phases`` (``None``: whatever the game reached), so the
    rare retreat phases are drawn about as often as the others.
    """
    rs = load(ruleset_id)
    phase = draw(st.sampled_from(phases), label="phase kind")
    state = draw(reachable_states(ruleset_id, max_phases, phase))
    orders = draw(order_sets(rs, state, illegal=illegal, unique=unique))
    return rs, state, orders
