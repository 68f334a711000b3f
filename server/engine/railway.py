"""Rail moves (DATC v2.4 section 7.B, the Trans-Siberian Railroad, generalised to any
network a ruleset declares).

An army moving by rail travels along its network's route from its province towards the
destination ordered. Along the way it passes through empty provinces and provinces held
by its own units that stay in place. The first province that is *blocked* stops it:

* a unit of another nation stands there at the end of the phase, or
* some unit (of any nation) moves in, or would move in were it not for the train, or
* it is an empty supply centre owned by another nation (the army must stop there).

The army attacks that province as an ordinary move with strength 1 (plus supports when it
is the destination ordered: the last leg). It can bounce other moves there and can be
bounced, but it cannot dislodge and it cannot cut support. If the attack fails, the army
stops in the last empty province before the block (or stays where it was).

Because the block depends on the outcome and the outcome on the train, the phase is solved
for every possible attack province and the consistent solution is kept. When there is no
consistent solution or more than one (the DATC 7.B paradoxes), the attack province is
taken from the orders alone: the first province on the route where a unit of another nation
stands and is not ordered to move, where any unit is ordered to move in, or the destination.

Capacity: a nation may make at most ``capacity`` rail moves per phase on a network; with
more, all of them fail and the units hold (DATC 7.B.33). No rail moves in retreats.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Sequence

from .orders import Move, Order
from .outcome import Reason
from .ruleset import Railway, Ruleset, normalise_name
from .state import GameState

if TYPE_CHECKING:
    from .resolve import MovementResult, _Adjudicator, _Entry

MAX_COMBINATIONS = 256  # solutions tried before falling back to the orders-only rule


def find_network(ruleset_railways: Sequence[Railway], via: str, origin: str, dest: str) -> list[Railway]:
    """Networks an order ``via`` may mean: a network id or alias, or any network for ``rail``."""
    key = normalise_name(via)
    if key in ("rail", "railway", "train"):
        return [r for r in ruleset_railways if origin in r.stations and dest in r.stations]
    return [r for r in ruleset_railways if key in {normalise_name(a) for a in (r.id, *r.aliases)}]


def may_use(adj: _Adjudicator, net: Railway, nation: str, route: Sequence[str]) -> bool:
    """Whether ``nation`` may use ``net`` on ``route`` (see :func:`may_use_board`)."""
    return may_use_board(adj.rs, adj.state, net, nation, route)


def may_use_board(ruleset: Ruleset, state: GameState, net: Railway, nation: str, route: Sequence[str]) -> bool:
    """Whether ``nation`` may use ``net`` on ``route``: a listed user, or, for networks open to
    ``controllers``, no other nation's unit on the route and every centre on it its own."""
    if net.users != ("controllers",):
        return nation in net.users
    owners = dict(state.centres)
    occupied = {u.province: u.nation for u in state.units}
    for p in route:
        holder = occupied.get(p)
        if holder is not None and holder != nation:
            return False
        if p in ruleset.centres and owners.get(p) != nation:
            return False
    return True


def check_rail(adj: _Adjudicator, e: _Entry, o: Move, dprov: str) -> Reason | None:
    """Static check of a rail move; sets the entry's route, destination and plan."""
    if e.unit[1] != "A":
        return Reason("no_rail", detail=o.via)
    nets = find_network(adj.rs.railways, o.via, e.prov, dprov)
    if not nets:
        return Reason("no_rail", detail=o.via)
    usable = []
    for net in nets:
        route = net.route(e.prov, dprov)
        if route and may_use(adj, net, e.nation, route):
            usable.append((net, route))
    if not usable:
        if any(net.route(e.prov, dprov) for net in nets):
            return Reason("rail_not_allowed", detail=nets[0].name)
        return Reason("no_rail", detail=nets[0].name)
    net, route = usable[0]
    e.rail, e.route, e.rail_d = net, route, dprov
    attack, stop = adj.plan.get(e.i, (dprov, e.prov))
    e.dest = e.dest_loc = attack
    e.rail_stop = stop
    return None


def apply_capacity(adj: _Adjudicator, moves: list[_Entry]) -> None:
    """More rail moves than a network carries: all of that nation's there fail (DATC 7.B.33)."""
    count: dict[tuple[str, str], list[_Entry]] = {}
    for e in moves:
        if e.rail is not None:
            count.setdefault((e.nation, e.rail.id), []).append(e)
    for (_, _), es in count.items():
        if len(es) > es[0].rail.capacity:  # type: ignore[union-attr]
            for e in es:
                e.kind, e.failed = "hold", Reason("rail_capacity", detail=e.rail.name)  # type: ignore[union-attr]


def adjudicate_with_rail(ruleset, state: GameState, submitted: Sequence[tuple[str, Order]]) -> MovementResult:  # type: ignore[no-untyped-def]
    """Adjudicate a movement phase holding rail moves (see the module docstring)."""
    from .resolve import _Adjudicator

    probe = _Adjudicator(ruleset, state, submitted)
    probe.assign()
    probe.match()
    rails = [e for e in probe.entries if e.kind == "move" and e.rail is not None]
    if not rails:
        return _Adjudicator(ruleset, state, submitted).run()
    options = [[(e.i, x) for x in e.route[1:]] for e in rails]
    consistent: list[tuple[dict[int, tuple[str, str]], MovementResult]] = []
    tried = 0
    for combo in itertools.product(*options):
        tried += 1
        if tried > MAX_COMBINATIONS:
            consistent = []
            break
        plan = {i: (x, probe.entries[i].prov) for i, x in combo}
        found = _solve(ruleset, state, submitted, plan)
        if found is not None:
            consistent.append(found)
            if len(consistent) > 1:
                break
    if len(consistent) == 1:
        return consistent[0][1]
    # a rail paradox: attack where the orders alone say the line is blocked
    plan = {e.i: (_static_block(probe, e), e.prov) for e in rails}
    for _ in range(3):
        adj = _Adjudicator(ruleset, state, submitted, plan)
        result = adj.run()
        new = {i: (x, _stop(adj, adj.entries[i])) for i, (x, _) in plan.items()}
        if new == plan:
            return result
        plan = new
    return result


def _solve(ruleset, state, submitted, plan):  # type: ignore[no-untyped-def]
    """Run with a plan; adjust the stop provinces once; return (plan, result) if consistent."""
    from .resolve import _Adjudicator

    for _ in range(2):
        adj = _Adjudicator(ruleset, state, submitted, plan)
        result = adj.run()
        if not all(_consistent(adj, adj.entries[i]) for i in plan):
            return None
        new = {i: (x, _stop(adj, adj.entries[i])) for i, (x, _) in plan.items()}
        if new == plan:
            return plan, result
        plan = new
    return None


def _final(adj: _Adjudicator, e: _Entry) -> tuple[dict[str, str], set[str]]:
    """Who stands where at the end (the train excluded) and which provinces were entered."""
    res = adj.res
    stay: dict[str, str] = {}
    moved: dict[str, str] = {}
    entered: set[str] = set()
    for m in adj.entries:
        if m is e:
            continue
        if m.kind == "move" and res[m.i]:
            moved[m.dest] = m.nation
            entered.add(m.dest)
        elif m.rail is not None and m.rail_stop != m.prov:
            moved[m.rail_stop] = m.nation
            entered.add(m.rail_stop)
        else:
            stay[m.prov] = m.nation
    stay.update(moved)  # a dislodged unit gives way to the unit that entered
    return stay, entered


def _lost_centre(adj: _Adjudicator, p: str, nation: str) -> bool:
    """A centre on the line that the train must stop to recapture: owned by another nation,
    or one of the nation's home centres that it does not own (DATC 7.B.19-7.B.22)."""
    if p not in adj.rs.centres:
        return False
    owner = dict(adj.state.centres).get(p)
    if owner is None:
        return adj.rs.provinces[p].home == nation
    return owner != nation


def _consistent(adj: _Adjudicator, e: _Entry) -> bool:
    """Whether the province the train attacked is exactly where it is first blocked."""
    if e.kind != "move" or e.rail is None:
        return True
    occ, entered = _final(adj, e)
    x = e.dest
    for p in e.route[1:]:
        holder = occ.get(p)
        if p == x:
            if x == e.rail_d:
                return True
            if (holder is not None and holder != e.nation) or p in entered:
                return True
            if holder is None and _lost_centre(adj, p, e.nation):
                return True
            return _decisive(adj, e, x)
        if (holder is not None and holder != e.nation) or p in entered:
            return False
        if holder is None and _lost_centre(adj, p, e.nation):
            return False
    return False


def _decisive(adj: _Adjudicator, e: _Entry, x: str) -> bool:
    """Whether some move into ``x`` failed only because the train attacked it."""
    for m in adj.moves_to.get(x, ()):
        if m is e or adj.res[m.i] or m.rail is not None:
            continue
        attack = adj.attack_strength(m)
        if attack == 0:
            continue
        if m.h2h is not None:
            if attack <= 1 + adj.support_count(m.h2h):
                continue
        elif attack <= adj.hold_strength(x):
            continue
        if all(attack > adj.prevent_strength(o) for o in adj.moves_to[x] if o is not m and o is not e):
            return True
    return False


def _stop(adj: _Adjudicator, e: _Entry) -> str:
    """Where the train stops if its attack fails: the last empty province before the first
    block on its route (its own province if there is none)."""
    if e.kind != "move" or e.rail is None or adj.res[e.i]:
        return e.prov
    occ, entered = _final(adj, e)
    stop = e.prov
    for p in e.route[1:]:
        if p == e.dest:
            break
        holder = occ.get(p)
        if (holder is not None and holder != e.nation) or p in entered:
            break
        if holder is None:
            stop = p
            if _lost_centre(adj, p, e.nation):
                break
    return stop


def _static_block(adj: _Adjudicator, e: _Entry) -> str:
    """The first province on the route blocked according to the orders alone."""
    moving_in = {m.dest for m in adj.moves if m is not e}
    for p in e.route[1:]:
        if p == e.rail_d or p in moving_in:
            return p
        holder = adj.at.get(p)
        if holder is not None and holder.nation != e.nation and holder.kind != "move":
            return p
        if holder is None and _lost_centre(adj, p, e.nation):
            return p
    return e.rail_d
