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

import sys
from typing import Mapping, Sequence

import attrs

from .orders import Convoy, Hold, Move, Order, Support
from .outcome import FAILS, ILLEGAL, SUCCEEDS, VOID, OrderResult, Reason
from .ruleset import Ruleset, province_of
from .state import Dislodged, GameState, Unit

UNRESOLVED, GUESSING, RESOLVED = 0, 1, 2


@attrs.frozen
class MovementResult:
    """Everything a movement phase decided."""

    results: tuple[OrderResult, ...]  # one per submitted order, in submission order
    moved: tuple[Unit, ...]  # units after the phase that were not dislodged
    dislodged: tuple[Dislodged, ...]
    standoffs: tuple[str, ...]


class _Entry:
    """Working record of one unit's order during resolution (internal, mutable)."""

    __slots__ = (
        "i", "unit", "nation", "prov", "order", "sub", "kind", "dest", "dest_loc",
        "convoyed", "target", "sdest", "sdest_coast", "illegal", "void", "supports",
        "convoys", "attackers", "h2h",
    )

    def __init__(self, i: int, unit: Unit) -> None:
        self.i = i
        self.unit = unit
        self.nation = unit.nation
        self.prov = province_of(unit.loc)
        self.order: Order | None = None
        self.sub = -1  # index of the submitted order, -1 when the unit had none
        self.kind = "hold"  # effective: hold | move | support | convoy
        self.dest = ""  # move: destination province
        self.dest_loc = ""  # move: destination location (coast for fleets)
        self.convoyed = False
        self.target = ""  # support/convoy: province of the unit supported/convoyed
        self.sdest: str | None = None  # support/convoy: destination province named
        self.sdest_coast = ""  # support: coast named in the support, if any
        self.illegal: Reason | None = None
        self.void = False
        self.supports: list[_Entry] = []  # matched, legal supports of this order
        self.convoys: list[_Entry] = []  # matched convoy fleets on a possible route
        self.attackers: list[_Entry] = []  # legal moves into this unit's province
        self.h2h: _Entry | None = None  # the unit this move meets head to head


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
    adj = _Adjudicator(ruleset, state, submitted)
    return adj.run()


class _Adjudicator:
    def __init__(self, ruleset: Ruleset, state: GameState, submitted: Sequence[tuple[str, Order]]) -> None:
        self.rs = ruleset
        self.state = state
        self.submitted = list(submitted)
        self.entries = [_Entry(i, u) for i, u in enumerate(state.units)]
        self.at = {e.prov: e for e in self.entries}
        self.pre: dict[int, OrderResult] = {}  # results decided before resolution
        self.res = [False] * len(self.entries)
        self.st = [UNRESOLVED] * len(self.entries)
        self.deps: list[int] = []
        self.paradox: set[int] = set()
        self.fleet_at_sea = frozenset(
            e.prov for e in self.entries
            if e.unit.kind == "F" and ruleset.provinces[e.prov].terrain == "sea"
        )

    # ---- stage 1: assign ------------------------------------------------------------
    def assign(self) -> None:
        claimed: set[str] = set()
        for k, (nation, order) in enumerate(self.submitted):
            kind = order.kind
            if kind not in ("hold", "move", "support", "convoy"):
                self.pre[k] = OrderResult(nation, order, ILLEGAL, Reason("wrong_phase", detail="movement"))
                continue
            prov = province_of(order.loc)  # type: ignore[union-attr]
            e = self.at.get(prov)
            if e is None:
                self.pre[k] = OrderResult(nation, order, ILLEGAL, Reason("no_unit", at=prov))
            elif e.nation != nation:
                self.pre[k] = OrderResult(nation, order, ILLEGAL, Reason("not_your_unit", at=prov, by=e.nation))
            elif e.unit.kind != order.unit:  # type: ignore[union-attr]
                self.pre[k] = OrderResult(nation, order, ILLEGAL, Reason("wrong_unit_type", at=prov, detail=_kind_word(order.unit)))  # type: ignore[union-attr]
            elif prov in claimed:
                self.pre[k] = OrderResult(nation, order, ILLEGAL, Reason("duplicate", at=prov))
            else:
                claimed.add(prov)
                e.order, e.sub = order, k

    # ---- stage 2: static checks -----------------------------------------------------
    def check(self) -> None:
        for e in self.entries:
            o = e.order
            if o is None or isinstance(o, Hold):
                continue
            if isinstance(o, Move):
                e.illegal = self.check_move(e, o)
                if e.illegal is None:
                    e.kind = "move"
            elif isinstance(o, Support):
                e.illegal = self.check_support(e, o)
                if e.illegal is None:
                    e.kind = "support"
            elif isinstance(o, Convoy):
                e.illegal = self.check_convoy(e, o)
                if e.illegal is None:
                    e.kind = "convoy"

    def check_move(self, e: _Entry, o: Move) -> Reason | None:
        rs = self.rs
        dprov = province_of(o.dest)
        if dprov not in rs.provinces:
            return Reason("not_adjacent", at=dprov)
        if dprov == e.prov:
            return Reason("own_province", at=dprov)
        if o.via:
            return Reason("no_rail", detail=o.via)
        e.dest = dprov
        target = rs.provinces[dprov]
        if e.unit.kind == "A":
            if target.terrain == "sea":
                return Reason("army_to_sea", at=dprov)
            e.dest_loc = dprov
            if dprov in rs.army_adj.get(e.unit.loc, ()):
                e.convoyed = o.via_convoy
                return None
            # not adjacent: a convoy is the only way (legality settled in match())
            if target.terrain != "coast" or rs.provinces[e.prov].terrain != "coast":
                return Reason("not_adjacent", at=dprov)
            e.convoyed = True
            return None
        # fleets
        if o.via_convoy:
            return Reason("convoy_not_army")
        if target.terrain == "land":
            return Reason("fleet_inland", at=dprov)
        reach = rs.fleet_adj.get(e.unit.loc, frozenset())
        if "/" in o.dest and target.coasts:
            if o.dest in reach:
                e.dest_loc = o.dest
                return None
            if dprov in rs.fleet_reach.get(e.unit.loc, ()):
                return Reason("coast_unreachable", at=o.dest)
            return Reason("not_adjacent", at=dprov)
        options = sorted(loc for loc in reach if province_of(loc) == dprov)
        if not options:
            return Reason("not_adjacent", at=dprov)
        if len(options) > 1:
            return Reason("coast_needed", at=dprov)  # DATC 6.B.1
        e.dest_loc = options[0]  # DATC 6.B.2: the only reachable coast
        return None

    def can_reach(self, unit: Unit, prov: str) -> bool:
        if unit.kind == "A":
            return prov in self.rs.army_adj.get(unit.loc, ())
        return prov in self.rs.fleet_reach.get(unit.loc, ())

    def check_support(self, e: _Entry, o: Support) -> Reason | None:
        tprov = province_of(o.target)
        if tprov == e.prov:
            return Reason("cannot_support_self")  # DATC 6.A.8
        t = self.at.get(tprov)
        if t is None:
            return Reason("no_unit", at=tprov)
        if t.unit.kind != o.target_unit:
            return Reason("wrong_unit_type", at=tprov, detail=_kind_word(o.target_unit))
        e.target = tprov
        if o.dest is None:
            if not self.can_reach(e.unit, tprov):
                return Reason("cannot_reach", at=tprov)
            return None
        dprov = province_of(o.dest)
        if dprov == e.prov:
            return Reason("own_province", at=dprov)  # DATC 6.D.34
        if dprov not in self.rs.provinces or not self.can_reach(e.unit, dprov):
            return Reason("cannot_reach", at=dprov)
        # the supported unit must be able to get there (DATC 6.D.22, 6.D.31)
        tu = t.unit
        if not self.can_reach(tu, dprov):
            if tu.kind != "A" or not self.convoy_route_possible(tprov, dprov, exclude=e.prov):
                return Reason("not_adjacent", at=dprov)
        e.sdest = dprov
        e.sdest_coast = o.dest if "/" in o.dest else ""
        return None

    def check_convoy(self, e: _Entry, o: Convoy) -> Reason | None:
        if e.prov not in self.fleet_at_sea:
            return Reason("convoy_from_coast")  # DATC 6.F.1
        tprov = province_of(o.target)
        t = self.at.get(tprov)
        if t is None:
            return Reason("no_unit", at=tprov)
        if o.target_unit != "A" or t.unit.kind != "A":
            return Reason("convoy_not_army")  # DATC 6.A.7
        dprov = province_of(o.dest)
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
        seas = self.fleet_at_sea - {exclude} if exclude else self.fleet_at_sea
        reached = _flood(self.rs.sea_adj, origin, seas)
        if through:
            if through not in reached:
                return False
            back = _flood(self.rs.sea_adj, dest, seas)
            return through in back
        return any(dest in self.rs.sea_adj[s] for s in reached)

    # ---- stage 3: match -------------------------------------------------------------
    def match(self) -> None:
        entries = self.entries
        convoy_orders: dict[tuple[str, str], list[_Entry]] = {}
        any_convoy_order: dict[tuple[str, str], list[_Entry]] = {}
        for e in entries:
            if isinstance(e.order, Convoy):
                key = (province_of(e.order.target), province_of(e.order.dest))
                any_convoy_order.setdefault(key, []).append(e)
                if e.kind == "convoy":
                    convoy_orders.setdefault(key, []).append(e)
        intent = self.rs.options.convoy_to_adjacent == "intent-2023"
        for e in entries:
            if e.kind != "move" or e.unit.kind != "A":
                continue
            key = (e.prov, e.dest)
            adjacent = e.dest in self.rs.army_adj.get(e.unit.loc, ())
            if not adjacent and key not in any_convoy_order:
                # DATC 6.D.31: no convoy ordered for a move that needs one
                e.illegal, e.kind = Reason("not_adjacent", at=e.dest), "hold"
                continue
            if adjacent and e.convoyed and key not in any_convoy_order and self.rs.options.convoy_missing == "over-land":
                e.convoyed = False  # pre-3.0 reading of DATC 6.G.8
            if adjacent and not e.convoyed and intent:
                own = [c for c in convoy_orders.get(key, ()) if c.nation == e.nation]
                e.convoyed = bool(own)
        # convoys: matched and on a route of matched fleets
        for e in entries:
            if e.kind == "move" and e.convoyed:
                fleets = convoy_orders.get((e.prov, e.dest), [])
                seas = frozenset(f.prov for f in fleets)
                fwd = _flood(self.rs.sea_adj, e.prov, seas)
                back = _flood(self.rs.sea_adj, e.dest, seas)
                e.convoys = [f for f in fleets if f.prov in fwd and f.prov in back]
        on_route = {id(f) for e in entries for f in e.convoys}
        for e in entries:
            if e.kind == "convoy" and id(e) not in on_route:
                e.void = True
                t = self.at.get(e.target)
                # DATC 6.G.7: the army's own convoy order is impossible, so its move is not
                # by convoy and every convoy order for it is impossible too
                own = [c for c in any_convoy_order.get((e.target, e.sdest or ""), ()) if t is not None and c.nation == t.nation]
                if own and all(c.illegal is not None for c in own):
                    e.illegal, e.void = Reason("no_convoy_route", at=e.sdest), False
                    e.kind = "hold"
        # supports
        for e in entries:
            if e.kind != "support":
                continue
            t = self.at[e.target]
            if e.sdest is None:
                ok = t.kind != "move"  # DATC 6.D.7: no hold support for a unit that moves
            else:
                ok = t.kind == "move" and t.dest == e.sdest
                if ok and e.sdest_coast and t.unit.kind == "F" and t.dest_loc != e.sdest_coast:
                    ok = False  # DATC 6.B.9: support names the other coast
            if ok:
                t.supports.append(e)
            else:
                e.void = True
        # attackers and head-to-head battles
        for e in entries:
            if e.kind == "move":
                d = self.at.get(e.dest)
                if d is not None:
                    d.attackers.append(e)
                    if d.kind == "move" and d.dest == e.prov and not d.convoyed and not e.convoyed:
                        e.h2h = d
        self.moves_to: dict[str, list[_Entry]] = {}
        for e in entries:
            if e.kind == "move":
                self.moves_to.setdefault(e.dest, []).append(e)

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
        first = self.decide(e)
        if len(self.deps) == old:
            if st[i] != RESOLVED:
                self.res[i], st[i] = first, RESOLVED
            return first
        if self.deps[old] != i:
            self.deps.append(i)
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
        """Break a cycle with no or two consistent resolutions (DATC 4.A.2, 6.C)."""
        cycle = [self.entries[j] for j in self.deps[old:]]
        del self.deps[old:]
        if any(c.kind == "convoy" for c in cycle):
            # Szykman rule: the convoys in the paradox fail; the armies do not move
            for c in cycle:
                if c.kind == "convoy":
                    self.res[c.i], self.st[c.i] = False, RESOLVED
                    self.paradox.add(c.i)
                else:
                    self.st[c.i] = UNRESOLVED
        else:
            # circular movement: every move in the cycle succeeds
            for c in cycle:
                if c.kind == "move":
                    self.res[c.i], self.st[c.i] = True, RESOLVED
                else:
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
            return 0 if self.resolve(d) else 1
        return 1 + self.support_count(d)

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
            if a.nation == e.nation:
                continue  # DATC 6.D.20: no cutting your own support
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
        self.assign()
        self.check()
        self.match()
        limit = sys.getrecursionlimit()
        need = 2000 + 16 * len(self.entries)
        if limit < need:  # deep chains of dependent moves on large maps
            sys.setrecursionlimit(need)
        for e in self.entries:
            if e.kind in ("move", "support", "convoy") or e.attackers:
                self.resolve(e)
        moved_ok = {e.i for e in self.entries if e.kind == "move" and self.res[e.i]}
        winner_into: dict[str, _Entry] = {}
        for e in self.entries:
            if e.i in moved_ok:
                winner_into[e.dest] = e
        results: dict[int, OrderResult] = dict(self.pre)
        units: list[Unit] = []
        dislodged: list[Dislodged] = []
        for e in self.entries:
            by = winner_into.get(e.prov)
            if e.i in moved_ok:
                units.append(Unit(e.nation, e.unit.kind, e.dest_loc))
            elif by is not None:
                dislodged.append(Dislodged(e.unit, by.prov, by.convoyed))
            else:
                units.append(e.unit)
            if e.sub >= 0:
                results[e.sub] = self.result_of(e, by)
        standoffs = sorted(
            p for p, ms in self.moves_to.items()
            if p not in winner_into and (p not in self.at or self.at[p].i in moved_ok)
            and any(self.path(m) for m in ms)
        )
        ordered = tuple(results[k] for k in range(len(self.submitted)))
        return MovementResult(ordered, tuple(sorted(units, key=lambda u: u.loc)), tuple(dislodged), tuple(standoffs))

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
                cutter = next((a for a in e.attackers if a.nation != e.nation and a.prov != e.sdest and self.path(a)), None)
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


def _kind_word(letter: str) -> str:
    return {"A": "an army", "F": "a fleet"}.get(letter, letter)

