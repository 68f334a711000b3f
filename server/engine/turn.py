"""``step()``: the one entry point that advances a game by one phase.

Pipeline:

1. Flatten the submitted orders into ``(nation, order)`` pairs, nations in id order (so
   the order in which nations submitted never matters), each nation's orders as given.
2. Adjudicate the phase (movement, retreat or adjustment).
3. Close the season when its fighting is over: centres change hands after the last
   movement/retreat phase of a season marked ``ownership`` (DATC: after the Fall retreats)
   and victory is checked.
4. Advance the calendar, skipping a retreat phase with nobody dislodged and an adjustment
   phase where no nation can build or must remove (the standard convention).
"""

from __future__ import annotations

from typing import Mapping, Sequence

import attrs

from .adjustments import adjudicate_adjustments, adjustment_needed, centre_counts, counts_for
from .orders import Order
from .outcome import OrderResult
from .resolve import adjudicate_movement
from .retreats import adjudicate_retreats, retreat_options
from .ruleset import Ruleset
from .state import PHASE_LETTER, Dislodged, GameState, Unit


@attrs.frozen
class Event:
    """Something notable that happened: ``Event("captured", nation="france", at="bel", by="germany")``."""

    code: str
    nation: str = ""
    at: str = ""
    detail: str = ""


@attrs.frozen
class Turn:
    """What ``step`` returns: the phase adjudicated, its results and the next state."""

    phase: str
    results: tuple[OrderResult, ...]
    state: GameState
    dislodged: tuple[Dislodged, ...] = ()
    retreat_options: tuple[tuple[Dislodged, tuple[str, ...]], ...] = ()
    civil_disorder: tuple[Unit, ...] = ()
    events: tuple[Event, ...] = ()
    after_phase: tuple[Unit, ...] = ()  # the board right after this phase, before skipping


def flatten(orders: Mapping[str, Sequence[Order]]) -> list[tuple[str, Order]]:
    """``{nation: [orders]}`` -> ``[(nation, order)]`` with nations in sorted order."""
    return [(n, o) for n in sorted(orders) for o in orders[n]]


def step(ruleset: Ruleset, state: GameState, orders: Mapping[str, Sequence[Order]]) -> Turn:
    """Adjudicate the current phase of ``state`` and return the next state.

    Args:
        ruleset: the scenario.
        state: the board at the start of the phase; must not be finished.
        orders: each nation's orders, as given. Units without orders hold; missing
            removals are chosen by the civil-disorder rule; missing builds are waived.

    Raises:
        ValueError: the game is already over.
    """
    if state.winner is not None:
        raise ValueError(f"the game is over: {state.winner} won")
    submitted = flatten(orders)
    return step_submitted(ruleset, state, submitted)


def step_submitted(ruleset: Ruleset, state: GameState, submitted: Sequence[tuple[str, Order]]) -> Turn:
    """Like :func:`step` but with orders already flattened in the order to adjudicate them."""
    season = ruleset.season(state.season)
    name = f"{season.letter}{state.year}{PHASE_LETTER[state.phase]}"
    if state.phase == "movement":
        mv = adjudicate_movement(ruleset, state, submitted)
        if not mv.dislodged:
            events: list[Event] = []
            after = _close_season(ruleset, state, mv.moved, "movement", events)
            return Turn(name, mv.results, after, (), (), (), tuple(events), mv.moved)
        events = [Event("dislodged", d.unit.nation, d.unit.province, d.attacker_from) for d in mv.dislodged]
        probe = GameState.build(state.year, state.season, "retreat", mv.moved, state.centres, mv.dislodged, mv.standoffs)
        opts = tuple((d, retreat_options(ruleset, probe, d)) for d in probe.dislodged)
        # A dislodged unit with nowhere to go is disbanded at once; so is every dislodged
        # unit when the season has no retreat phase. A retreat phase is held only when some
        # unit can actually retreat (the usual convention, and the peer's).
        can_retreat = [d for d, o in opts if o] if "retreat" in season.phases else []
        for d, o in opts:
            if d not in can_retreat:
                events.append(Event("disbanded", d.unit.nation, d.unit.province))
        if can_retreat:
            nxt = GameState.build(state.year, state.season, "retreat", mv.moved, state.centres, can_retreat, mv.standoffs)
            return Turn(name, mv.results, nxt, probe.dislodged, opts, (), tuple(events), mv.moved)
        after = _close_season(ruleset, state, mv.moved, "movement", events)
        return Turn(name, mv.results, after, probe.dislodged, opts, (), tuple(events), mv.moved)
    if state.phase == "retreat":
        rt = adjudicate_retreats(ruleset, state, submitted)
        events = [Event("disbanded", u.nation, u.province) for u in rt.disbanded]
        after = _close_season(ruleset, state, rt.units, "retreat", events)
        return Turn(name, rt.results, after, (), (), (), tuple(events), rt.units)
    adj = adjudicate_adjustments(ruleset, state, submitted)
    events = [Event("built", u.nation, u.province, u.kind) for u in adj.built]
    events += [Event("removed", u.nation, u.province, u.kind) for u in adj.removed]
    if adj.removed:  # a nation with no centres loses its last units here
        left = {u[0] for u in adj.units} | {n for _, n in state.centres}
        for n in sorted({u[0] for u in adj.removed}):
            if n not in left:
                events.append(Event("eliminated", n))
    nxt = _advance(ruleset, state.year, state.season, "adjustment", adj.units, state.centres, None)
    return Turn(name, adj.results, nxt, (), (), adj.civil_disorder, tuple(events), adj.units)


def _close_season(ruleset: Ruleset, state: GameState, units: Sequence[Unit], phase: str, events: list[Event]) -> GameState:
    season = ruleset.season(state.season)
    centres = state.centres
    winner = None
    if season.ownership:
        owners = dict(centres)
        changed = False
        all_centres = ruleset.centres
        for u in units:
            p = u[3]
            if p in all_centres and owners.get(p) != u[0]:
                events.append(Event("captured", u[0], p, owners.get(p, "")))
                owners[p] = u[0]
                changed = True
        if changed:
            losers = sorted({ev.detail for ev in events if ev.code == "captured" and ev.detail})
            centres = tuple(sorted(owners.items()))
            counts = centre_counts(ruleset, centres)
            if losers:
                alive = {u[0] for u in units}
                for n in losers:
                    if counts[n] == 0 and n not in alive and not any(o == n for o in owners.values()):
                        events.append(Event("eliminated", n))
            best = max(counts.values())
            if best >= ruleset.victory_centres:
                leaders = [n for n, c in counts.items() if c == best]
                if len(leaders) == 1:
                    winner = leaders[0]
                    events.append(Event("victory", winner, detail=str(best)))
    # the last movement/retreat phase of the season is over: go to what comes after it
    last = "retreat" if "retreat" in season.phases else "movement"
    return _advance(ruleset, state.year, state.season, last if phase != "adjustment" else phase, units, centres, winner)


def _advance(ruleset: Ruleset, year: int, season_id: str, after: str, units: Sequence[Unit], centres: Sequence[tuple[str, str]], winner: str | None) -> GameState:
    """The next phase after ``after`` of ``season_id`` that has something to do."""
    seasons = ruleset.seasons
    si = ruleset.season_index[season_id]
    phases = seasons[si].phases
    pi = phases.index(after) if after in phases else len(phases) - 1
    units, centres = tuple(units), tuple(centres)
    for _ in range(4 * len(seasons) * 3 + 4):
        pi += 1
        if pi >= len(seasons[si].phases):
            si, pi = si + 1, 0
            if si >= len(seasons):
                si, year = 0, year + 1
        kind = seasons[si].phases[pi]
        # units and centres arrive sorted (adjudication output), so no re-sort is needed
        candidate = GameState(year, seasons[si].id, kind, units, centres, winner=winner)
        if winner is not None or kind == "movement":
            return candidate
        if kind == "retreat":
            continue  # nobody is dislodged at the start of a season
        if adjustment_needed(ruleset, candidate):
            return candidate
    raise AssertionError("the calendar has no movement phase")  # the loader forbids this


def supply_counts(ruleset: Ruleset, state: GameState) -> dict[str, int]:
    """Counted supply centres per nation (conditional centres excluded where they do not count)."""
    return centre_counts(ruleset, state.centres)


__all__ = ["Event", "Turn", "step", "step_submitted", "flatten", "supply_counts", "counts_for"]
