"""Seeded random play ("W-rand v1", the peer workload's policy) over the pure engine.

The randomness lives here, outside the engine: one ``random.Random(seed)`` per game, and
nothing else draws from it. For each phase, nations in id order; each orderable province in
sorted order; ``rng.choice`` among its legal orders sorted by their text in the peer's
notation (``A PAR - BUR``); builds and removals on ``rng.sample`` of the sites/units. Same
ruleset and seed, same game, in any process.
"""

from __future__ import annotations

import random
from typing import Iterator

import attrs

from .engine.adjustments import adjustments_due, centre_counts
from .engine.options import all_legal_orders
from .engine.orders import Build, Convoy, Disband, Hold, Move, Order, Retreat, Support, Waive
from .engine.ruleset import Ruleset, province_of
from .engine.state import GameState, initial_state, phase_name
from .engine.turn import Turn, step


def peer_text(order: Order) -> str:
    """The peer engine's notation, used to sort options exactly as the workload defines.

    >>> peer_text(Move("A", "lon", "nwy", via_convoy=True))
    'A LON - NWY VIA'
    >>> peer_text(Build("F", "stp/nc"))
    'F STP/NC B'
    """
    if isinstance(order, Hold):
        return f"{order.unit} {order.loc.upper()} H"
    if isinstance(order, Move):
        text = f"{order.unit} {order.loc.upper()} - {order.dest.upper()}" + (" VIA" if order.via_convoy else "")
        return f"{text} VIA {order.via.upper()}" if order.via else text  # rail: not in the peer
    if isinstance(order, Support):
        head = f"{order.unit} {order.loc.upper()} S {order.target_unit} {order.target.upper()}"
        return head if order.dest is None else f"{head} - {order.dest.upper()}"
    if isinstance(order, Convoy):
        return f"{order.unit} {order.loc.upper()} C {order.target_unit} {order.target.upper()} - {order.dest.upper()}"
    if isinstance(order, Retreat):
        return f"{order.unit} {order.loc.upper()} R {order.dest.upper()}"
    if isinstance(order, Disband):
        return f"{order.unit} {order.loc.upper()} D"
    if isinstance(order, Build):
        return f"{order.unit} {order.loc.upper()} B"
    if isinstance(order, Waive):
        return "WAIVE"
    raise TypeError(f"no peer notation for {order!r}")


def _text(pair: tuple[str, Order]) -> str:
    return pair[0]


def choose_orders(rng: random.Random, ruleset: Ruleset, state: GameState) -> dict[str, list[Order]]:
    """One phase of the W-rand v1 policy: ``{nation: [orders]}`` (empty lists omitted)."""
    chosen: dict[str, list[Order]] = {}
    due = adjustments_due(ruleset, state) if state.phase == "adjustment" else {}
    every = all_legal_orders(ruleset, state)
    for nation in ruleset.nation_ids:
        options = every[nation]
        if not options:
            continue
        locs = sorted(options)
        picked: list[Order] = []
        if state.phase in ("movement", "retreat"):
            for loc in locs:
                opts = sorted(((peer_text(o), o) for o in options[loc]), key=_text)
                if opts:
                    picked.append(rng.choice(opts)[1])
        else:
            n = due.get(nation, 0)
            if n > 0:
                for loc in sorted(rng.sample(locs, min(n, len(locs)))):
                    opts = sorted(((peer_text(o), o) for o in options[loc]), key=_text)
                    picked.append(rng.choice(opts)[1])
            elif n < 0:
                for loc in sorted(rng.sample(locs, min(-n, len(locs)))):
                    opts = sorted(((peer_text(o), o) for o in options[loc] if isinstance(o, Disband)), key=_text)
                    picked.append(rng.choice(opts)[1])
        if picked:
            chosen[nation] = picked
    return chosen


@attrs.frozen
class Played:
    """One played phase: the state before it, the orders given, and what ``step`` returned."""

    state: GameState
    orders: dict[str, list[Order]]
    turn: Turn


def play(ruleset: Ruleset, seed: int, years: int, start: GameState | None = None) -> Iterator[Played]:
    """Play a seeded random game for ``years`` years (or until someone wins)."""
    rng = random.Random(seed)
    state = start or initial_state(ruleset)
    last_year = state.year + years - 1
    while state.winner is None and state.year <= last_year:
        orders = choose_orders(rng, ruleset, state)
        turn = step(ruleset, state, orders)
        yield Played(state, orders, turn)
        state = turn.state


def describe(ruleset: Ruleset, played: Played) -> str:
    """One line per phase: phase, centres per nation, notable events."""
    counts = centre_counts(ruleset, played.turn.state.centres)
    cells = " ".join(f"{n[:3]}={counts[n]}" for n in ruleset.nation_ids)
    notable = []
    for ev in played.turn.events:
        if ev.code == "captured":
            notable.append(f"{ev.nation} takes {ev.at}")
        elif ev.code in ("eliminated", "victory"):
            notable.append(f"{ev.nation} {ev.code}")
        elif ev.code == "dislodged":
            notable.append(f"{ev.nation} dislodged from {ev.at}")
        elif ev.code in ("built", "removed"):
            notable.append(f"{ev.nation} {ev.code} {ev.detail} {ev.at}")
    text = "; ".join(notable[:6]) + (f"; +{len(notable) - 6} more" if len(notable) > 6 else "")
    return f"{phase_name(ruleset, played.state)}  {cells}  {text}".rstrip()


def board_snapshot(ruleset: Ruleset, state: GameState) -> dict[str, dict[str, list[str]]]:
    """The workload's engine-neutral board: sorted units, dislodged units and centres per nation
    in the peer's notation (upper-case power keys)."""
    out = {}
    for n in ruleset.nation_ids:
        out[n.upper()] = {
            "units": sorted(f"{u.kind} {u.loc.upper()}" for u in state.units if u.nation == n),
            "dislodged": sorted(f"{d.unit.kind} {d.unit.loc.upper()}" for d in state.dislodged if d.unit.nation == n),
            "centers": sorted(c.upper() for c, o in state.centres if o == n),
        }
    return out


__all__ = ["peer_text", "choose_orders", "play", "describe", "board_snapshot", "Played", "province_of"]
