"""Movement-phase adjudication, DATC 3.0 preferences.

Stages, in the order :func:`adjudicate_movement` runs them:

1. **Assign**: each submitted order is matched to the unit it names; orders for no unit,
   for another nation's unit or for a unit that already has an order are illegal.
2. **Check**: each assigned order is checked against the map (adjacency, coasts, convoy
   routes of fleets present, support reach). An impossible order is an outcome with a
   reason; the unit holds and may receive hold support.
3. **Match**: supports and convoys are matched to the moves and holds they name; an
   unmatched one is void. Armies moving to an adjacent province go by convoy when the order
   says so or (2023 rules, DATC 4.A.3) their own nation orders a matching convoy.
4. **Resolve**: every order's success is decided by Kruijswijk's guess-and-check algorithm
   (DATC section 5). Cycles with no consistent or with two resolutions are broken by the
   backup rule: circular movement succeeds; a cycle with a convoy (or a railway or canal
   move) is a paradox and its convoys fail (Szykman rule, DATC 4.A.2).
5. **Report**: results with reasons, dislodged units with the attacker's origin, standoffs.

The module is pure: no I/O, no clock, no randomness; iteration follows sorted keys.
"""

from __future__ import annotations

import functools
import sys
from typing import Mapping, Sequence

import attrs

from .orders import Convoy, Hold, Move, Order, Support
from .outcome import FAILS, ILLEGAL, SUCCEEDS, VOID, OrderResult, Reason
from .ruleset import Railway, Ruleset, province_of
from .state import Dislodged, GameState, Unit

UNRESOLVED, GUESSING, RESOLVED = 0, 1, 2
_MOVEMENT_ORDERS = frozenset(("hold", "move", "support", "convoy"))
RailPlan = dict  # entry index -> (attack province, stop province): see railway.py


@attrs.frozen
class MovementResult:
    """Everything a movement phase decided."""

    results: tuple[OrderResult, ...]  # one per submitted order, in submission order
    moved: tuple[Unit, ...]  # units after the phase that were not dislodged
    dislodged: tuple[Dislodged, ...]
    standoffs: tuple[str, ...]


_NO_ENTRIES: list = []  # shared empty default for _Entry lists: replaced, never mutated


class _Entry:
    """Working record of one unit's order during resolution (internal, mutable)."""

    # class-level defaults keep construction cheap; instances override what they use
    order: Order | None = None
    sub = -1  # index of the submitted order, -1 when the unit had none
    kind = "hold"  # effective: hold | move | support | convoy
    dest = ""  # move: destination province
    dest_loc = ""  # move: destination location (coast for fleets)
    convoyed = False
    target = ""  # support/convoy: province of the unit supported/convoyed
    sdest: str | None = None  # support/convoy: destination province named
    sdest_coast = ""  # support: coast named in the support, if any
    illegal: Reason | None = None
    void = False
    supports: list[_Entry]  # matched, legal supports of this order (replaced, never mutated)
    convoys: list[_Entry]  # matched convoy fleets on a possible route
    attackers: list[_Entry]  # legal moves into this unit's province
    h2h: _Entry | None = None  # the unit this move meets head to head
    failed: Reason | None = None  # a legal order that fails without effect (the unit holds)
    canal = ""  # move through a canal: the canal province
    rail: Railway | None = None  # rail move: its network
    route: tuple[str, ...] = ()  # rail move: provinces from origin to destination
    rail_d = ""  # rail move: the destination ordered (``dest`` is where it attacks)
    rail_stop = ""  # rail move: where the army stops if its attack fails

    def __init__(self, i: int, unit: Unit) -> None:
        self.i = i
        self.unit = unit
        self.nation = unit[0]
        self.prov = unit[3]
        # one shared empty list, never mutated (mypyc rejects mutable class-level defaults)
        self.supports = self.convoys = self.attackers = _NO_ENTRIES


def adjudicate_movement(
    ruleset: Ruleset, state: GameState, submitted: Sequence[tuple[str, Order]]
) -> MovementResult:
    """Adjudicate one movement phase.

    Args:
        ruleset: the scenario.
        state: the board at the start of the phase (``state.phase == "movement"``).
        submitted: ``(nation, order)`` pairs in the order they were given.

    Returns:
        A :class:`MovementResult`; units without orders hold.
    """
    if ruleset.railways and any(o.kind == "move" and o.via for _, o in submitted):  # type: ignore
        from .railway import adjudicate_with_rail

        return adjudicate_with_rail(ruleset, state, submitted)
    return _Adjudicator(ruleset, state, submitted).run()


class _Adjudicator:
    def __init__(self, ruleset: Ruleset, state: GameState, submitted: Sequence[tuple[str, Order]],
                 plan: dict[int, tuple[str, str]] | None = None) -> None:
        self.rs = ruleset
        self.plan = plan or {}  # rail moves: entry index -> (attack province, stop province)
        self.frozen = ruleset.frozen.get(state.season, frozenset()) if ruleset.frozen else frozenset()
        self.permits: list[tuple[int, str, Order]] = []
        self.no_path: set[int] = set()
        self.state = state
        self.submitted = list(submitted)
        self.entries = entries = [_Entry(i, u) for i, u in enumerate(state.units)]
        self.at = {e.prov: e for e in entries}
        self.pre: dict[int, OrderResult] = {}  # results decided before resolution
        self.res = [False] * len(self.entries)
        self.st = [UNRESOLVED] * len(self.entries)
        self.deps: list[int] = []
        self.serial = 0  # order in which guesses were started (outer guesses are older)
        self.started = [0] * len(self.entries)
        self.paradox: set[int] = set()
        self.reach = {"A": ruleset.army_adj, "F": ruleset.fleet_reach}
        self.floods: dict[tuple[str, str], set[str]] = {}
        self._at_sea: frozenset[str] | None = None
        self.has_convoy = False  # some convoy order was given
        self.needs_convoy = False  # some army move needs or asks for a convoy
        self.moves: list[_Entry] = []  # legal moves (filled by assign, pruned by match)
        self.supports: list[_Entry] = []  # legal supports
        self.convoy_entries: list[_Entry] = []  # convoy orders given, legal or not
        self.moves_to: dict[str, list[_Entry]] = {}

    # ---- stages 1 and 2: assign each order to its unit, then check it against the map --
    def assign(self) -> None:
        lp = self.rs.loc_prov
        reach = self.reach
        army_reach, fleet_reach = reach["A"], reach["F"]
        at = self.at
        pre = self.pre
        frozen = self.frozen
        moves, supports = self.moves, self.supports
        for k, (nation, o) in enumerate(self.submitted):
            kind = o.kind
            if kind not in _MOVEMENT_ORDERS:
                if kind == "permit" and self.rs.canals:
                    self.permits.append((k, nation, o))
                else:
                    pre[k] = OrderResult(nation, o, ILLEGAL, Reason("wrong_phase", detail="movement"))
                continue
            prov = lp.get(o.loc) or province_of(o.loc)  # type: ignore[union-attr]
            e = at.get(prov)
            if e is None:
                pre[k] = OrderResult(nation, o, ILLEGAL, Reason("no_unit", at=prov))
                continue
            unit = e.unit
            ukind = unit[1]
            if e.nation != nation:
                pre[k] = OrderResult(nation, o, ILLEGAL, Reason("not_your_unit", at=prov, by=e.nation))
                continue
            if ukind != o.unit:  # type: ignore[union-attr]
                pre[k] = OrderResult(nation, o, ILLEGAL, Reason("wrong_unit_type", at=prov, detail=_kind_word(o.unit)))  # type: ignore[union-attr]
                continue
            if e.sub >= 0:
                pre[k] = OrderResult(nation, o, ILLEGAL, Reason("duplicate", at=prov))
                continue
            e.order = o
            e.sub = k
            if kind == "hold":
                continue
            if kind == "convoy":
                self.has_convoy = True
                self.convoy_entries.append(e)  # counted as given even if impossible (DATC 6.F.1)
            if frozen and prov in frozen and ukind == "F":
                e.illegal = Reason("frozen", at=prov)  # a fleet in a frozen port may only hold
                continue
            if kind == "support":
                # inlined for speed: supports are the most common order in real play
                tprov = lp.get(o.target) or province_of(o.target)  # type: ignore[union-attr]
                t = at.get(tprov)
                if tprov == prov:
                    e.illegal = Reason("cannot_support_self")  # DATC 6.A.8
                    continue
                if t is None:
                    e.illegal = Reason("no_unit", at=tprov)
                    continue
                tunit = t.unit
                if tunit[1] != o.target_unit:  # type: ignore[union-attr]
                    e.illegal = Reason("wrong_unit_type", at=tprov, detail=_kind_word(o.target_unit))  # type: ignore[union-attr]
                    continue
                e.target = tprov
                sdest = o.dest  # type: ignore[union-attr]
                myreach = (army_reach if ukind == "A" else fleet_reach).get(unit[2], ())
                if sdest is None:
                    if tprov not in myreach:
                        e.illegal = Reason("cannot_reach", at=tprov)
                        continue
                else:
                    dprov = lp.get(sdest) or province_of(sdest)
                    if dprov == prov or dprov == tprov:
                        e.illegal = Reason("own_province", at=dprov)  # DATC 6.D.34, 6.A.5
                        continue
                    if dprov not in myreach:
                        e.illegal = Reason("cannot_reach", at=dprov)
                        continue
                    if dprov not in (army_reach if tunit[1] == "A" else fleet_reach).get(tunit[2], ()) and not self.reaches_otherwise(tunit, tprov, dprov, prov):
                        e.illegal = Reason("not_adjacent", at=dprov)  # DATC 6.D.22, 6.D.31
                        continue
                    e.sdest = dprov
                    if "/" in sdest:
                        e.sdest_coast = sdest
                e.kind = kind
                supports.append(e)
                continue
            if kind == "move":
                dest = o.dest  # type: ignore[union-attr]
                if ukind == "A" and not o.via and not o.via_convoy and dest in army_reach.get(unit[2], ()):  # type: ignore[union-attr]
                    e.dest = e.dest_loc = dest  # type: ignore  # the common case: an army moving overland
                    e.kind = kind
                    moves.append(e)
                    continue
                bad = self.check_move(e, o)  # type: ignore[arg-type]
                if bad is None:
                    e.kind = kind
                    moves.append(e)
                else:
                    e.illegal = bad
                continue
            # convoy
            bad = self.check_convoy(e, o)  # type: ignore[arg-type]
            if bad is None:
                e.kind = kind
            else:
                e.illegal = bad

    def reaches_otherwise(self, tunit: Unit, tprov: str, dprov: str, supporter: str) -> bool:
        """Whether a supported unit not adjacent to ``dprov`` could still get there: an army by
        convoy of fleets other than the supporter, by rail; a fleet through a canal."""
        if tunit[1] == "A":
            if self.convoy_route_possible(tprov, dprov, exclude=supporter):
                return True
            return bool(self.rs.railways) and self._rail_joined(tprov, dprov)
        return bool(self.rs.canals) and self._joined(tprov, dprov)

    def check_move(self, e: _Entry, o: Move) -> Reason | None:
        rs = self.rs
        dprov = rs.loc_prov.get(o.dest) or province_of(o.dest)
        if dprov not in rs.provinces:
            return Reason("not_adjacent", at=dprov)
        if dprov == e.prov:
            return Reason("own_province", at=dprov)
        if o.via:
            from .railway import check_rail

            return check_rail(self, e, o, dprov)
        e.dest = dprov
        target = rs.provinces[dprov]
        if e.unit[1] == "A":
            if target.terrain == "sea":
                return Reason("army_to_sea", at=dprov)
            e.dest_loc = dprov
            if dprov in rs.army_adj.get(e.unit[2], ()):
                if o.via_convoy:
                    e.convoyed = self.needs_convoy = True
                return None
            # not adjacent: a convoy is the only way (legality settled in match())
            if target.terrain != "coast" or rs.provinces[e.prov].terrain != "coast":
                return Reason("not_adjacent", at=dprov)
            e.convoyed = self.needs_convoy = True
            return None
        # fleets
        if o.via_convoy:
            return Reason("convoy_not_army")
        if target.terrain == "land":
            return Reason("fleet_inland", at=dprov)
        if self.frozen and dprov in self.frozen:
            return Reason("frozen", at=dprov)
        reach = rs.fleet_adj.get(e.unit[2], frozenset())
        if "/" in o.dest and target.coasts:
            if o.dest in reach:
                e.dest_loc = o.dest
                return None
            if dprov in rs.fleet_reach.get(e.unit[2], ()):
                return Reason("coast_unreachable", at=o.dest)
            return Reason("not_adjacent", at=dprov)
        options = rs.fleet_to.get(e.unit[2], {}).get(dprov, ())
        if not options:
            for canal in rs.canals:  # DATC 7.C: a canal joins two seas for fleets
                if e.prov in canal.joins and dprov in canal.joins:
                    e.dest_loc, e.canal = dprov, canal.province
                    return None
            return Reason("not_adjacent", at=dprov)
        if len(options) > 1:
            return Reason("coast_needed", at=dprov)  # DATC 6.B.1
        e.dest_loc = options[0]  # DATC 6.B.2: the only reachable coast
        return None

    def check_convoy(self, e: _Entry, o: Convoy) -> Reason | None:
        if e.prov not in self.fleets_at_sea():
            return Reason("convoy_from_coast")  # DATC 6.F.1
        lp = self.rs.loc_prov
        tprov = lp.get(o.target) or province_of(o.target)
        t = self.at.get(tprov)
        if t is None:
            return Reason("no_unit", at=tprov)
        if o.target_unit != "A" or t.unit[1] != "A":
            return Reason("convoy_not_army")  # DATC 6.A.7
        dprov = lp.get(o.dest) or province_of(o.dest)
        rs = self.rs
        if dprov not in rs.provinces or rs.provinces[dprov].terrain != "coast" or dprov == tprov:
            return Reason("no_convoy_route", at=dprov)
        if rs.provinces[tprov].terrain != "coast":
            return Reason("no_convoy_route", at=dprov)
        if not self.convoy_route_possible(tprov, dprov, through=e.prov):
            return Reason("no_convoy_route", at=dprov)
        e.target, e.sdest = tprov, dprov
        return None

    def convoy_route_possible(self, origin: str, dest: str, *, through: str = "", exclude: str = "") -> bool:
        """Whether fleets now at sea could carry an army from origin to dest (optionally
        through a given fleet, optionally without a given fleet)."""
        provinces = self.rs.provinces
        if provinces[origin].terrain != "coast" or provinces[dest].terrain != "coast" or not self.fleets_at_sea():
            return False
        reached = self.seas_from(origin, exclude)
        if through:
            return through in reached and through in self.seas_from(dest, exclude)
        sea_adj = self.rs.sea_adj
        return any(dest in sea_adj[s] for s in reached)

    def fleets_at_sea(self) -> frozenset[str]:
        """Seas holding a fleet (computed on first use: only convoys need it)."""
        if self._at_sea is None:
            seas = self.rs.seas
            self._at_sea = frozenset(e.prov for e in self.entries if e.prov in seas and e.unit[1] == "F")
        return self._at_sea

    def seas_from(self, origin: str, exclude: str = "") -> set[str]:
        """Seas holding fleets reachable from ``origin`` through such seas (memoised)."""
        key = (origin, exclude)
        got = self.floods.get(key)
        if got is None:
            at_sea = self.fleets_at_sea()
            seas = at_sea - {exclude} if exclude else at_sea
            got = self.floods[key] = _flood(self.rs.sea_adj, origin, seas)
        return got

    # ---- stage 3: match -------------------------------------------------------------
    def match(self) -> None:
        entries = self.entries
        at = self.at
        moves = self.moves
        supports = self.supports
        convoy_orders: dict[tuple[str, str], list[_Entry]] = {}
        any_convoy_order: dict[tuple[str, str], list[_Entry]] = {}
        if self.has_convoy:
            lp = self.rs.loc_prov
            for e in self.convoy_entries:
                o = e.order
                key = (lp.get(o.target) or province_of(o.target), lp.get(o.dest) or province_of(o.dest))  # type: ignore
                any_convoy_order.setdefault(key, []).append(e)
                if e.kind == "convoy":
                    convoy_orders.setdefault(key, []).append(e)
        if self.has_convoy or self.needs_convoy:
            self.match_convoys(moves, convoy_orders, any_convoy_order)
            moves = [e for e in moves if e.kind == "move"]
        if self.rs.canals:
            self.match_canals(moves)
            moves = [e for e in moves if e.kind == "move"]
        if self.rs.railways and any(e.rail is not None for e in moves):
            from .railway import apply_capacity

            apply_capacity(self, moves)
            moves = [e for e in moves if e.kind == "move"]
        # supports (DATC 6.D.7: no hold support for a unit that moves; 6.B.9: a support
        # naming the other coast does not match)
        for e in supports:
            t = at[e.target]
            if e.sdest is None:
                ok = t.kind != "move"
            else:
                ok = t.kind == "move" and (t.rail_d or t.dest) == e.sdest
                if ok and e.sdest_coast and t.unit[1] == "F" and t.dest_loc != e.sdest_coast:
                    ok = False
            if ok:
                if t.supports:
                    t.supports.append(e)
                else:
                    t.supports = [e]
            else:
                e.void = True
        # attackers, head-to-head battles, moves into each province
        moves_to: dict[str, list[_Entry]] = {}
        for e in moves:
            dest = e.dest
            if dest in moves_to:
                moves_to[dest].append(e)
            else:
                moves_to[dest] = [e]
            d = at.get(dest)
            if d is not None:
                if d.attackers:
                    d.attackers.append(e)
                else:
                    d.attackers = [e]
                if (d.kind == "move" and d.dest == e.prov and not d.convoyed and not e.convoyed
                        and not (d.canal or e.canal or d.rail or e.rail)):
                    e.h2h = d  # no head-to-head by convoy, canal (DATC 7.C.6) or rail
        self.moves = moves
        self.moves_to = moves_to

    def route_without_supporters(self, e: _Entry) -> bool:
        """Whether fleets now at sea, other than fleets ordered to support this very move,
        could carry the army of move ``e`` (DATC 6.D.8, 6.D.31)."""
        lp = self.rs.loc_prov
        supporters = set()
        for s in self.entries:
            o = s.order
            if o is not None and o.kind == "support" and s.unit[1] == "F" and o.dest is not None:  # type: ignore
                if (lp.get(o.target) or province_of(o.target)) == e.prov and (lp.get(o.dest) or province_of(o.dest)) == e.dest:  # type: ignore
                    supporters.add(s.prov)
        if len(supporters) == 1:
            return self.convoy_route_possible(e.prov, e.dest, exclude=next(iter(supporters)))
        if not supporters:
            return self.convoy_route_possible(e.prov, e.dest)
        seas = self.fleets_at_sea() - supporters
        reached = _flood(self.rs.sea_adj, e.prov, seas)
        return any(e.dest in self.rs.sea_adj[x] for x in reached)

    def match_canals(self, moves: list[_Entry]) -> None:
        """Canal permission (DATC 7.C): the nation holding the canal province permits one
        fleet; an explicit permission cancels implicit ones; two implicit ones cancel."""
        at = self.at
        by_canal: dict[str, list[_Entry]] = {}
        for e in moves:
            if e.canal:
                by_canal.setdefault(e.canal, []).append(e)
        permit_results: dict[int, OrderResult] = {}
        for k, nation, o in self.permits:
            canal = self._canal_for(o)
            holder = at.get(canal) if canal else None
            if canal is None or holder is None or holder.nation != nation:
                permit_results[k] = OrderResult(nation, o, ILLEGAL, Reason("no_permission", at=canal or province_of(o.dest)))  # type: ignore
        for canal, users in by_canal.items():
            holder = at.get(canal)
            granted: list[_Entry] = []
            explicit = [(k, n, o) for k, n, o in self.permits
                        if k not in permit_results and holder is not None and n == holder.nation and self._canal_for(o) == canal]
            if holder is not None and explicit:
                k, n, o = explicit[0]
                hit = [e for e in users if e.prov == province_of(o.loc) and e.dest == province_of(o.dest)]  # type: ignore
                granted = hit[:1]
                permit_results[k] = OrderResult(n, o, SUCCEEDS if hit else VOID, None if hit else Reason("unmatched", at=province_of(o.loc)))  # type: ignore
                for k2, n2, o2 in explicit[1:]:
                    permit_results[k2] = OrderResult(n2, o2, FAILS, Reason("too_many", detail="canal permissions"))
            elif holder is not None:
                own = [e for e in users if e.nation == holder.nation]
                granted = own if len(own) == 1 else []  # two implicit permissions cancel
            for e in users:
                if e not in granted:
                    e.kind, e.failed = "hold", Reason("no_permission", at=canal)
        for k, nation, o in self.permits:
            if k not in permit_results:
                permit_results[k] = OrderResult(nation, o, VOID, Reason("unmatched", at=province_of(o.loc)))  # type: ignore
        self.pre.update(permit_results)

    def _rail_joined(self, a: str, b: str) -> bool:
        """Whether a railway could carry an army from ``a`` to ``b`` (support legality)."""
        return any(a in r.stations and b in r.stations for r in self.rs.railways)

    def _joined(self, a: str, b: str) -> bool:
        """Whether a canal joins seas ``a`` and ``b``."""
        return any(a in c.joins and b in c.joins and a != b for c in self.rs.canals)

    def _canal_for(self, o: Order) -> str | None:
        a, b = province_of(o.loc), province_of(o.dest)  # type: ignore
        for c in self.rs.canals:
            if a in c.joins and b in c.joins and a != b:
                return c.province
        return None

    def match_convoys(self, moves: list[_Entry], convoy_orders: dict[tuple[str, str], list[_Entry]],
                      any_convoy_order: dict[tuple[str, str], list[_Entry]]) -> None:
        """Decide which army moves go by convoy and which convoy orders are on a route."""
        rs = self.rs
        intent = rs.options.convoy_to_adjacent == "intent-2023"
        relevant = [e for e in moves if e.convoyed]
        at = self.at
        for (origin, dest) in convoy_orders:
            t = at.get(origin)
            if t is not None and t.kind == "move" and t.dest == dest and not t.convoyed:
                relevant.append(t)
        for e in relevant:
            if e.unit[1] != "A" or e.rail is not None:
                continue
            key = (e.prov, e.dest)
            adjacent = e.dest in rs.army_adj.get(e.unit[2], ())
            if not adjacent and key not in any_convoy_order and not self.route_without_supporters(e):
                # DATC 6.D.31: nobody orders the convoy and the only fleets that could carry
                # the army support its move instead: the move is impossible. (With a possible
                # route it is a move that fails, and it cannot be supported to hold: 6.D.8.)
                e.illegal, e.kind = Reason("not_adjacent", at=e.dest), "hold"
                continue
            if adjacent and e.convoyed and key not in any_convoy_order and rs.options.convoy_missing == "over-land":
                e.convoyed = False  # pre-3.0 reading of DATC 6.G.8
            if adjacent and not e.convoyed and intent:
                e.convoyed = any(c.nation == e.nation for c in convoy_orders.get(key, ()))
        # convoys: matched and on a route of matched fleets
        on_route: set[int] = set()
        for e in relevant:
            if e.kind == "move" and e.convoyed:
                fleets = convoy_orders.get((e.prov, e.dest), [])
                seas = frozenset(f.prov for f in fleets)
                fwd = _flood(rs.sea_adj, e.prov, seas)
                back = _flood(rs.sea_adj, e.dest, seas)
                e.convoys = [f for f in fleets if f.prov in fwd and f.prov in back]
                on_route.update(f.i for f in e.convoys)
        for key, fleets in convoy_orders.items():
            for e in fleets:
                if e.i in on_route:
                    continue
                e.void = True
                t = self.at.get(e.target)
                # DATC 6.G.7: the army's own convoy order is impossible, so its move is not
                # by convoy and every convoy order for it is impossible too
                own = [c for c in any_convoy_order.get(key, ()) if t is not None and c.nation == t.nation]
                if own and all(c.illegal is not None for c in own):
                    e.illegal, e.void = Reason("no_convoy_route", at=e.sdest), False
                    e.kind = "hold"

    # ---- stage 4: resolve -----------------------------------------------------------
    def resolve(self, e: _Entry) -> bool:
        i = e.i
        st = self.st
        if st[i] == RESOLVED:
            return self.res[i]
        if st[i] == GUESSING:
            if i not in self.deps:
                self.deps.append(i)
            return self.res[i]
        old = len(self.deps)
        self.res[i], st[i] = False, GUESSING
        self.serial += 1
        started = self.started
        started[i] = mine = self.serial
        first = self.decide(e)
        if len(self.deps) == old:
            if st[i] != RESOLVED:
                self.res[i], st[i] = first, RESOLVED
            return first
        deps = self.deps
        if any(started[j] < mine for j in deps[old:]):
            # the result rests on a guess made further out: that guess decides
            deps.append(i)
            self.res[i] = first
            return first
        # the result depends on our own guess: try the other one
        for j in self.deps[old:]:
            st[j] = UNRESOLVED
        del self.deps[old:]
        self.res[i], st[i] = True, GUESSING
        second = self.decide(e)
        if first == second:
            for j in self.deps[old:]:
                st[j] = UNRESOLVED
            del self.deps[old:]
            self.res[i], st[i] = first, RESOLVED
            return first
        self.backup(old)
        return self.resolve(e)

    def backup(self, old: int) -> None:
        """Break a cycle with no or two consistent resolutions (DATC 4.A.2, 6.C, 7.C)."""
        cycle = [self.entries[j] for j in self.deps[old:]]
        del self.deps[old:]
        if all(c.kind == "move" for c in cycle):
            # circular movement: every move in the cycle succeeds
            for c in cycle:
                self.res[c.i], self.st[c.i] = True, RESOLVED
            return
        # a paradox: the Szykman rule fails its convoys (the armies do not move); a canal
        # move in a paradox fails and has no effect on its destination (DATC 2.4, 7.C.9)
        members = {c.i for c in cycle}
        breakable = [c for c in cycle if c.kind == "convoy" or c.canal]
        # a canal move whose permission depends on the cycle is part of the paradox too
        for m in self.moves:
            if m.canal and m.i not in members:
                holder = self.at[m.canal]
                if holder.i in members or any(a.i in members for a in holder.attackers):
                    breakable.append(m)
        if not breakable:
            # no rule applies (not expected for DATC positions): nothing in the cycle happens
            for c in cycle:
                self.res[c.i], self.st[c.i] = c.kind == "support", RESOLVED
            return
        for c in breakable:
            self.res[c.i], self.st[c.i] = False, RESOLVED
            self.paradox.add(c.i)
            if c.canal:
                self.no_path.add(c.i)
        for c in cycle:
            if c.i not in self.paradox:
                self.st[c.i] = UNRESOLVED

    def decide(self, e: _Entry) -> bool:
        kind = e.kind
        if kind == "move":
            return self.move_succeeds(e)
        if kind == "support":
            return self.support_given(e)
        # convoys (and holds): not dislodged
        for a in e.attackers:
            if self.resolve(a):
                return False
        return True

    def path(self, e: _Entry) -> bool:
        if e.canal:
            # permission holds while the holder of the canal province stays there
            if e.i in self.no_path:
                return False
            holder = self.at[e.canal]
            if holder.kind == "move" and self.resolve(holder):
                return False
            for a in holder.attackers:
                if self.resolve(a):
                    return False  # the holder is dislodged: no permission
            return True
        if not e.convoyed:
            return True
        if not e.convoys:
            return False
        seas = [f.prov for f in e.convoys if self.resolve(f)]
        if not seas:
            return False
        reached = _flood(self.rs.sea_adj, e.prov, frozenset(seas))
        return any(e.dest in self.rs.sea_adj[s] for s in reached)

    def support_count(self, e: _Entry, exclude_nation: str | None = None) -> int:
        if e.rail is not None and e.dest != e.rail_d:
            return 0  # a rail move is supported on its last leg only (DATC 7.B)
        n = 0
        for s in e.supports:
            if exclude_nation is not None and s.nation == exclude_nation:
                continue
            if self.resolve(s):
                n += 1
        return n

    def attack_strength(self, e: _Entry) -> int:
        if not self.path(e):
            return 0
        d = self.at.get(e.dest)
        if e.rail is not None and d is not None and (d.kind != "move" or d.dest == e.prov or not self.resolve(d)):
            return 0  # a rail move cannot dislodge, nor swap places (DATC 7.B.29)
        if d is None or (d.kind == "move" and e.h2h is None and self.resolve(d)):
            return 1 + self.support_count(e)
        if d.nation == e.nation:
            return 0  # DATC 6.C.8, 6.D.10: never dislodge your own unit
        return 1 + self.support_count(e, exclude_nation=d.nation)  # DATC 6.D.12

    def hold_strength(self, prov: str) -> int:
        d = self.at.get(prov)
        if d is None:
            return 0
        if d.kind == "move":
            if d.rail is not None and d.rail_stop != d.prov:
                return 0  # the train left, whatever happens at its end
            return 0 if self.resolve(d) else 1
        strength = 1 + self.support_count(d)
        if self.rs.fortresses:
            strength += self.rs.fortresses.get(prov, 0)  # cannot be cut
        return strength

    def prevent_strength(self, e: _Entry) -> int:
        if not self.path(e):
            return 0
        if e.h2h is not None and self.resolve(e.h2h):
            return 0  # DATC 6.E.1: the loser of a head-to-head battle prevents nothing
        return 1 + self.support_count(e)

    def move_succeeds(self, e: _Entry) -> bool:
        attack = self.attack_strength(e)
        if attack == 0:
            return False
        if e.h2h is not None:
            if attack <= 1 + self.support_count(e.h2h):
                return False
        elif attack <= self.hold_strength(e.dest):
            return False
        for other in self.moves_to[e.dest]:
            if other is not e and attack <= self.prevent_strength(other):
                return False
        return True

    def support_given(self, e: _Entry) -> bool:
        for a in e.attackers:
            if a.nation == e.nation or a.rail is not None:
                continue  # DATC 6.D.20: no cutting your own support; 7.B: nor by rail
            if e.sdest is not None and a.prov == e.sdest:
                # the unit attacked by the supported move cuts only by dislodging
                # (DATC 6.D.17); by convoy too under the 2023 rules (DATC 6.G.13)
                if self.resolve(a):
                    return False
                continue
            if self.path(a):
                return False
        return True

    # ---- stage 5: report ------------------------------------------------------------
    def run(self) -> MovementResult:
        limit = sys.getrecursionlimit()
        need = 2000 + 16 * len(self.entries)
        if limit >= need:
            return self._run()
        sys.setrecursionlimit(need)  # deep chains of dependent moves on large maps
        try:
            return self._run()
        finally:
            sys.setrecursionlimit(limit)

    def _run(self) -> MovementResult:
        self.assign()
        self.match()
        entries = self.entries
        res, st = self.res, self.st
        for e in entries:
            kind = e.kind
            if kind == "hold" or e.void:
                continue
            if kind == "support" and not e.attackers:
                res[e.i], st[e.i] = True, RESOLVED  # nothing can cut it
                continue
            self.resolve(e)
        winner_into: dict[str, _Entry] = {}
        for e in self.moves:
            if res[e.i]:
                winner_into[e.dest] = e
        results: list[OrderResult | None] = [None] * len(self.submitted)
        for k, r in self.pre.items():
            results[k] = r
        units: list[Unit] = []
        dislodged: list[Dislodged] = []
        moved = False
        unmatched: dict[str, Reason] = {}
        for e in entries:
            by = winner_into.get(e.prov) if e.attackers else None
            if e.kind == "move" and res[e.i]:
                units.append(_unit((e.nation, e.unit[1], e.dest_loc, e.dest)))
                moved = True
                if e.sub >= 0:
                    if e.rail is not None and e.dest != e.rail_d:
                        # stopped at a centre another nation owns (DATC 7.B.21)
                        results[e.sub] = OrderResult(e.nation, e.order, FAILS, Reason("rail_blocked", at=e.dest, detail=f"{e.dest} is a lost centre"))  # type: ignore[arg-type]
                    else:
                        results[e.sub] = _result((e.nation, e.order, SUCCEEDS, None))
                continue
            if e.rail is not None and e.rail_stop != e.prov:
                units.append(Unit(e.nation, e.unit[1], e.rail_stop))
                moved = True
                results[e.sub] = OrderResult(e.nation, e.order, FAILS, Reason("rail_blocked", at=e.rail_stop, detail=f"blocked at {e.dest}"))  # type: ignore[arg-type]
                continue
            if by is not None:
                dislodged.append(Dislodged(e.unit, by.prov, by.convoyed))
            else:
                units.append(e.unit)
            k = e.sub
            if k >= 0:
                if e.void:
                    reason = unmatched.get(e.target)
                    if reason is None:
                        reason = unmatched[e.target] = Reason("unmatched", at=e.target)
                    results[k] = _result((e.nation, e.order, VOID, reason))
                elif e.illegal is not None:
                    results[k] = _result((e.nation, e.order, ILLEGAL, e.illegal))
                elif e.failed is not None:
                    results[k] = _result((e.nation, e.order, FAILS, e.failed))
                elif by is None and (e.kind == "hold" or res[e.i]) and e.kind != "move":
                    results[k] = _result((e.nation, e.order, SUCCEEDS, None))
                else:
                    results[k] = self.result_of(e, by)
        standoffs = []
        at = self.at
        for p, ms in self.moves_to.items():
            if p in winner_into:
                continue
            d = at.get(p)
            # a bounce leaves a standoff only if some move into p kept its force: the loser
            # of a head-to-head battle prevents nothing (DATC 6.H.9)
            if (d is None or (d.kind == "move" and res[d.i])) and any(self.prevent_strength(m) > 0 for m in ms):
                standoffs.append(p)
        if moved:
            units.sort(key=_loc)
        return MovementResult(tuple(results), tuple(units), tuple(dislodged), tuple(sorted(standoffs)))  # type: ignore[arg-type]

    def result_of(self, e: _Entry, dislodger: _Entry | None) -> OrderResult:
        order = e.order
        assert order is not None
        if e.illegal is not None:
            return OrderResult(e.nation, order, ILLEGAL, e.illegal)
        if e.void:
            return OrderResult(e.nation, order, VOID, Reason("unmatched", at=e.target))
        ok = self.res[e.i]
        kind = e.kind
        if kind == "move":
            if ok:
                return OrderResult(e.nation, order, SUCCEEDS)
            if e.rail is not None:
                return OrderResult(e.nation, order, FAILS, Reason("rail_blocked", at=e.prov, detail=f"blocked at {e.dest}"))
            if e.canal and not self.path(e):
                return OrderResult(e.nation, order, FAILS, Reason("paradox" if e.i in self.paradox else "no_permission", at=e.canal, detail="the canal rule"))
            if e.convoyed and not self.path(e):
                return OrderResult(e.nation, order, FAILS, Reason("convoy_disrupted", at=e.dest))
            return OrderResult(e.nation, order, FAILS, Reason("bounced", at=e.dest))
        if kind == "convoy":
            if e.i in self.paradox:
                return OrderResult(e.nation, order, FAILS, Reason("paradox", detail="the Szykman rule"))
            if dislodger is not None:
                return OrderResult(e.nation, order, FAILS, Reason("dislodged", by=dislodger.prov))
            return OrderResult(e.nation, order, SUCCEEDS)
        if kind == "support":
            if dislodger is not None:
                return OrderResult(e.nation, order, FAILS, Reason("dislodged", by=dislodger.prov))
            if not ok:
                # the attack named is the one from the lowest province id, not the first submitted:
                # two attacks cutting one support must give the same result in any order
                cutter = min((a for a in e.attackers if a.nation != e.nation and a.prov != e.sdest and self.path(a)),
                             key=_prov_of, default=None)
                return OrderResult(e.nation, order, FAILS, Reason("cut", by=cutter.prov if cutter else None))
            return OrderResult(e.nation, order, SUCCEEDS)
        if dislodger is not None:
            return OrderResult(e.nation, order, FAILS, Reason("dislodged", by=dislodger.prov))
        return OrderResult(e.nation, order, SUCCEEDS)


def _flood(adj: Mapping[str, frozenset[str]], origin: str, seas: frozenset[str]) -> set[str]:
    """Seas in ``seas`` reachable from ``origin`` stepping only through ``seas``."""
    start = [s for s in adj.get(origin, ()) if s in seas]
    seen = set(start)
    stack = list(start)
    while stack:
        s = stack.pop()
        for n in adj[s]:
            if n in seas and n not in seen:
                seen.add(n)
                stack.append(n)
    return seen


# Fast constructors for the report stage: the values are built whole, so the checks and
# derivations of the public constructors are not needed (a unit's province is known).
_result = functools.partial(tuple.__new__, OrderResult)
_unit = functools.partial(tuple.__new__, Unit)


def _loc(u: Unit) -> str:
    return u[2]


def _kind_word(letter: str) -> str:
    return {"A": "an army", "F": "a fleet"}.get(letter, letter)


def _prov_of(entry: _Entry) -> str:
    return entry.prov
