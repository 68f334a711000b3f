"""What a results post says about one adjudicated phase, before any markup (PURE).

:func:`phase_results` gathers it from a save and the replayed board of the phase
(:func:`server.saves.replay.board_at`); :mod:`server.render.post` turns it into BBCode,
Markdown, Discord messages or plain text. Every reason is the engine's
(:meth:`server.engine.outcome.Reason.text`), never re-derived here.

Times are text made at the edge (``Timing``): the save records no processing time for a
phase, so the caller (the CLI, later the server) passes what it knows.
"""

from __future__ import annotations

from typing import Any, Mapping

import attrs

from ..engine.adjustments import centre_counts
from ..engine.notation import parse_order
from ..engine.orders import Build, Waive
from ..engine.ruleset import Ruleset, province_of
from ..engine.state import GameState, phase_name
from ..saves.model import EventRecord, PhaseRecord, Save
from ..saves.replay import Board


@attrs.frozen
class Timing:
    """Times as display text, made at the edge; ``None`` leaves the line out."""

    processed: str | None = None
    deadline_utc: str | None = None
    deadline_local: str | None = None  # e.g. "2026-01-04 13:00 CET (Europe/Paris)"


@attrs.frozen
class OrderLine:
    """One order with its result: ``OrderLine("A par - bur", "fails", "bounced at bur")``."""

    text: str
    result: str
    reason: str | None = None
    by: str = ""


@attrs.frozen
class NationOrders:
    nation: str
    name: str
    player: str | None
    orders: tuple[OrderLine, ...]


@attrs.frozen
class DislodgedLine:
    nation: str  # the nation's name
    unit: str  # "A ser"
    attacked_from: str
    options: tuple[str, ...]


@attrs.frozen
class CentreRow:
    nation: str
    name: str
    player: str | None
    before: int
    after: int
    units: int

    @property
    def change(self) -> int:
        return self.after - self.before


@attrs.frozen
class Results:
    """Everything a results post shows, as plain values (see :func:`phase_results`)."""

    game_id: str
    title: str
    ruleset: str
    phase: str  # "S1901M"
    phase_name: str  # "Spring 1901, movement"
    digest: str
    headlines: tuple[str, ...]
    orders: tuple[NationOrders, ...]
    dislodged: tuple[DislodgedLine, ...]
    centres: tuple[CentreRow, ...]
    victory: int
    next_phase: str | None
    next_phase_name: str | None
    winner: str | None
    housekeeping: tuple[str, ...]
    timing: Timing = Timing()


def long_phase(ruleset: Ruleset, state: GameState) -> str:
    """``"Spring 1901, movement"``."""
    return f"{ruleset.season(state.season).name} {state.year}, {state.phase}"


def _pname(ruleset: Ruleset, loc: str) -> str:
    p = ruleset.provinces.get(province_of(loc))
    return p.name if p is not None else loc


def _nname(ruleset: Ruleset, nation: str) -> str:
    try:
        return ruleset.nation(nation).name
    except (KeyError, ValueError):
        return nation or "nobody"


def _headlines(ruleset: Ruleset, board: Board) -> tuple[str, ...]:
    assert board.turn is not None
    out = []
    for ev in board.turn.events:
        who = _nname(ruleset, ev.nation)
        if ev.code == "captured":
            frm = f"from {_nname(ruleset, ev.detail)}" if ev.detail else "neutral"
            out.append(f"{who} captures {_pname(ruleset, ev.at)} ({frm})")
        elif ev.code == "dislodged":
            out.append(f"{who} is dislodged from {_pname(ruleset, ev.at)} "
                       f"(attack from {_pname(ruleset, ev.detail)})")
        elif ev.code == "disbanded":
            out.append(f"{who} loses the unit in {_pname(ruleset, ev.at)} (disbanded)")
        elif ev.code == "built":
            kind = "an army" if ev.detail == "A" else "a fleet"
            out.append(f"{who} builds {kind} in {_pname(ruleset, ev.at)}")
        elif ev.code == "removed":
            kind = "army" if ev.detail == "A" else "fleet"
            out.append(f"{who} removes the {kind} in {_pname(ruleset, ev.at)}")
        elif ev.code == "eliminated":
            out.append(f"{who} is eliminated")
        elif ev.code == "victory":
            out.append(f"{who} wins the game with {ev.detail} supply centres")
        else:
            out.append(f"{ev.code}: {who} {ev.at} {ev.detail}".strip())
    return tuple(out)


def _ordered_locs(ruleset: Ruleset, texts: list[str]) -> set[str]:
    out = set()
    for t in texts:
        try:
            o = parse_order(t, ruleset)
        except ValueError:
            continue
        loc = getattr(o, "loc", None)
        if loc is not None and not isinstance(o, Build):
            out.add(province_of(loc))
    return out


def _event_text(ruleset: Ruleset, ev: EventRecord) -> str | None:
    why = f" ({ev.reason})" if ev.reason else ""
    by = ev.by or "the host"
    d: Mapping[str, Any] = ev.data
    if ev.event == "replacement":
        return (f"{_nname(ruleset, str(d.get('nation', '')))}: {d.get('old') or 'nobody'} replaced by "
                f"{d.get('new') or 'nobody'}{why}")
    if ev.event == "pause":
        return f"Game paused by {by}{why}"
    if ev.event == "resume":
        return f"Game resumed by {by}{why}"
    if ev.event == "extend":
        secs = int(d.get("seconds", 0) or 0)
        span = f"{secs // 3600} h" if secs % 3600 == 0 else f"{secs // 60} min"
        return f"Deadline extended by {span} by {by}{why}"
    if ev.event == "rollback":
        return f"Rolled back to {d.get('to')} by {by}{why}"
    if ev.event == "board":
        return f"Board set by {by}{why}"
    if ev.event == "note":
        return _note_text(ruleset, ev.data.get("kind"), d, by, why)
    return None  # press is not housekeeping


def _note_text(ruleset: Ruleset, kind: Any, d: Mapping[str, Any], by: str, why: str) -> str | None:
    """The server's other history entries (exported as notes naming their kind)."""
    nation = _nname(ruleset, str(d.get("nation", ""))) if d.get("nation") else ""
    if kind is None:
        return f"Note from {by}{why}"
    if kind == "process":
        return f"Processed before the deadline by {by}{why}"
    if kind == "enter_orders":
        return f"{nation}'s orders entered by {by}{why}"
    if kind == "advertise":
        return f"{nation}'s seat {'open to a standby player' if d.get('open', True) else 'no longer advertised'}"
    if kind == "absence":
        return f"{nation}'s player declared an absence"
    if kind in ("draw", "concession"):
        return "The game ended in a draw by vote" if kind == "draw" else \
            f"The game ended by concession to {_nname(ruleset, str(d.get('winner', '')))}"
    return None  # previews, exports, the summary: not news for a results post


def _housekeeping(ruleset: Ruleset, save: Save, board: Board) -> tuple[str, ...]:
    assert board.record is not None and board.turn is not None and board.index is not None
    out: list[str] = []
    st = board.state
    entries = dict(board.record.orders)
    for n in ruleset.nation_ids:
        texts = [e.text for e in entries.get(n, ())]
        name = _nname(ruleset, n)
        if st.phase == "movement":
            units = [u for u in st.units if u.nation == n]
            done = _ordered_locs(ruleset, texts)
            missed = [f"{u.kind} {u.loc}" for u in units if u.province not in done]
            if missed and not texts:
                out.append(f"{name} sent no orders: {', '.join(missed)} held")
            elif missed:
                out.append(f"{name} gave no order to {', '.join(missed)} (held)")
        elif st.phase == "retreat":
            done = _ordered_locs(ruleset, texts)
            missed = [f"{d.unit.kind} {d.unit.loc}" for d in st.dislodged
                      if d.unit.nation == n and d.unit.province not in done]
            if missed:
                out.append(f"{name} gave no retreat to {', '.join(missed)} (disbanded)")
        host = [e.text for e in entries.get(n, ()) if e.by]
        if host:
            who = sorted({e.by for e in entries.get(n, ()) if e.by})
            out.append(f"{name}: {len(host)} order{'s' if len(host) > 1 else ''} entered by "
                       f"{', '.join(who)}: {'; '.join(host)}")
    if st.phase == "adjustment":
        counts = centre_counts(ruleset, st.centres)
        for n in ruleset.nation_ids:
            due = counts[n] - sum(1 for u in st.units if u.nation == n)
            orders = [t for t in (e.text for e in entries.get(n, ()))]
            if due > 0:
                used = sum(1 for t in orders if _is_build_or_waive(ruleset, t))
                if used < due:
                    out.append(f"{_nname(ruleset, n)} left {due - used} build{'s' if due - used > 1 else ''} "
                               f"unused (waived)")
        for u in board.turn.civil_disorder:
            out.append(f"{_nname(ruleset, u.nation)} ordered too few removals: civil disorder "
                       f"removes {u.kind} {u.loc}")
    # host actions logged since the previous phase, and before the next one
    prev = max((i for i in range(board.index) if isinstance(save.records[i], PhaseRecord)), default=-1)
    nxt = next((i for i in range(board.index + 1, len(save.records))
                if isinstance(save.records[i], PhaseRecord)), len(save.records))
    press = 0
    for i in range(prev + 1, nxt):
        rec = save.records[i]
        if not isinstance(rec, EventRecord):
            continue
        if rec.event == "press":
            press += 1
            continue
        text = _event_text(ruleset, rec)
        if text:
            out.append(text + (" (after processing)" if i > board.index else ""))
    if press:
        out.append(f"{press} press message{'s' if press > 1 else ''} released")
    return tuple(out)


def _is_build_or_waive(ruleset: Ruleset, text: str) -> bool:
    try:
        return isinstance(parse_order(text, ruleset), (Build, Waive))
    except ValueError:
        return False


def _players(save: Save, upto: int) -> dict[str, str | None]:
    """Each nation's player at record ``upto``: the header's, then every replacement."""
    players = dict(save.header.nations)
    for rec in save.records[:upto]:
        if isinstance(rec, EventRecord) and rec.event == "replacement":
            n = rec.data.get("nation")
            if isinstance(n, str) and n in players:
                new = rec.data.get("new")
                players[n] = new if isinstance(new, str) and new else None
    return players


def phase_results(ruleset: Ruleset, save: Save, board: Board, timing: Timing = Timing()) -> Results:
    """The results of the phase played from ``board``.

    Raises:
        ValueError: ``board`` is the final board (no phase was played from it).
    """
    if board.record is None or board.turn is None or board.index is None:
        raise ValueError(f"no phase was played from {board.phase}: pick an earlier phase")
    st, turn = board.state, board.turn
    players = _players(save, board.index)
    given = dict(board.record.orders)
    alive = {u.nation for u in st.units} | {d.unit.nation for d in st.dislodged} | {n for _, n in st.centres}
    orders = []
    for n in ruleset.nation_ids:
        if n not in given and n not in alive:
            continue  # out of the game
        lines = tuple(OrderLine(e.text, e.result, e.reason.text() if e.reason else None, e.by)
                      for e in given.get(n, ()))
        orders.append(NationOrders(n, _nname(ruleset, n), players.get(n), lines))
    dislodged = tuple(
        DislodgedLine(_nname(ruleset, d.unit.nation), f"{d.unit.kind} {d.unit.loc}", d.attacker_from, opts)
        for d, opts in turn.retreat_options)
    before = centre_counts(ruleset, st.centres)
    after = centre_counts(ruleset, turn.state.centres)
    units = {n: 0 for n in ruleset.nation_ids}
    for u in turn.state.units:
        units[u.nation] += 1
    rows = tuple(CentreRow(n, _nname(ruleset, n), players.get(n), before[n], after[n], units[n])
                 for n in ruleset.nation_ids)
    rows = tuple(sorted(rows, key=lambda r: (-r.after, r.name)))
    winner = turn.state.winner
    return Results(
        game_id=save.header.game_id, title=save.header.title, ruleset=ruleset.name,
        phase=board.phase, phase_name=long_phase(ruleset, st), digest=board.record.digest,
        headlines=_headlines(ruleset, board), orders=tuple(orders), dislodged=dislodged,
        centres=rows, victory=ruleset.victory_centres,
        next_phase=None if winner else phase_name(ruleset, turn.state),
        next_phase_name=None if winner else long_phase(ruleset, turn.state),
        winner=_nname(ruleset, winner) if winner else None,
        housekeeping=_housekeeping(ruleset, save, board), timing=timing)


__all__ = ["Timing", "OrderLine", "NationOrders", "DislodgedLine", "CentreRow", "Results",
           "phase_results", "long_phase"]
