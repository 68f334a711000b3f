"""Retreat-phase adjudication.

A dislodged unit may retreat to an adjacent province that is empty, was not left empty by
a standoff, and is not where its attacker came from, unless that attacker came by convoy
(2023 rules, DATC 6.H.11). No convoys in retreats (DATC 6.H.3). Two retreats to one place
both fail (DATC 6.H.7); a unit that does not retreat is disbanded.
"""

from __future__ import annotations

from typing import Sequence

import attrs

from .orders import Disband, Order, Retreat
from .outcome import FAILS, ILLEGAL, SUCCEEDS, OrderResult, Reason
from .ruleset import Ruleset, province_of
from .state import Dislodged, GameState, Unit


@attrs.frozen
class RetreatResult:
    results: tuple[OrderResult, ...]
    units: tuple[Unit, ...]  # board after the retreats
    disbanded: tuple[Unit, ...]


def retreat_options(ruleset: Ruleset, state: GameState, d: Dislodged) -> tuple[str, ...]:
    """Locations the dislodged unit ``d`` may retreat to (with coasts for fleets), sorted."""
    occupied = {u.province for u in state.units}
    blocked = occupied | set(state.standoffs)
    if not (d.convoyed and ruleset.options.retreat_to_convoy_origin):
        blocked.add(d.attacker_from)
    u = d.unit
    if u.kind == "F" and ruleset.frozen:
        frozen = ruleset.frozen.get(state.season, frozenset())
        if u.province in frozen:
            return ()  # a fleet cannot leave a frozen port, not even to retreat
        blocked |= frozen
    adj = ruleset.army_adj if u.kind == "A" else ruleset.fleet_adj
    return tuple(sorted(loc for loc in adj.get(u.loc, ()) if province_of(loc) not in blocked))


def adjudicate_retreats(
    ruleset: Ruleset, state: GameState, submitted: Sequence[tuple[str, Order]]
) -> RetreatResult:
    """Adjudicate one retreat phase from ``state.dislodged``."""
    by_prov = {d.unit.province: d for d in state.dislodged}
    options = {p: retreat_options(ruleset, state, d) for p, d in by_prov.items()}
    chosen: dict[str, tuple[int, str]] = {}  # province -> (submission index, destination)
    results: dict[int, OrderResult] = {}
    claimed: set[str] = set()
    for k, (nation, order) in enumerate(submitted):
        if not isinstance(order, (Retreat, Disband)):
            results[k] = OrderResult(nation, order, ILLEGAL, Reason("wrong_phase", detail="retreat"))
            continue
        prov = province_of(order.loc)
        d = by_prov.get(prov)
        if d is None:
            results[k] = OrderResult(nation, order, ILLEGAL, Reason("not_dislodged", at=prov))
            continue
        if d.unit.nation != nation:
            results[k] = OrderResult(nation, order, ILLEGAL, Reason("not_your_unit", at=prov, by=d.unit.nation))
            continue
        if d.unit.kind != order.unit:
            results[k] = OrderResult(nation, order, ILLEGAL, Reason("wrong_unit_type", at=prov))
            continue
        if prov in claimed:
            results[k] = OrderResult(nation, order, ILLEGAL, Reason("duplicate", at=prov))
            continue
        claimed.add(prov)
        if isinstance(order, Disband):
            results[k] = OrderResult(nation, order, SUCCEEDS)
            continue
        dest = _retreat_destination(order.dest, options[prov])
        if dest is None:
            target = province_of(order.dest)
            both = "/" not in order.dest and sum(1 for o in options[prov] if province_of(o) == target) > 1
            results[k] = OrderResult(nation, order, ILLEGAL, Reason("coast_needed" if both else "retreat_blocked", at=target))
            continue
        chosen[prov] = (k, dest)
    # two or more retreats to one province all fail
    count: dict[str, int] = {}
    for _, dest in chosen.values():
        count[province_of(dest)] = count.get(province_of(dest), 0) + 1
    units = list(state.units)
    disbanded = []
    for prov in sorted(by_prov):
        d = by_prov[prov]
        if prov in chosen:
            k, dest = chosen[prov]
            nation, order = submitted[k]
            if count[province_of(dest)] == 1:
                units.append(Unit(d.unit.nation, d.unit.kind, dest))
                results[k] = OrderResult(nation, order, SUCCEEDS)
                continue
            results[k] = OrderResult(nation, order, FAILS, Reason("standoff", at=province_of(dest)))
        disbanded.append(d.unit)
    ordered = tuple(results[k] for k in range(len(submitted)))
    return RetreatResult(ordered, tuple(sorted(units, key=lambda u: u.loc)), tuple(disbanded))


def _retreat_destination(dest: str, options: Sequence[str]) -> str | None:
    if dest in options:
        return dest
    if "/" not in dest:
        same = [o for o in options if province_of(o) == dest]
        if len(same) == 1:
            return same[0]
    return None
