"""Adjustment-phase adjudication: builds, waives, removals and civil disorder.

Builds go on vacant home centres the nation owns (or any vacant owned centre with the
``build_sites = "any-owned"`` option). Builds and removals are taken in the order given
until the allowed number is reached; the rest fail (DATC 6.I.1, 6.J.1). A nation that
orders too few removals loses units by the civil-disorder rule: farthest from its nearest
owned centre first (2023 rules; ``distance-home`` measures to home centres), distance counted
over land and sea alike; ties go fleets first, then alphabetically by province name
(DATC 6.J.3-6.J.11).
"""

from __future__ import annotations

from collections import deque
from typing import Sequence

import attrs

from .orders import Build, Disband, Order, Waive
from .outcome import FAILS, ILLEGAL, SUCCEEDS, OrderResult, Reason
from .ruleset import Ruleset, province_of
from .state import GameState, Unit


@attrs.frozen
class AdjustmentResult:
    results: tuple[OrderResult, ...]
    units: tuple[Unit, ...]
    built: tuple[Unit, ...]
    removed: tuple[Unit, ...]
    civil_disorder: tuple[Unit, ...]


def counts_for(ruleset: Ruleset, centre: str, nation: str) -> bool:
    """Whether ``centre`` counts as a supply centre for ``nation`` (DATC 7.A: Hong Kong)."""
    excluded = ruleset.not_counted.get(centre)
    return not (excluded and nation in excluded)


def centre_counts(ruleset: Ruleset, centres: Sequence[tuple[str, str]]) -> dict[str, int]:
    """Counted supply centres per nation (every nation present, zero included)."""
    out = dict.fromkeys(ruleset.nation_ids, 0)
    excluded = ruleset.not_counted
    for c, n in centres:
        if not excluded or n not in excluded.get(c, ()):
            out[n] += 1
    return out


def build_sites(ruleset: Ruleset, state: GameState, nation: str) -> tuple[str, ...]:
    """Provinces where ``nation`` may build now, sorted."""
    return _sites(ruleset, state).get(nation, ())


def _sites(ruleset: Ruleset, state: GameState) -> dict[str, tuple[str, ...]]:
    occupied = {u.province for u in state.units}
    homes_only = ruleset.options.build_sites == "home"
    sites: dict[str, list[str]] = {}
    for c, n in state.centres:
        if c in occupied:
            continue
        if homes_only and ruleset.provinces[c].home != n:
            continue
        sites.setdefault(n, []).append(c)
    return {n: tuple(sorted(v)) for n, v in sites.items()}


def adjustments_due(ruleset: Ruleset, state: GameState) -> dict[str, int]:
    """Builds (+) or removals (-) each nation may/must make, builds capped by free sites."""
    counts = centre_counts(ruleset, state.centres)
    for u in state.units:
        counts[u.nation] -= 1
    sites: dict[str, tuple[str, ...]] | None = None
    for n, diff in counts.items():
        if diff > 0:
            if sites is None:
                sites = _sites(ruleset, state)
            counts[n] = min(diff, len(sites.get(n, ())))
    return counts


def adjustment_needed(ruleset: Ruleset, state: GameState) -> bool:
    """Whether an adjustment phase has anything to do: a removal owed or a build possible."""
    diff = centre_counts(ruleset, state.centres)
    for u in state.units:
        diff[u[0]] -= 1
    builders = set()
    for n, v in diff.items():
        if v < 0:
            return True
        if v > 0:
            builders.add(n)
    if not builders:
        return False
    occupied = {u[3] for u in state.units}
    homes_only = ruleset.options.build_sites == "home"
    provinces = ruleset.provinces
    for c, n in state.centres:
        if n in builders and c not in occupied and (not homes_only or provinces[c].home == n):
            return True
    return False


def adjudicate_adjustments(
    ruleset: Ruleset, state: GameState, submitted: Sequence[tuple[str, Order]]
) -> AdjustmentResult:
    """Adjudicate one adjustment phase."""
    diff = centre_counts(ruleset, state.centres)
    for u in state.units:
        diff[u.nation] -= 1
    owners = dict(state.centres)
    at = {u.province: u for u in state.units}
    used = dict.fromkeys(ruleset.nation_ids, 0)
    built_at: set[str] = set()
    removed_at: set[str] = set()
    built: list[Unit] = []
    removed: list[Unit] = []
    results = [_one(ruleset, nation, order, diff, used, owners, at, built_at, removed_at, built, removed)
               for nation, order in submitted]
    # civil disorder: removals not ordered are chosen by distance (DATC 6.J)
    cd: list[Unit] = []
    for n in ruleset.nation_ids:
        missing = -diff[n] - used[n] if diff[n] < 0 else 0
        if missing > 0:
            remaining = [u for u in state.units if u.nation == n and u.province not in removed_at]
            chosen = civil_disorder_removals(ruleset, state, n, remaining, missing)
            cd.extend(chosen)
            removed.extend(chosen)
    units: Sequence[Unit] = state.units
    if removed or built:
        gone = {u.loc for u in removed}
        units = sorted([u for u in state.units if u.loc not in gone] + built, key=lambda u: u.loc)
    return AdjustmentResult(tuple(results), tuple(units), tuple(built), tuple(removed), tuple(cd))


def _one(ruleset: Ruleset, nation: str, order: Order, diff: dict[str, int], used: dict[str, int],
         owners: dict[str, str],
         at: dict[str, Unit], built_at: set[str], removed_at: set[str],
         built: list[Unit], removed: list[Unit]) -> OrderResult:
    if isinstance(order, Waive):
        if diff.get(nation, 0) <= 0:
            return OrderResult(nation, order, ILLEGAL, Reason("no_builds"))
        if used[nation] >= diff[nation]:
            return OrderResult(nation, order, FAILS, Reason("too_many", detail="builds"))
        used[nation] += 1
        return OrderResult(nation, order, SUCCEEDS)
    if isinstance(order, Build):
        prov = province_of(order.loc)
        if diff.get(nation, 0) <= 0:
            return OrderResult(nation, order, ILLEGAL, Reason("no_builds"))
        if prov not in ruleset.provinces or owners.get(prov) != nation:
            return OrderResult(nation, order, ILLEGAL, Reason("not_owned", at=prov))
        if ruleset.options.build_sites == "home" and ruleset.provinces[prov].home != nation:
            return OrderResult(nation, order, ILLEGAL, Reason("not_home_centre", at=prov))
        if prov in at:
            return OrderResult(nation, order, ILLEGAL, Reason("occupied", at=prov))
        loc = order.loc
        if order.unit == "A":
            if prov not in ruleset.army_adj:
                return OrderResult(nation, order, ILLEGAL, Reason("army_to_sea", at=prov))
            if loc != prov:
                return OrderResult(nation, order, ILLEGAL, Reason("wrong_unit_type", at=prov, detail="a fleet (armies stand on no coast)"))
        else:
            if loc not in ruleset.fleet_adj:
                p = ruleset.provinces[prov]
                code = "coast_needed" if p.coasts else "fleet_inland"
                return OrderResult(nation, order, ILLEGAL, Reason(code, at=prov))
        if used[nation] >= diff[nation]:
            return OrderResult(nation, order, FAILS, Reason("too_many", detail="builds"))
        if prov in built_at:
            return OrderResult(nation, order, FAILS, Reason("occupied", at=prov))  # DATC 6.I.7
        used[nation] += 1
        built_at.add(prov)
        built.append(Unit(nation, order.unit, loc))
        return OrderResult(nation, order, SUCCEEDS)
    if isinstance(order, Disband):
        prov = province_of(order.loc)
        u = at.get(prov)
        if u is None:
            return OrderResult(nation, order, ILLEGAL, Reason("no_unit", at=prov))
        if u.nation != nation:
            return OrderResult(nation, order, ILLEGAL, Reason("not_your_unit", at=prov, by=u.nation))
        if u.kind != order.unit:
            return OrderResult(nation, order, ILLEGAL, Reason("wrong_unit_type", at=prov))
        if diff.get(nation, 0) >= 0:
            return OrderResult(nation, order, ILLEGAL, Reason("no_removals"))
        if prov in removed_at:
            return OrderResult(nation, order, ILLEGAL, Reason("duplicate", at=prov))
        if used[nation] >= -diff[nation]:
            return OrderResult(nation, order, FAILS, Reason("too_many", detail="removals"))
        used[nation] += 1
        removed_at.add(prov)
        removed.append(u)
        return OrderResult(nation, order, SUCCEEDS)
    return OrderResult(nation, order, ILLEGAL, Reason("wrong_phase", detail="adjustment"))


def civil_disorder_removals(ruleset: Ruleset, state: GameState, nation: str, units: Sequence[Unit], count: int) -> list[Unit]:
    """The ``count`` units removed by civil disorder, in removal order."""
    if ruleset.options.civil_disorder == "distance-home":
        targets = set(ruleset.homes.get(nation, ()))
    else:
        targets = {c for c, n in state.centres if n == nation}
    dist = _distances(ruleset, targets)
    far = len(ruleset.provinces) + 1

    def key(u: Unit) -> tuple[int, int, str]:
        return (-dist.get(u.province, far), 0 if u.kind == "F" else 1, ruleset.provinces[u.province].name.lower())

    return sorted(units, key=key)[:count]


def _distances(ruleset: Ruleset, targets: set[str]) -> dict[str, int]:
    """Moves from every province to the nearest target, over land and sea alike."""
    dist = {t: 0 for t in targets}
    queue = deque(sorted(targets))
    while queue:
        p = queue.popleft()
        for n in sorted(ruleset.any_adj[p]):
            if n not in dist:
                dist[n] = dist[p] + 1
                queue.append(n)
    return dist
