"""Legal orders: every order a nation could give now, per unit or build site.

Used for clients' completion and for random play. The sets follow the usual convention
(and the peer engine's, so seeded random games can be compared):

* movement: hold; moves to every adjacent location; hold supports of every unit the unit
  could move to; move supports into every province the unit could move to, of every other
  unit that could get there directly or (armies) by a convoy route of fleets now at sea not
  passing through the supporter (for a split-coast destination both the coast and the bare
  province are listed); moves by convoy to every coast reachable through fleets now at sea;
  convoys by fleets at sea of every army that a route through them could carry;
* retreat: each allowed retreat, and disbanding;
* adjustment: every unit type buildable on each free build site plus ``waive`` when the
  nation has builds; one removal per unit when it must remove.
"""

from __future__ import annotations

from .adjustments import adjustments_due, build_sites
from .orders import Build, Convoy, Disband, Hold, Move, Order, Retreat, Support, Waive
from .retreats import retreat_options
from .ruleset import Ruleset, province_of
from .state import GameState, Unit

MAX_CONVOY = 13  # seas in one convoy route (the peer's limit; keeps enumeration bounded)


def legal_orders(ruleset: Ruleset, state: GameState, nation: str) -> dict[str, list[Order]]:
    """Every legal order of ``nation`` in the current phase, keyed by province.

    Keys are the provinces of its units (movement), of its dislodged units (retreat), or
    its build sites / unit provinces (adjustment). Lists are in a stable order.
    """
    if state.phase == "movement":
        board = _Board(ruleset, state)
        return {u.province: board.unit_orders(u) for u in state.units if u.nation == nation}
    if state.phase == "retreat":
        out: dict[str, list[Order]] = {}
        for d in state.dislodged:
            if d.unit.nation == nation:
                u = d.unit
                opts: list[Order] = [Retreat(u.kind, u.loc, loc) for loc in retreat_options(ruleset, state, d)]
                opts.append(Disband(u.kind, u.loc))
                out[u.province] = opts
        return out
    due = adjustments_due(ruleset, state).get(nation, 0)
    if due > 0:
        return {site: build_options(ruleset, site) + [Waive()] for site in build_sites(ruleset, state, nation)}
    if due < 0:
        return {u.province: [Disband(u.kind, u.loc)] for u in state.units if u.nation == nation}
    return {}


def build_options(ruleset: Ruleset, site: str) -> list[Order]:
    """The units that can be built on ``site``: an army on land, a fleet on each coast."""
    out: list[Order] = []
    if site in ruleset.army_adj:
        out.append(Build("A", site))
    out.extend(Build("F", loc) for loc in ruleset.fleet_locations(site))
    return out


def all_legal_orders(ruleset: Ruleset, state: GameState) -> dict[str, dict[str, list[Order]]]:
    """``legal_orders`` for every nation, sharing the board analysis."""
    return {n: legal_orders(ruleset, state, n) for n in ruleset.nation_ids}


class _Board:
    """Per-phase lookups shared by every unit's option list."""

    def __init__(self, ruleset: Ruleset, state: GameState) -> None:
        self.rs = ruleset
        self.units = state.units
        self.at: dict[str, Unit] = {u.province: u for u in state.units}
        self.seas = frozenset(
            u.province for u in state.units
            if u.kind == "F" and ruleset.provinces[u.province].terrain == "sea"
        )
        self._paths: dict[str, dict[str, list[frozenset[str]]]] = {}

    def convoy_paths(self, origin: str) -> dict[str, list[frozenset[str]]]:
        """For an army at ``origin``: destination -> the inclusion-minimal sets of fleets
        now at sea that form a convoy route there (routes of at most MAX_CONVOY seas)."""
        got = self._paths.get(origin)
        if got is not None:
            return got
        rs = self.rs
        found: dict[str, set[frozenset[str]]] = {}
        if rs.provinces[origin].terrain == "coast":
            stack = [(s, frozenset((s,))) for s in sorted(rs.sea_adj.get(origin, ())) if s in self.seas]
            while stack:
                last, used = stack.pop()
                for p in rs.sea_adj[last]:
                    if p in self.seas:
                        if p not in used and len(used) < MAX_CONVOY:
                            stack.append((p, used | {p}))
                    elif p != origin and rs.provinces[p].terrain == "coast":
                        found.setdefault(p, set()).add(used)
        out = {}
        for d, sets in found.items():
            out[d] = sorted((a for a in sets if not any(b < a for b in sets)), key=sorted)
        self._paths[origin] = out
        return out

    def reach(self, u: Unit) -> frozenset[str]:
        if u.kind == "A":
            return self.rs.army_adj.get(u.loc, frozenset())
        return self.rs.fleet_reach.get(u.loc, frozenset())

    def unit_orders(self, u: Unit) -> list[Order]:
        rs = self.rs
        prov = u.province
        out: list[Order] = [Hold(u.kind, u.loc)]
        if u.kind == "A":
            out.extend(Move("A", u.loc, d) for d in sorted(rs.army_adj.get(u.loc, ())))
            out.extend(Move("A", u.loc, d, via_convoy=True) for d in sorted(self.convoy_paths(prov)))
        else:
            out.extend(Move("F", u.loc, d) for d in sorted(rs.fleet_adj.get(u.loc, ())))
        reach = self.reach(u)
        # hold supports
        for p in sorted(reach):
            t = self.at.get(p)
            if t is not None:
                out.append(Support(u.kind, u.loc, t.kind, t.loc))
        # move supports
        exclude = prov if prov in self.seas else "-"
        for t in self.units:
            tp = t.province
            if tp == prov:
                continue
            if t.kind == "A":
                dests = set(rs.army_adj.get(t.loc, ()))
                if self.seas:
                    dests |= {d for d, sets in self.convoy_paths(tp).items() if any(exclude not in q for q in sets)}
                for d in sorted(dests & reach):
                    if d != prov:
                        out.append(Support(u.kind, u.loc, "A", t.loc, d))
            else:
                locs = rs.fleet_adj.get(t.loc, ())
                for d in sorted({province_of(x) for x in locs} & reach):
                    if d == prov:
                        continue
                    out.append(Support(u.kind, u.loc, "F", t.loc, d))
                    if rs.provinces[d].coasts:
                        out.extend(Support(u.kind, u.loc, "F", t.loc, x) for x in sorted(locs) if province_of(x) == d)
        # convoys
        if prov in self.seas:
            for t in self.units:
                if t.kind == "A":
                    paths = self.convoy_paths(t.province)
                    for d in sorted(paths):
                        if any(prov in q for q in paths[d]):
                            out.append(Convoy("F", u.loc, "A", t.loc, d))
        return out

