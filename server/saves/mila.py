"""Import games saved by the MILA ``diplomacy`` engine, re-adjudicating them (PURE).

A MILA saved game (``diplomacy.utils.export.to_saved_game_format``) lists phases; each holds
the board at its start (``state``), the orders submitted and the peer's results; the last
phase is the one not yet played. :func:`convert_game` replays the orders with Kessen from
the recorded starting board and compares Kessen's board after every phase with the board the
peer recorded for the next one (units, dislodged units and their retreat options, centres,
phase). Where they differ the save gets a ``board`` event that sets the recorded board (so
the save reproduces the MILA game and still verifies), and the difference is reported with
the DATC case that explains it when re-adjudicating with the peer's rule choice makes the
boards agree.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Mapping, Sequence

import attrs

from ..engine import canonical
from ..engine.errors import KessenError, OrderSyntaxError
from ..engine.notation import parse_order
from ..engine.orders import Order, Support
from ..engine.retreats import retreat_options
from ..engine.ruleset import Ruleset, province_of
from ..engine.state import Dislodged, GameState, Unit, parse_phase, phase_name
from ..engine.turn import step
from .builder import new_save
from .model import BOARD, PRESS, Save

MAPS = {"standard": "classic"}


class MilaError(KessenError, ValueError):
    """A MILA game that cannot be imported; names the game id and phase."""

    def __init__(self, game_id: str, phase: str, problem: str) -> None:
        self.game_id, self.phase, self.problem = game_id, phase, problem
        where = f"game {game_id}" + (f", phase {phase}" if phase else "")
        super().__init__(f"{where}: {problem}")


@attrs.frozen
class PhaseDiff:
    """A phase whose board after Kessen's adjudication differs from the peer's record."""

    game_id: str
    phase: str
    index: int
    differences: tuple[str, ...]
    explanation: str | None = None

    def __str__(self) -> str:
        why = f"  [{self.explanation}]" if self.explanation else "  [unexplained]"
        return f"{self.game_id}  {self.phase}  differs: {'; '.join(self.differences)}{why}"


@attrs.frozen
class MilaImport:
    """One converted game: the save, the phases re-adjudicated and those that differ."""

    save: Save
    phases: int
    diffs: tuple[PhaseDiff, ...]


def games_from_text(text: str, source: str = "input") -> list[dict[str, Any]]:
    """The games in a file holding one MILA game (JSON) or many (JSON lines).

    Raises:
        MilaError: the text is neither (names the line).
    """
    stripped = text.strip()
    try:
        doc = json.loads(stripped)
    except RecursionError:
        raise MilaError(source, "", "not a MILA saved game: nested too deeply") from None
    except json.JSONDecodeError:
        doc = None
        games = []
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                games.append(json.loads(line))
            except RecursionError:
                raise MilaError(source, "", f"line {n} is nested too deeply") from None
            except json.JSONDecodeError as e:
                raise MilaError(source, "", f"line {n} is not JSON: {e.msg} (column {e.colno})") from None
    else:
        games = doc if isinstance(doc, list) else [doc]
    for k, g in enumerate(games):
        if not isinstance(g, dict) or not isinstance(g.get("phases"), list) or not g["phases"]:
            raise MilaError(str(g.get("id", f"#{k + 1}")) if isinstance(g, dict) else f"#{k + 1}", "",
                            "not a MILA saved game (no phases)")
    return games


# --- boards -------------------------------------------------------------------------------

NeutralBoard = dict[str, dict[str, Any]]


def _split_unit(text: str) -> tuple[str, str, bool]:
    t = text.strip()
    dislodged = t.startswith("*")
    kind, loc = t.lstrip("*").split()
    return kind.upper(), loc.lower(), dislodged


def mila_board(mstate: Mapping[str, Any]) -> NeutralBoard:
    """The engine-neutral board of a MILA state: per power, sorted upper-case lists."""
    out: NeutralBoard = {}
    powers = set(mstate.get("units", {})) | set(mstate.get("centers", {}))
    retreats = mstate.get("retreats") or {}
    for p in sorted(powers):
        units = mstate.get("units", {}).get(p) or []
        out[p.lower()] = {
            "units": sorted(u for u in units if not u.startswith("*")),
            "dislodged": sorted(u[1:] for u in units if u.startswith("*")),
            "centres": sorted(mstate.get("centers", {}).get(p) or []),
            "retreats": {u: sorted(v) for u, v in sorted((retreats.get(p) or {}).items())},
        }
    return out


def kessen_board(ruleset: Ruleset, state: GameState) -> NeutralBoard:
    """The same view of a Kessen state (retreat options from the engine)."""
    out: NeutralBoard = {}
    for n in ruleset.nation_ids:
        disl = [d for d in state.dislodged if d.unit.nation == n]
        out[n] = {
            "units": sorted(f"{u.kind} {u.loc.upper()}" for u in state.units if u.nation == n),
            "dislodged": sorted(f"{d.unit.kind} {d.unit.loc.upper()}" for d in disl),
            "centres": sorted(c.upper() for c, o in state.centres if o == n),
            "retreats": {f"{d.unit.kind} {d.unit.loc.upper()}": sorted(x.upper() for x in retreat_options(ruleset, state, d))
                         for d in sorted(disl, key=lambda d: d.unit.loc)},
        }
    return out


def board_differences(kessen: NeutralBoard, recorded: NeutralBoard, k_phase: str, r_phase: str) -> list[str]:
    """Human-readable differences, ``[]`` when the boards agree.

    >>> board_differences({"italy": {"units": ["A NAP"]}}, {"italy": {"units": ["A APU"]}}, "F1902M", "F1902M")
    ['ITALY units: Kessen A NAP, recorded A APU']
    """
    out = []
    if k_phase != r_phase:
        out.append(f"next phase: Kessen {k_phase}, recorded {r_phase}")
    empty = {"units": [], "dislodged": [], "centres": [], "retreats": {}}
    for n in sorted(set(kessen) | set(recorded)):
        a, b = kessen.get(n, empty), recorded.get(n, empty)
        for key in ("units", "dislodged", "centres", "retreats"):
            va, vb = a.get(key, empty[key]), b.get(key, empty[key])
            if va == vb:
                continue
            if key == "retreats":
                out.append(f"{n.upper()} retreats: Kessen {_fmt_retreats(va)}, recorded {_fmt_retreats(vb)}")
                continue
            only_a = [x for x in va if x not in vb]
            only_b = [x for x in vb if x not in va]
            out.append(f"{n.upper()} {key}: Kessen {', '.join(only_a) or '-'}, recorded {', '.join(only_b) or '-'}")
    return out


def _fmt_retreats(r: Mapping[str, Sequence[str]]) -> str:
    return "; ".join(f"{u} -> {'/'.join(v) or 'none'}" for u, v in r.items()) or "-"


def mila_state(ruleset: Ruleset, game_id: str, phase: Mapping[str, Any],
               previous: Mapping[str, Any] | None) -> GameState:
    """A Kessen state from a MILA phase's ``state``.

    MILA does not record where a dislodging attack came from nor which provinces a standoff
    left empty; both are read from the previous phase's orders and results.
    """
    name = str(phase.get("name", ""))
    mstate = phase.get("state") or {}
    try:
        year, season, kind = parse_phase(ruleset, name)
        units, dislodged = [], []
        nations = set(ruleset.nation_ids)
        for power, lst in (mstate.get("units") or {}).items():
            n = power.lower()
            if n not in nations:
                raise ValueError(f"unknown power {power!r}")
            for text in lst or []:
                k, loc, is_dislodged = _split_unit(text)
                (dislodged if is_dislodged else units).append(Unit(n, k, loc))
        centres = []
        for power, lst in (mstate.get("centers") or {}).items():
            if power.lower() not in nations:
                raise ValueError(f"unknown power {power!r}")
            centres.extend((c.lower(), power.lower()) for c in lst or [])
    except ValueError as e:
        raise MilaError(game_id, name, f"unreadable board: {e}") from None
    moves = _moves(previous) if previous is not None else []
    occupied = {u.province for u in units}
    dis = []
    for u in dislodged:
        origin, convoyed = "", False
        for frm, dest, via, ok, bounced in moves:
            if ok and province_of(dest) == u.province:
                origin, convoyed = province_of(frm), via or province_of(frm) not in ruleset.any_adj.get(u.province, ())
        dis.append(Dislodged(u, origin, bool(convoyed)))
    standoffs = set()
    if kind == "retreat":
        standoffs = {province_of(dest) for _, dest, _, ok, bounced in moves if bounced} - occupied
    return GameState.build(year, season, kind, units, centres, dis, standoffs)


def _moves(phase: Mapping[str, Any]) -> list[tuple[str, str, bool, bool, bool]]:
    """``(from, to, via convoy, succeeded, bounced)`` for each move order of a MILA phase."""
    results = phase.get("results") or {}
    out = []
    for lst in (phase.get("orders") or {}).values():
        for text in lst or []:
            words = text.split()
            if len(words) >= 4 and words[2] == "-":
                res = results.get(f"{words[0]} {words[1]}", [])
                out.append((words[1].lower(), words[3].lower(), words[-1] == "VIA",
                            not any(r for r in res), "bounce" in res))
    return out


# --- explanations -------------------------------------------------------------------------

Variant = Callable[[Ruleset, dict[str, list[Order]]], tuple[Ruleset, dict[str, list[Order]]]]


def _option(**changes: Any) -> Variant:
    def apply(rs: Ruleset, orders: dict[str, list[Order]]) -> tuple[Ruleset, dict[str, list[Order]]]:
        return attrs.evolve(rs, options=attrs.evolve(rs.options, **changes)), orders
    return apply


def _support_to_province(rs: Ruleset, orders: dict[str, list[Order]]) -> tuple[Ruleset, dict[str, list[Order]]]:
    def fix(o: Order) -> Order:
        if isinstance(o, Support) and o.dest is not None and "/" in o.dest:
            return attrs.evolve(o, dest=province_of(o.dest))
        return o
    return rs, {n: [fix(o) for o in os] for n, os in orders.items()}


PEER_CHOICES: tuple[tuple[str, Variant], ...] = (
    ("DATC 6.G.8: an army ordered via convoy to an adjacent province with no convoy ordered "
     "moves over land in the peer; DATC 3.0 fails the move", _option(convoy_missing="over-land")),
    ("DATC 6.B.9: the peer takes a support naming a coast as a support to the province",
     _support_to_province),
    ("DATC 4.A.3 / 6.G.11: the peer convoys to an adjacent province only when the order says "
     "via convoy", _option(convoy_to_adjacent="explicit")),
    ("DATC 6.H.11: the peer does not let a unit retreat to where a convoyed attacker came from",
     _option(retreat_to_convoy_origin=False)),
    ("DATC 4.E.1: the peer removes units in civil disorder by distance to home centres",
     _option(civil_disorder="distance-home")),
)


def explain(ruleset: Ruleset, state: GameState, orders: dict[str, list[Order]],
            recorded: NeutralBoard, recorded_phase: str) -> str | None:
    """The peer rule choice(s) under which Kessen reproduces the recorded board, if any."""
    def matches(variants: Sequence[Variant]) -> bool:
        rs, os = ruleset, orders
        for v in variants:
            rs, os = v(rs, os)
        try:
            after = step(rs, state, os).state
        except ValueError:
            return False
        return phase_name(rs, after) == recorded_phase and kessen_board(rs, after) == recorded

    for text, variant in PEER_CHOICES:
        if matches([variant]):
            return text
    if matches([v for _, v in PEER_CHOICES]):
        return "; ".join(t.split(":")[0] for t, _ in PEER_CHOICES) + ": a combination of the peer's choices"
    return None


# --- conversion ---------------------------------------------------------------------------


def _orders(ruleset: Ruleset, game_id: str, phase: Mapping[str, Any]) -> dict[str, list[Order]]:
    out: dict[str, list[Order]] = {}
    name = str(phase.get("name", ""))
    for power, lst in sorted((phase.get("orders") or {}).items()):
        n = power.lower()
        if n not in ruleset.nation_ids:
            raise MilaError(game_id, name, f"orders for unknown power {power!r}")
        parsed = []
        for text in lst or []:
            try:
                parsed.append(parse_order(text, ruleset))
            except OrderSyntaxError as e:
                raise MilaError(game_id, name, f"{power} order {text!r} cannot be read: {e}") from None
        if parsed:
            out[n] = parsed
    return out


def _is_phase(ruleset: Ruleset, name: str) -> bool:
    try:
        parse_phase(ruleset, name)
    except ValueError:
        return False
    return True


def convert_game(ruleset: Ruleset, game: Mapping[str, Any], *,
                 ruleset_files: Mapping[str, str] | None = None) -> MilaImport:
    """Convert one MILA saved game, re-adjudicating every phase with Kessen.

    Raises:
        MilaError: unsupported map, unreadable board or order, malformed data (names game
            and phase).
    """
    try:
        return _convert(ruleset, game, ruleset_files)
    except (KeyError, TypeError, AttributeError, IndexError) as e:
        gid = str(game.get("id") or "mila-game") if isinstance(game, Mapping) else "mila-game"
        raise MilaError(gid, "", f"malformed saved game ({type(e).__name__}: {e})") from None


def _convert(ruleset: Ruleset, game: Mapping[str, Any], ruleset_files: Mapping[str, str] | None) -> MilaImport:
    gid = str(game.get("id") or "mila-game")
    mila_map = str(game.get("map", "standard"))
    if MAPS.get(mila_map) != ruleset.id:
        raise MilaError(gid, "", f"map {mila_map!r} is not supported with ruleset {ruleset.id!r} "
                        f"(supported: {', '.join(f'{k} -> {v}' for k, v in MAPS.items())})")
    phases = [p for p in game["phases"] if _is_phase(ruleset, str(p.get("name", "")))]
    if not phases:
        raise MilaError(gid, "", "no phases")
    stamp = (phases[0].get("state") or {}).get("timestamp")
    created = int(stamp) // 1_000_000 if isinstance(stamp, int) else 0
    initial = mila_state(ruleset, gid, phases[0], None)
    rec = new_save(
        ruleset, gid, f"MILA game {gid}", created=created, initial=initial,
        ruleset_files=ruleset_files,
        settings={"source": "mila", "map": mila_map, "rules": [str(r) for r in game.get("rules") or []]},
    )
    diffs: list[PhaseDiff] = []
    state = initial
    played = 0
    prev: tuple[GameState, dict[str, list[Order]], str, int] | None = None
    for i, ph in enumerate(phases):
        name = str(ph["name"])
        if prev is not None:
            recorded = mila_board(ph.get("state") or {})
            ours = kessen_board(ruleset, state)
            ours_name = phase_name(ruleset, state)
            found = board_differences(ours, recorded, ours_name, name)
            if state.winner is not None and i < len(phases) - 1:
                found.append(f"Kessen ends the game: {state.winner} won")
            if found:
                p_state, p_orders, p_name, p_index = prev
                why = explain(ruleset, p_state, p_orders, recorded, name)
                diffs.append(PhaseDiff(gid, p_name, p_index, tuple(found), why))
                state = mila_state(ruleset, gid, ph, phases[i - 1])
                rec.add_event(BOARD, by="import", reason=f"the MILA record of {p_name} differs from "
                              f"Kessen's adjudication ({why or 'unexplained'})",
                              data={"state": canonical.state_plain(state)})
        for m in ph.get("messages") or []:
            rec.add_event(PRESS, by=str(m.get("sender", "")).lower(),
                          time=int(m["time_sent"]) // 1_000_000 if isinstance(m.get("time_sent"), int) else None,
                          data={"from": str(m.get("sender", "")).lower(), "to": str(m.get("recipient", "")).lower(),
                                "text": str(m.get("message", "")), "phase": name})
        if i == len(phases) - 1:
            break  # the last phase is the one not played
        orders = _orders(ruleset, gid, ph)
        if phase_name(ruleset, state) != name:
            raise MilaError(gid, name, f"the board is at {phase_name(ruleset, state)}")
        turn = step(ruleset, state, orders)
        rec.add_turn(ruleset, orders, turn)
        prev = (state, orders, name, len(rec.records) - 1)
        state = turn.state
        played += 1
    return MilaImport(rec.to_save(), played, tuple(diffs))


__all__ = [
    "MilaError", "PhaseDiff", "MilaImport", "games_from_text", "mila_board", "kessen_board",
    "board_differences", "mila_state", "explain", "convert_game", "PEER_CHOICES",
]
