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

MAX_CONVOY = 13  # seas in one convoy route (the peer's limit)
PATH_BUDGET = 20_000  # route-enumeration steps per army before falling back to clusters


def legal_orders(ruleset: Ruleset, state: GameState, nation: str) -> dict[str, list[Order]]:
    """Every legal order of ``nation`` in the current phase, keyed by province.

    Keys are the provinces of its units (movement), of its dislodged units (retreat), or
    its build sites / unit provinces (adjustment). Lists are in a stable order.
    """
    return _nation_orders(ruleset, state, nation, _Board(ruleset, state) if state.phase == "movement" else None)


def all_legal_orders(ruleset: Ruleset, state: GameState) -> dict[str, dict[str, list[Order]]]:
    """``legal_orders`` for every nation, sharing one analysis of the board (linear time)."""
    board = _Board(ruleset, state) if state.phase == "movement" else None
    due = adjustments_due(ruleset, state) if state.phase == "adjustment" else None
    return {n: _nation_orders(ruleset, state, n, board, due) for n in ruleset.nation_ids}


def _nation_orders(ruleset: Ruleset, state: GameState, nation: str, board: _Board | None,
                   due_all: dict[str, int] | None = None) -> dict[str, list[Order]]:
    if state.phase == "movement":
        assert board is not None
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
    due = (due_all if due_all is not None else adjustments_due(ruleset, state)).get(nation, 0)
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


class _Board:
    """Per-phase lookups shared by every unit's option list."""

    def __init__(self, ruleset: Ruleset, state: GameState) -> None:
        self.rs = ruleset
        self.units = state.units
        self.at: dict[str, Unit] = {u.province: u for u in state.units}
        self.state = state
        self.frozen = ruleset.frozen.get(state.season, frozenset()) if ruleset.frozen else frozenset()
        # fleets that can convoy: at sea, and not held by ice
        self.seas = frozenset(
            u.province for u in state.units
            if u.kind == "F" and ruleset.provinces[u.province].terrain == "sea" and u.province not in self.frozen
        )
        self._paths: dict[str, dict[str, list[frozenset[str]]]] = {}
        self._reachers: dict[str, list[Unit]] | None = None
        self._convoyable: dict[str, list[tuple[Unit, list[frozenset[str]]]]] | None = None
        self._by_fleet: dict[str, list[tuple[Unit, str]]] | None = None

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
            budget = PATH_BUDGET
            while stack:
                budget -= 1
                if budget < 0:
                    # Too many routes to enumerate (a big fleet cluster on a large map):
                    # every fleet of the connected cluster may convoy. Exact below the budget.
                    return self._convoy_by_cluster(origin)
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

    def reachers(self, prov: str) -> list[Unit]:
        """Units that could move to ``prov`` directly."""
        if self._reachers is None:
            table: dict[str, list[Unit]] = {}
            for t in self.units:
                for d in self.reach(t):
                    table.setdefault(d, []).append(t)
            self._reachers = table
        return self._reachers.get(prov, [])

    def convoy_reachers(self, prov: str) -> list[tuple[Unit, list[frozenset[str]]]]:
        """Armies that a convoy of fleets now at sea could carry to ``prov``, with the routes."""
        if self._convoyable is None:
            table: dict[str, list[tuple[Unit, list[frozenset[str]]]]] = {}
            if self.seas:
                for t in self.units:
                    if t.kind == "A":
                        for d, sets in self.convoy_paths(t.province).items():
                            if d not in self.rs.army_adj.get(t.loc, ()):
                                table.setdefault(d, []).append((t, sets))
            self._convoyable = table
        return self._convoyable.get(prov, [])

    def convoyable_by(self, sea: str) -> list[tuple[Unit, str]]:
        """(army, destination) pairs the fleet in ``sea`` could help convoy, sorted."""
        if self._by_fleet is None:
            table: dict[str, set[tuple[Unit, str]]] = {}
            for t in self.units:
                if t.kind == "A":
                    for d, sets in self.convoy_paths(t.province).items():
                        for q in sets:
                            for f in q:
                                table.setdefault(f, set()).add((t, d))
            self._by_fleet = {f: sorted(v, key=lambda x: (x[0].loc, x[1])) for f, v in table.items()}
        return self._by_fleet.get(sea, [])

    def _convoy_by_cluster(self, origin: str) -> dict[str, list[frozenset[str]]]:
        rs = self.rs
        reached: set[str] = set()
        stack = [s for s in rs.sea_adj.get(origin, ()) if s in self.seas]
        reached.update(stack)
        while stack:
            for n in rs.sea_adj[stack.pop()]:
                if n in self.seas and n not in reached:
                    reached.add(n)
                    stack.append(n)
        cluster = frozenset(reached)
        dests = {p for s in cluster for p in rs.sea_adj[s] if p != origin and rs.provinces[p].terrain == "coast"}
        out = {d: [cluster] for d in dests}
        self._paths[origin] = out
        return out

    def rail_moves(self, u: Unit) -> list[Order]:
        """Rail moves of an army on a network its nation may use: one per other station."""
        from .railway import may_use_board

        out: list[Order] = []
        seen: set[str] = set()
        for net in self.rs.railways:
            if u.province not in net.stations:
                continue
            for d in sorted(net.stations):
                if d == u.province or d in seen:
                    continue
                route = net.route(u.province, d)
                if route and may_use_board(self.rs, self.state, net, u.nation, route):
                    seen.add(d)
                    out.append(Move("A", u.loc, d, via=net.id))
        return out

    def reach(self, u: Unit) -> frozenset[str]:
        if u.kind == "A":
            return self.rs.army_adj.get(u.loc, frozenset())
        return self.rs.fleet_reach.get(u.loc, frozenset())

    def unit_orders(self, u: Unit) -> list[Order]:
        rs = self.rs
        prov = u.province
        out: list[Order] = [Hold(u.kind, u.loc)]
        frozen = self.frozen
        if u.kind == "A":
            out.extend(Move("A", u.loc, d) for d in sorted(rs.army_adj.get(u.loc, ())))
            out.extend(Move("A", u.loc, d, via_convoy=True) for d in sorted(self.convoy_paths(prov)))
            if rs.railways:
                out.extend(self.rail_moves(u))
        else:
            if prov in frozen:
                return out  # a fleet in a frozen port may only hold
            out.extend(Move("F", u.loc, d) for d in sorted(rs.fleet_adj.get(u.loc, ())) if province_of(d) not in frozen)
            for canal in rs.canals:  # through a canal (permission is settled when adjudicating)
                if prov in canal.joins:
                    out.extend(Move("F", u.loc, d) for d in canal.joins if d != prov and d not in frozen)
        reach = self.reach(u)
        # hold supports
        for p in sorted(reach):
            t = self.at.get(p)
            if t is not None:
                out.append(Support(u.kind, u.loc, t.kind, t.loc))
        # move supports: units that can reach a province this unit can reach
        exclude = prov if prov in self.seas else "-"
        supports: list[Support] = []
        for d in reach:
            if d == prov:
                continue
            for t in self.reachers(d):
                if t.province != prov:
                    supports.append(Support(u.kind, u.loc, t.kind, t.loc, d))
                    if t.kind == "F" and rs.provinces[d].coasts:
                        supports.extend(Support(u.kind, u.loc, "F", t.loc, x) for x in sorted(rs.fleet_adj.get(t.loc, ())) if province_of(x) == d)
            for t, sets in self.convoy_reachers(d):
                if t.province != prov and any(exclude not in q for q in sets):
                    supports.append(Support(u.kind, u.loc, "A", t.loc, d))
        out.extend(sorted(set(supports), key=lambda o: (o.target, o.dest or "")))
        # convoys: this fleet lies on a minimal route of fleets at sea
        if prov in self.seas:
            out.extend(Convoy("F", u.loc, "A", t.loc, d) for t, d in self.convoyable_by(prov))
        return out

