"""Replays for people and tools (PURE): the board at any phase, the JSON export, CSV tables.

Everything here rebuilds the game with :func:`server.saves.verify.replay_steps`, so what it
shows is what the engine adjudicates, checked against the record as it goes.

JSON export schema ``kessen.save/1`` (the whole game; :func:`save_from_export` reads it back
to the identical save)::

    {"schema": "kessen.save/1",
     "header": {"format", "engine", "game", "title", "created", "seed", "settings",
                "ruleset": {"id", "digest", "files": {name: text} | null},
                "nations": [{"nation", "player"}]},
     "initial_state": {"year", "season", "phase", "units": [[nation, kind, loc]],
                       "centres": [[centre, nation]], "dislodged": [[nation, kind, loc,
                       attacker_from, convoyed]], "standoffs": [...], "winner"},
     "records": [{"index", "kind": "phase", "phase", "state_digest", "chain",
                  "orders": {nation: [{"order", "by", "result",
                                       "reason": {"code", "at", "by", "detail"} | null}]}}
                 | {"index", "kind": "event", "event", "by", "reason", "time", "data", "chain"}],
     "end": {"records", "chain"}}
"""

from __future__ import annotations

import json
from typing import Any, Iterable, Iterator, Mapping, Sequence

import attrs

from ..engine import canonical
from ..engine.adjustments import centre_counts
from ..engine.outcome import Reason
from ..engine.retreats import retreat_options
from ..engine.ruleset import Ruleset
from ..engine.state import GameState, phase_name
from ..engine.turn import Turn
from .format import RESULT_CODES, Bad, SaveEncoder, check_plain, header_from_plain, plain_state
from .model import EventRecord, Header, OrderEntry, PhaseRecord, Problem, Record, Save, SaveError
from .verify import replay_steps

SCHEMA = "kessen.save/1"


# --- boards ---------------------------------------------------------------------------------


@attrs.frozen
class Board:
    """The board at the start of a phase, with that phase's orders and results if played.

    ``index`` is the record index of the phase (``None`` for the board after the last
    record, which no phase has been played from yet).
    """

    game_id: str
    phase: str
    index: int | None
    state: GameState
    record: PhaseRecord | None = None
    turn: Turn | None = None


def boards(ruleset: Ruleset, save: Save) -> Iterator[Board]:
    """Every phase's board in order, then the final board (``index`` None)."""
    state = save.initial
    for s in replay_steps(ruleset, save):
        if isinstance(s.record, PhaseRecord):
            yield Board(save.header.game_id, s.record.phase, s.index, s.before, s.record, s.turn)
        state = s.after
    yield Board(save.header.game_id, _final_name(ruleset, state), None, state)


def _final_name(ruleset: Ruleset, state: GameState) -> str:
    return phase_name(ruleset, state)


def board_at(ruleset: Ruleset, save: Save, phase: str | None = None) -> Board:
    """The board at ``phase`` (``S1905M``; its latest occurrence after a rollback).

    ``None``, ``"final"`` or the id of the phase after the last record give the final board.

    Raises:
        SaveError: the save does not replay.
        KeyError: no such phase in this game (the message lists the range).
    """
    found: Board | None = None
    seen: list[str] = []
    want = None if phase is None or phase.lower() == "final" else phase.strip().upper()
    last: Board | None = None
    for b in boards(ruleset, save):
        seen.append(b.phase)
        last = b
        if want is not None and b.phase.upper() == want and b.index is not None:
            found = b
    assert last is not None
    if want is None or (found is None and last.phase.upper() == want):
        return last
    if found is None:
        raise KeyError(f"no phase {phase} in game {save.header.game_id}: it runs from {seen[0]} to {seen[-1]}")
    return found


def _unit(kind: str, loc: str) -> str:
    return f"{kind} {loc}"


def board_plain(ruleset: Ruleset, board: Board) -> dict[str, Any]:
    """The board as JSON-ready plain data (``kessen replay --json``)."""
    st = board.state
    nations = ruleset.nation_ids
    owners = st.centres
    counts = centre_counts(ruleset, owners)
    out: dict[str, Any] = {
        "game": board.game_id, "phase": board.phase, "record": board.index,
        "year": st.year, "season": st.season, "kind": st.phase, "winner": st.winner,
        "units": {n: [_unit(u.kind, u.loc) for u in st.units if u.nation == n] for n in nations},
        "dislodged": {n: [{"unit": _unit(d.unit.kind, d.unit.loc), "attacker_from": d.attacker_from,
                           "retreats": list(retreat_options(ruleset, st, d))}
                          for d in st.dislodged if d.unit.nation == n] for n in nations},
        "centres": {n: [c for c, o in owners if o == n] for n in nations},
        "centre_counts": counts,
        "orders": None,
    }
    if board.record is not None:
        out["orders"] = {n: [_entry_plain(e) for e in entries] for n, entries in board.record.orders}
        if board.turn is not None:
            out["next_phase"] = phase_name(ruleset, board.turn.state)
            out["events"] = [attrs.asdict(ev) for ev in board.turn.events]
    return out


def _entry_plain(e: OrderEntry) -> dict[str, Any]:
    return {"order": e.text, "by": e.by, "result": e.result,
            "reason": None if e.reason is None else e.reason.text()}


def board_text(ruleset: Ruleset, board: Board, title: str = "") -> str:
    """The board as terminal text: per nation its centres, units, dislodged units, orders."""
    st = board.state
    where = f"record {board.index}" if board.index is not None else "after the last record"
    head = f"{board.game_id}  {title}  {board.phase}  ({where})".replace("    ", "  ")
    lines = [head]
    if st.winner:
        lines.append(f"  game over: {ruleset.nation(st.winner).name} won")
    counts = centre_counts(ruleset, st.centres)
    entries = dict(board.record.orders) if board.record is not None else {}
    for n in ruleset.nation_ids:
        units = [u for u in st.units if u.nation == n]
        disl = [d for d in st.dislodged if d.unit.nation == n]
        centres = [c for c, o in st.centres if o == n]
        if not (units or disl or centres or entries.get(n)):
            continue
        name = ruleset.nation(n).name
        lines.append(f"{name}: {counts[n]} centres, {len(units)} units")
        lines.append(f"  centres: {', '.join(centres) or '-'}")
        lines.append(f"  units:   {', '.join(_unit(u.kind, u.loc) for u in units) or '-'}")
        for d in disl:
            opts = retreat_options(ruleset, st, d)
            lines.append(f"  dislodged: {_unit(d.unit.kind, d.unit.loc)} (attacked from "
                         f"{d.attacker_from}); may retreat to {', '.join(opts) or 'nowhere'}")
        for e in entries.get(n, ()):
            outcome = e.result if e.reason is None else f"{e.result}: {e.reason.text()}"
            by = f"  [entered by {e.by}]" if e.by else ""
            lines.append(f"    {e.text:<28} {outcome}{by}")
    if board.turn is not None:
        lines.append(f"next: {phase_name(ruleset, board.turn.state)}")
    return "\n".join(lines)


# --- JSON export --------------------------------------------------------------------------


def _reason_json(r: Reason | None) -> dict[str, Any] | None:
    return None if r is None else {"code": r.code, "at": r.at, "by": r.by, "detail": r.detail}


def export_plain(save: Save) -> dict[str, Any]:
    """The whole game in the ``kessen.save/1`` JSON schema (module docstring)."""
    h = save.header
    enc = SaveEncoder(h, save.initial)
    enc.prelude()
    records = []
    for i, rec in enumerate(save.records):
        enc.record(rec)
        if isinstance(rec, PhaseRecord):
            records.append({
                "index": i, "kind": "phase", "phase": rec.phase, "state_digest": rec.digest,
                "orders": {n: [{"order": e.text, "by": e.by, "result": e.result,
                                "reason": _reason_json(e.reason)} for e in entries]
                           for n, entries in rec.orders},
                "chain": enc.chain,
            })
        else:
            records.append({"index": i, "kind": "event", "event": rec.event, "by": rec.by,
                            "reason": rec.reason, "time": rec.time, "data": rec.data,
                            "chain": enc.chain})
    return {
        "schema": SCHEMA,
        "header": {
            "format": h.format, "engine": h.engine, "game": h.game_id, "title": h.title,
            "created": h.created, "seed": h.seed, "settings": h.settings,
            "ruleset": {"id": h.ruleset_id, "digest": h.ruleset_digest, "files": h.ruleset_files},
            "nations": [{"nation": n, "player": p} for n, p in h.nations],
        },
        "initial_state": canonical.state_plain(save.initial),
        "records": records,
        "end": {"records": len(save.records), "chain": enc.chain},
    }


def export_json(save: Save) -> str:
    """:func:`export_plain` as JSON text (sorted keys, one space indent, trailing newline)."""
    return json.dumps(export_plain(save), sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def _get(p: Any, key: str, typ: type | tuple[type, ...], path: str) -> Any:
    if not isinstance(p, dict) or key not in p:
        raise Bad("missing", f"{path}{key}")
    v = p[key]
    if not isinstance(v, typ) or (isinstance(v, bool) and bool not in (typ if isinstance(typ, tuple) else (typ,))):
        raise Bad(f"expected {getattr(typ, '__name__', typ)}", f"{path}{key}")
    return v


def save_from_export(p: Any) -> Save:
    """Read a ``kessen.save/1`` JSON document back into the save it was exported from.

    The chains in the document are checked against the content, so an edited export is
    refused naming the first altered record.

    Raises:
        SaveError: wrong schema, a malformed field, or an altered record.
    """
    try:
        return _save_from_export(p)
    except Bad as e:
        raise SaveError(Problem("file", f"JSON field {e.field}: {e.message}" if e.field else e.message)) from None


def _save_from_export(p: Any) -> Save:
    if not isinstance(p, dict) or p.get("schema") != SCHEMA:
        raise Bad(f"not a Kessen JSON export (schema {SCHEMA!r} expected)", "schema")
    h = _get(p, "header", dict, "")
    rs = _get(h, "ruleset", dict, "header.")
    nations = _get(h, "nations", list, "header.")
    plain_header = {
        "kind": "header", "format": _get(h, "format", int, "header."),
        "engine": _get(h, "engine", str, "header."),
        "ruleset": {"id": _get(rs, "id", str, "header.ruleset."),
                    "digest": _get(rs, "digest", str, "header.ruleset."),
                    "files": _get(rs, "files", (dict, type(None)), "header.ruleset.")},
        "game": _get(h, "game", str, "header."), "title": _get(h, "title", str, "header."),
        "nations": [[_get(n, "nation", str, f"header.nations[{k}]."),
                     _get(n, "player", (str, type(None)), f"header.nations[{k}].")]
                    for k, n in enumerate(nations)],
        "settings": _get(h, "settings", dict, "header."),
        "created": _get(h, "created", int, "header."),
        "seed": _get(h, "seed", (int, type(None)), "header."),
    }
    header = header_from_plain(plain_header)
    initial = plain_state(_get(p, "initial_state", dict, ""), "initial_state")
    records: list[Record] = []
    for k, r in enumerate(_get(p, "records", list, "")):
        path = f"records[{k}]."
        if _get(r, "index", int, path) != k:
            raise Bad(f"index {r['index']} at position {k}", f"{path}index")
        kind = _get(r, "kind", str, path)
        if kind == "phase":
            records.append(_phase_from_json(r, header, path))
        elif kind == "event":
            data = _get(r, "data", dict, path)
            check_plain(data, f"{path}data")
            records.append(EventRecord(_get(r, "event", str, path), _get(r, "by", str, path),
                                       _get(r, "reason", str, path),
                                       _get(r, "time", (int, type(None)), path), data))
        else:
            raise Bad(f"unknown kind {kind!r}", f"{path}kind")
    save = Save(header, initial, tuple(records))
    _check_chains(save, p)
    return save


def _phase_from_json(r: dict[str, Any], header: Header, path: str) -> PhaseRecord:
    orders_p = _get(r, "orders", dict, path)
    unknown = sorted(set(orders_p) - set(header.nation_ids))
    if unknown:
        raise Bad(f"{unknown[0]!r} is not a nation of this game", f"{path}orders")
    orders = []
    for n in header.nation_ids:
        lst = orders_p.get(n)
        if not lst:
            continue
        entries = []
        for j, e in enumerate(lst):
            ep = f"{path}orders.{n}[{j}]."
            result = _get(e, "result", str, ep)
            if result not in RESULT_CODES:
                raise Bad(f"unknown result {result!r}", f"{ep}result")
            rp = _get(e, "reason", (dict, type(None)), ep)
            reason = None
            if rp is not None:
                vals = [_get(rp, k, (str, type(None)), f"{ep}reason.") for k in ("at", "by", "detail")]
                reason = Reason(_get(rp, "code", str, f"{ep}reason."), *vals)
            entries.append(OrderEntry(_get(e, "order", str, ep), result, reason, _get(e, "by", str, ep)))
        orders.append((n, tuple(entries)))
    digest = _get(r, "state_digest", str, path)
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise Bad("expected 64 lower-case hex digits", f"{path}state_digest")
    return PhaseRecord.build(_get(r, "phase", str, path), orders, digest)


def _check_chains(save: Save, p: dict[str, Any]) -> None:
    enc = SaveEncoder(save.header, save.initial)
    try:
        enc.prelude()
    except Bad as e:
        raise SaveError(Problem("header", e.message, field=e.field)) from None
    for k, (rec, rp) in enumerate(zip(save.records, p["records"])):
        phase = rec.phase if isinstance(rec, PhaseRecord) else None
        try:
            enc.record(rec)
        except Bad as e:
            raise SaveError(Problem("record", f"malformed: {e}", index=k, phase=phase)) from None
        if rp.get("chain") != enc.chain:
            raise SaveError(Problem("record", "chain mismatch: the export was altered here "
                                    "(or the header above it)", index=k, phase=phase))
    end = p.get("end")
    if not isinstance(end, dict) or end.get("records") != len(save.records) or end.get("chain") != enc.chain:
        raise SaveError(Problem("trailer", "the export's end does not match its records "
                                "(records removed or added?)"))


# --- CSV tables -----------------------------------------------------------------------------

TABLES: dict[str, tuple[str, ...]] = {
    "phases": ("game", "record", "phase", "year", "season", "kind", "played", "orders", "units",
               "centres", "state_digest", "next_phase", "winner"),
    "units": ("game", "record", "phase", "nation", "unit", "location", "province", "dislodged"),
    "centres": ("game", "record", "phase", "centre", "nation"),
    "orders": ("game", "record", "phase", "nation", "unit", "order", "result", "reason",
               "reason_text", "by"),
    "events": ("game", "record", "phase", "event", "by", "reason", "time", "data"),
}


def table_rows(ruleset: Ruleset, save: Save) -> dict[str, list[tuple[Any, ...]]]:
    """One game's rows for each table of :data:`TABLES`.

    Every board row is the board at the *start* of its phase (``record`` is the phase's
    record index; ``state_digest`` is that board's digest); the board after the last record has ``played`` 0 and ``record`` equal
    to the number of records. ``game`` plus ``record`` (or ``phase``, unique unless the
    game was rolled back) join the tables.
    """
    g = save.header.game_id
    rows: dict[str, list[tuple[Any, ...]]] = {name: [] for name in TABLES}
    state = save.initial
    current = phase_name(ruleset, state)
    for s in replay_steps(ruleset, save):
        rec = s.record
        if isinstance(rec, EventRecord):
            rows["events"].append((g, s.index, current, rec.event, rec.by, rec.reason, rec.time,
                                   json.dumps(rec.data, sort_keys=True, ensure_ascii=False)))
            state = s.after
            current = phase_name(ruleset, state)
            continue
        assert s.turn is not None
        _board_rows(rows, ruleset, g, s.index, rec.phase, s.before, played=True,
                    orders=rec.order_count, nxt=phase_name(ruleset, s.after))
        for n, entries in rec.orders:
            for e in entries:
                parts = e.text.split()
                unit = f"{parts[0]} {parts[1]}" if len(parts) >= 2 and parts[0] in ("A", "F") else (
                    f"{parts[1]} {parts[2]}" if len(parts) >= 3 and parts[1] in ("A", "F") else "")
                rows["orders"].append((g, s.index, rec.phase, n, unit, e.text, e.result,
                                       e.reason.code if e.reason else "",
                                       e.reason.text() if e.reason else "", e.by))
        state = s.after
        current = phase_name(ruleset, state)
    _board_rows(rows, ruleset, g, len(save.records), current, state, played=False, orders=0, nxt="")
    return rows


def _board_rows(rows: dict[str, list[tuple[Any, ...]]], ruleset: Ruleset, g: str, index: int,
                phase: str, st: GameState, *, played: bool, orders: int, nxt: str) -> None:
    rows["phases"].append((g, index, phase, st.year, st.season, st.phase, int(played), orders,
                           len(st.units), len(st.centres), canonical.state_digest(st), nxt,
                           st.winner or ""))
    for u in st.units:
        rows["units"].append((g, index, phase, u.nation, u.kind, u.loc, u.province, 0))
    for d in st.dislodged:
        rows["units"].append((g, index, phase, d.unit.nation, d.unit.kind, d.unit.loc, d.unit.province, 1))
    for c, n in st.centres:
        rows["centres"].append((g, index, phase, c, n))


def merge_rows(parts: Iterable[Mapping[str, Sequence[tuple[Any, ...]]]]) -> dict[str, list[tuple[Any, ...]]]:
    """Concatenate the tables of several games."""
    out: dict[str, list[tuple[Any, ...]]] = {name: [] for name in TABLES}
    for part in parts:
        for name in TABLES:
            out[name].extend(part.get(name, ()))
    return out


__all__ = [
    "SCHEMA", "Board", "boards", "board_at", "board_plain", "board_text", "export_plain",
    "export_json", "save_from_export", "TABLES", "table_rows", "merge_rows",
]
