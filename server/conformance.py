"""Conformance cases (DATC schema, see tests/conformance/README.md) run through the engine.

Pure: :func:`run_case` takes a case as a dict and returns the output object that
``kessen adjudicate`` prints; reading files and printing is the CLI's job.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import attrs

from .engine.errors import CaseError, OrderSyntaxError
from .engine.notation import parse_order
from .engine.orders import Order
from .engine.outcome import ILLEGAL
from .engine.retreats import retreat_options
from .engine.ruleset import Ruleset, province_of
from .engine.state import Dislodged, GameState, Unit, parse_phase
from .engine.turn import step_submitted
from .engine.adjustments import centre_counts

VARIANTS = {"standard": "classic", "classic": "classic", "colonial": "colonial"}
KIND = {"army": "A", "fleet": "F", "a": "A", "f": "F"}
KIND_WORD = {"A": "army", "F": "fleet"}

RulesetLoader = Callable[[str], Ruleset]


def run_case(case: Mapping[str, Any], load: RulesetLoader) -> dict[str, Any]:
    """Adjudicate one case; raises CaseError naming the field when it is malformed."""
    cid = str(case.get("id", "?")) if isinstance(case, Mapping) else "?"
    if not isinstance(case, Mapping):
        raise CaseError(cid, "(case)", "a case must be a JSON object")
    variant = _field(case, cid, "variant", str, default="standard")
    try:
        ruleset = load(VARIANTS.get(variant, variant))  # standard, colonial, or any installed ruleset id
    except (KeyError, ValueError, OSError):
        raise CaseError(cid, "variant", f"unknown variant {variant!r}; use standard, colonial or an installed ruleset id") from None
    if "victory_supply_centers" in case:
        v = _field(case, cid, "victory_supply_centers", int)
        ruleset = attrs.evolve(ruleset, victory_centres=v)
    phase_text = _field(case, cid, "phase", str)
    try:
        year, season, kind = parse_phase(ruleset, phase_text)
    except ValueError as e:
        raise CaseError(cid, "phase", str(e)) from None
    units = [_unit(u, cid, f"units[{i}]", ruleset) for i, u in enumerate(_field(case, cid, "units", list, default=[]))]
    centres = _centres(case, cid, ruleset)
    dislodged = []
    for i, d in enumerate(_field(case, cid, "dislodged", list, default=[])):
        u = _unit(d, cid, f"dislodged[{i}]", ruleset)
        frm = d.get("attacker_from")
        if not isinstance(frm, str) or frm not in ruleset.provinces:
            raise CaseError(cid, f"dislodged[{i}].attacker_from", "must be a province id")
        dislodged.append(Dislodged(u, frm, bool(d.get("attacker_convoyed", False))))
    standoffs = _field(case, cid, "standoffs", list, default=[])
    for i, s in enumerate(standoffs):
        if s not in ruleset.provinces:
            raise CaseError(cid, f"standoffs[{i}]", f"unknown province {s!r}")
    seen: set[str] = set()
    for u in units:
        if u.province in seen:
            raise CaseError(cid, "units", f"two units in {u.province}")
        seen.add(u.province)
    state = GameState.build(year, season, kind, units, centres, dislodged, standoffs)
    orders_text = _field(case, cid, "orders", list, default=[])
    submitted: list[tuple[str, Order]] = []
    unreadable: dict[int, str] = {}
    board = {u.province: (u.kind, u.loc) for u in units}
    board.update({d.unit.province: (d.unit.kind, d.unit.loc) for d in dislodged})
    for i, text in enumerate(orders_text):
        if not isinstance(text, str) or ":" not in text:
            raise CaseError(cid, f"orders[{i}]", "must be a string like 'england: F nth - pic'")
        nation, _, body = text.partition(":")
        nation = nation.strip().lower()
        if nation not in ruleset.nation_ids:
            raise CaseError(cid, f"orders[{i}]", f"unknown power {nation!r}")
        try:
            submitted.append((nation, parse_order(body.strip(), ruleset, units=board)))
        except OrderSyntaxError as e:
            unreadable[i] = str(e)
    # unreadable orders are reported illegal (the unit holds); the rest are adjudicated
    turn = step_submitted(ruleset, state, submitted)
    results = []
    it = iter(turn.results)
    for i, text in enumerate(orders_text):
        if i in unreadable:
            results.append({"order": text, "result": ILLEGAL})
        else:
            results.append({"order": text, "result": next(it).result})
    after = turn.after_phase
    out: dict[str, Any] = {"id": cid, "results": results}
    out["positions_after"] = [_unit_json(u) for u in after]
    out["dislodged_after"] = [
        {"unit": _unit_json(d.unit), "attacker_from": d.attacker_from} for d in turn.dislodged
    ]
    if kind == "retreat":
        opts = {_unit_key(d.unit): list(retreat_options(ruleset, state, d)) for d in state.dislodged}
    else:
        opts = {_unit_key(d.unit): list(o) for d, o in turn.retreat_options}
    out["retreat_options"] = opts
    out["civil_disorder_removals"] = [_unit_key(u) for u in turn.civil_disorder]
    nations = sorted({u.nation for u in units} | {d.unit.nation for d in dislodged})
    final = turn.state
    counts = centre_counts(ruleset, final.centres)
    have: dict[str, int] = {n: 0 for n in nations}
    for u in after:
        if u.nation in have:
            have[u.nation] += 1
    out["supply_center_count_after"] = {n: counts[n] for n in nations}
    out["adjustment_after"] = {n: counts[n] - have[n] for n in nations}
    owned: dict[str, list[str]] = {}
    for c, n in final.centres:
        owned.setdefault(n, []).append(c)
    out["supply_centers_after"] = {n: sorted(cs) for n, cs in sorted(owned.items())}
    out["winner"] = final.winner
    return out


def _field(case: Mapping[str, Any], cid: str, name: str, typ: type, default: Any = ...) -> Any:
    if name not in case:
        if default is ...:
            raise CaseError(cid, name, "is missing")
        return default
    v = case[name]
    if not isinstance(v, typ) or (typ is int and isinstance(v, bool)):
        raise CaseError(cid, name, f"must be a {typ.__name__}")
    return v


def _unit(u: Any, cid: str, field: str, ruleset: Ruleset) -> Unit:
    if not isinstance(u, Mapping):
        raise CaseError(cid, field, "must be an object with power, type and loc")
    power, typ, loc = u.get("power"), u.get("type"), u.get("loc")
    if power not in ruleset.nation_ids:
        raise CaseError(cid, f"{field}.power", f"unknown power {power!r}")
    if not isinstance(typ, str) or typ.lower() not in KIND:
        raise CaseError(cid, f"{field}.type", f"must be army or fleet, not {typ!r}")
    kind = KIND[typ.lower()]
    if not isinstance(loc, str) or province_of(loc) not in ruleset.provinces:
        raise CaseError(cid, f"{field}.loc", f"unknown location {loc!r}")
    if kind == "A":
        loc = province_of(loc)
        if loc not in ruleset.army_adj:
            raise CaseError(cid, f"{field}.loc", f"an army cannot stand on {loc}")
    elif loc not in ruleset.fleet_adj:
        raise CaseError(cid, f"{field}.loc", f"a fleet cannot stand on {loc} (name a coast?)")
    return Unit(power, kind, loc)


def _centres(case: Mapping[str, Any], cid: str, ruleset: Ruleset) -> dict[str, str]:
    if "supply_centers" not in case:
        return dict(ruleset.start_centres)
    sc = case["supply_centers"]
    if not isinstance(sc, Mapping):
        raise CaseError(cid, "supply_centers", "must be an object {power: [centres]}")
    out: dict[str, str] = {}
    for power, provs in sc.items():
        if power not in ruleset.nation_ids:
            raise CaseError(cid, "supply_centers", f"unknown power {power!r}")
        if not isinstance(provs, list):
            raise CaseError(cid, f"supply_centers.{power}", "must be a list")
        for p in provs:
            if p not in ruleset.centres:
                raise CaseError(cid, f"supply_centers.{power}", f"{p!r} is not a supply centre")
            out[p] = power
    return out


def _unit_json(u: Unit) -> dict[str, str]:
    return {"power": u.nation, "type": KIND_WORD[u.kind], "loc": u.loc}


def _unit_key(u: Unit) -> str:
    return f"{u.nation} {u.kind} {u.loc}"
