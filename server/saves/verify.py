"""Re-adjudicate a save from its initial state and recorded orders (PURE).

:func:`replay_steps` walks the records with the engine: for each phase it checks the phase
id, reads every recorded order with :func:`~server.engine.notation.parse_order` (the text
must be canonical), adjudicates with :func:`~server.engine.turn.step`, and compares every
outcome and the digest of the resulting state with the record. ``rollback`` and ``board``
events move the board as the server did. The first disagreement raises :class:`SaveError`
naming the record index and phase. :func:`verify_bytes` adds the byte-level checks of
:func:`server.saves.format.parse` (strict) and returns a :class:`VerifyReport`.
"""

from __future__ import annotations

import hashlib
import weakref
from typing import Any, Callable, Iterator, Mapping

import attrs
import msgpack

from ..engine import canonical
from ..engine.errors import OrderSyntaxError, RulesetError, StateError
from ..engine.notation import format_order, parse_order
from ..engine.orders import Build, Convoy, Disband, Hold, Move, Order, Permit, Retreat, Support, Waive
from ..engine.outcome import Reason
from ..engine.ruleset import Ruleset, parse_ruleset
from ..engine.state import GameState, check_state, phase_name
from ..engine.turn import Turn, step_submitted
from .entries import _REASONS, RESULT_CODES, reason_from_plain
from .format import Bad, parse, plain_state
from .model import BOARD, ROLLBACK, EventRecord, Header, PhaseRecord, Problem, Record, Save, SaveError

InstalledRulesets = Callable[[str], "Ruleset | None"]
"""Looks up an installed ruleset by id; ``None`` if there is none."""

RulesetSource = Callable[[Header], Ruleset]
"""Gives the ruleset a save was played with, or raises :class:`SaveError` (header field)."""


def resolve_ruleset(
    header: Header,
    installed: InstalledRulesets,
    parse_files: Callable[[Mapping[str, str], str], Ruleset] = parse_ruleset,
) -> Ruleset:
    """The ruleset of a save: the embedded one, else the installed one with the same digest.

    Raises:
        SaveError: naming ``ruleset.files``, ``ruleset.digest`` or ``ruleset.id``.
    """
    if header.ruleset_files is not None:
        try:
            rs = parse_files(header.ruleset_files, f"(embedded {header.ruleset_id})")
        except RulesetError as e:
            raise SaveError(Problem("header", f"the embedded ruleset is invalid: {e}", field="ruleset.files")) from None
        if rs.digest != header.ruleset_digest:
            raise SaveError(Problem(
                "header", f"the embedded ruleset has digest {rs.digest[:16]}, the header says "
                f"{header.ruleset_digest[:16]}", field="ruleset.digest"))
        if rs.id != header.ruleset_id:
            raise SaveError(Problem("header", f"the embedded ruleset is {rs.id!r}", field="ruleset.id"))
        return rs
    found = installed(header.ruleset_id)
    if found is None:
        raise SaveError(Problem(
            "header", f"ruleset {header.ruleset_id!r} is neither embedded nor installed",
            field="ruleset.id"))
    if found.digest != header.ruleset_digest:
        raise SaveError(Problem(
            "header", f"the installed ruleset {header.ruleset_id!r} (digest {found.digest[:16]}) "
            f"is not the one this game was played with ({header.ruleset_digest[:16]})",
            field="ruleset.digest"))
    return found


# --- replay -----------------------------------------------------------------------------


@attrs.frozen
class Step:
    """One record replayed: the board before and after it, and for a phase the engine's turn."""

    index: int
    record: Record
    before: GameState
    after: GameState
    turn: Turn | None = None
    orders: Mapping[str, tuple[Order, ...]] = attrs.field(factory=dict)


_ORDER_CACHE: weakref.WeakKeyDictionary[Ruleset, dict[str, Order]] = weakref.WeakKeyDictionary()


_WORDS = frozenset({"a", "f", "h", "s", "c", "r", "d", "b", "sc", "via", "convoy", "waive", "to", "by", "m"})


def _location_ok(ruleset: Ruleset, loc: str) -> bool:
    prov, _, coast = loc.partition("/")
    p = ruleset.provinces.get(prov)
    return p is not None and prov not in _WORDS and (not coast or coast in p.coasts)


def _read_canonical(ruleset: Ruleset, text: str) -> Order | None:
    """The order whose canonical text (:func:`format_order`) is ``text``, read by splitting
    on spaces; ``None`` when ``text`` is not plainly canonical (then the full parser reads it)."""
    w = text.split(" ")
    n = len(w)
    order: Order | None = None
    if text == "waive":
        return Waive()
    if n == 3 and w[0] in ("B", "D") and w[1] in ("A", "F"):
        order = Build(w[1], w[2]) if w[0] == "B" else Disband(w[1], w[2])
        locs = [w[2]]
    elif n >= 3 and w[0] in ("A", "F"):
        unit, loc, verb = w[0], w[1], w[2]
        locs = [loc]
        if verb == "H" and n == 3:
            order = Hold(unit, loc)
        elif verb == "-" and n >= 4:
            rest = w[4:]
            convoy = rest[:2] == ["via", "convoy"]
            if convoy:
                rest = rest[2:]
            via = ""
            if len(rest) == 2 and rest[0] == "via" and rest[1] not in _WORDS:
                via, rest = rest[1], []
            if not rest:
                order = Move(unit, loc, w[3], via_convoy=convoy, via=via)
                locs.append(w[3])
        elif verb == "S" and n in (5, 7) and w[3] in ("A", "F"):
            if n == 5:
                order = Support(unit, loc, w[3], w[4])
                locs.append(w[4])
            elif w[5] == "-":
                order = Support(unit, loc, w[3], w[4], w[6])
                locs += [w[4], w[6]]
        elif verb == "C" and n == 7 and w[3] in ("A", "F") and w[5] == "-":
            order = Convoy(unit, loc, w[3], w[4], w[6])
            locs += [w[4], w[6]]
        elif verb == "R" and n == 4:
            order = Retreat(unit, loc, w[3])
            locs.append(w[3])
    elif n == 5 and w[0] == "SC" and w[1] in ("A", "F") and w[3] == "-":
        order = Permit(w[1], w[2], w[4])
        locs = [w[2], w[4]]
    if order is None or not all(_location_ok(ruleset, x) for x in locs) or format_order(order) != text:
        return None
    return order


def read_order(ruleset: Ruleset, text: str) -> Order:
    """Parse a recorded order (cached per ruleset: orders are frozen values).

    Raises:
        OrderSyntaxError: the text cannot be read.
        ValueError: the text reads but is not the canonical form of its order.
    """
    cache = _ORDER_CACHE.get(ruleset)
    if cache is None:
        cache = _ORDER_CACHE[ruleset] = {}
    order = cache.get(text)
    if order is None:
        order = _read_canonical(ruleset, text)  # checks format_order(order) == text itself
        if order is None:
            order = parse_order(text, ruleset)
            if format_order(order) != text:
                raise ValueError(f"order {text!r} is not in canonical form ({format_order(order)!r})")
        if len(cache) < 200_000:
            cache[text] = order
    return order


_FAST_DIGEST: list[bool] = []  # [] unknown, [True] the fast path matches canonical.state_digest


def state_digest(state: GameState) -> str:
    """:func:`canonical.state_digest`, faster.

    The canonical plain form of a state is a map of scalars and lists of scalars, so sorting
    its top-level keys and packing with msgpack gives the canonical bytes without
    :func:`canonical.encode`'s recursive walk. The first states seen are checked against
    :func:`canonical.state_digest`; if the engine's plain form ever changes shape, this falls
    back to it for good.
    """
    if _FAST_DIGEST == [False]:
        return canonical.state_digest(state)
    plain = canonical.state_plain(state)
    fast = hashlib.sha256(msgpack.packb({k: plain[k] for k in sorted(plain)}, use_bin_type=True)).hexdigest()
    if len(_FAST_DIGEST) < 3:
        slow = canonical.state_digest(state)
        if slow != fast:
            _FAST_DIGEST[:] = [False]
            return slow
        _FAST_DIGEST.append(True)
    return fast


def _describe(result: str, reason: Reason | None) -> str:
    return result if reason is None else f"{result} ({reason.text()})"


def check_header(ruleset: Ruleset, save: Save) -> None:
    """The header's nations and the initial state fit the ruleset (else SaveError)."""
    for k, n in enumerate(save.header.nation_ids):
        if n not in ruleset.nation_ids:
            raise SaveError(Problem("header", f"{n!r} is not a nation of {ruleset.id}", field=f"nations[{k}]"))
    try:
        check_state(ruleset, save.initial)
    except StateError as e:
        raise SaveError(Problem("initial state", str(e))) from None


def replay_steps(ruleset: Ruleset, save: Save) -> Iterator[Step]:
    """Replay every record with the engine, checking each against the record.

    Yields:
        One :class:`Step` per record, in order.

    Raises:
        SaveError: at the first record that does not replay, naming its index and phase.
    """
    check_header(ruleset, save)
    state = save.initial
    try:
        starts: list[tuple[str, GameState]] = [(phase_name(ruleset, state), state)]
    except (KeyError, ValueError) as e:
        raise SaveError(Problem("initial state", f"not a phase of {ruleset.id} ({e})")) from None
    for index, rec in enumerate(save.records):
        if isinstance(rec, PhaseRecord):
            try:
                turn, orders = _replay_phase(ruleset, state, index, rec)
            except SaveError:
                raise
            except Exception as e:  # untrusted content reached the engine: report, never crash
                raise SaveError(Problem("record", f"the engine cannot adjudicate this phase "
                                        f"({type(e).__name__}: {e})", index=index, phase=rec.phase)) from e
            yield Step(index, rec, state, turn.state, turn, orders)
            state = turn.state
            if state.winner is None:
                starts.append((phase_name(ruleset, state), state))
        else:
            try:
                after = _replay_event(ruleset, state, index, rec, starts)
                phase_name(ruleset, after)
            except SaveError:
                raise
            except Exception as e:  # a board event whose state the ruleset cannot place
                raise SaveError(Problem("record", f"{rec.event} event: unusable ({type(e).__name__}: {e})",
                                        index=index)) from e
            yield Step(index, rec, state, after)
            if after is not state:
                starts.append((phase_name(ruleset, after), after))
            state = after


def _replay_phase(ruleset: Ruleset, state: GameState, index: int, rec: PhaseRecord) -> tuple[Turn, dict[str, tuple[Order, ...]]]:
    def fail(message: str) -> SaveError:
        return SaveError(Problem("record", message, index=index, phase=rec.phase))

    if state.winner is not None:
        raise fail(f"the game was already over: {state.winner} had won")
    expected = phase_name(ruleset, state)
    if rec.phase != expected:
        raise fail(f"the game is at phase {expected}, not {rec.phase}")
    cache = _ORDER_CACHE.get(ruleset) or {}
    # step() adjudicates nations in sorted order, each nation's orders as given (turn.flatten)
    submitted: list[tuple[str, Order]] = []
    entries: list[tuple[Any, ...]] = []  # stored form (see entries.py): no object per order
    for nation, nation_entries in sorted(rec.entries_plain()):
        for e in nation_entries:
            text = e[0]
            order = cache.get(text)
            if order is None:
                try:
                    order = read_order(ruleset, text)
                except (OrderSyntaxError, ValueError) as err:
                    raise fail(f"{nation} order {text!r} cannot be read: {err}") from None
                cache = _ORDER_CACHE[ruleset]
            submitted.append((nation, order))
            entries.append(e)
    turn = step_submitted(ruleset, state, submitted)
    if len(turn.results) != len(entries):
        raise fail(f"the engine gave {len(turn.results)} outcomes for {len(entries)} orders")
    reasons = _REASONS
    for e, r in zip(entries, turn.results):
        rp = e[2] if len(e) > 2 else None
        reason = None if rp is None else (reasons.get(rp) or reason_from_plain(rp, "reason"))
        if r.result != RESULT_CODES[e[1]] or r.reason != reason:
            raise fail(f"outcome of {r.nation} {e[0]!r} differs: recorded "
                       f"{_describe(RESULT_CODES[e[1]], reason)}, the engine says {_describe(r.result, r.reason)}")
    digest = state_digest(turn.state)
    if digest != rec.digest:
        raise fail(f"state digest mismatch: the engine reaches {digest[:16]}, the record says "
                   f"{rec.digest[:16]}")
    orders: dict[str, tuple[Order, ...]] = {}
    for nation, order in submitted:
        orders[nation] = orders.get(nation, ()) + (order,)
    return turn, orders


def _replay_event(ruleset: Ruleset, state: GameState, index: int, rec: EventRecord,
                  starts: list[tuple[str, GameState]]) -> GameState:
    def fail(message: str) -> SaveError:
        return SaveError(Problem("record", f"{rec.event} event: {message}", index=index))

    if rec.event == ROLLBACK:
        to = rec.data.get("to")
        if not isinstance(to, str):
            raise fail("data.to must name a phase")
        for name, st in reversed(starts):
            if name == to:
                return st
        raise fail(f"no phase {to} to roll back to")
    if rec.event == BOARD:
        try:
            new = plain_state(rec.data.get("state"), "data.state")
            check_state(ruleset, new)
        except (Bad, StateError) as e:
            raise fail(str(e)) from None
        return new
    return state


# --- verify -------------------------------------------------------------------------------


@attrs.frozen
class VerifyReport:
    """The verdict on one save: ``problem`` is ``None`` when it verifies."""

    game_id: str
    phases: int
    records: int
    chain: str
    problem: Problem | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def verify_save(save: Save, ruleset: Ruleset, chain: str = "") -> VerifyReport:
    """Re-adjudicate a parsed save; ``chain`` is reported as is."""
    h = save.header
    try:
        for _ in replay_steps(ruleset, save):
            pass
    except SaveError as e:
        return VerifyReport(h.game_id, save.phase_count, len(save.records), chain, e.problem)
    return VerifyReport(h.game_id, save.phase_count, len(save.records), chain)


def verify_bytes(data: bytes, rulesets: RulesetSource) -> VerifyReport:
    """Strict check of a whole save file: bytes, chain, ruleset, and every phase re-adjudicated.

    Args:
        data: the file's bytes.
        rulesets: gives the save's ruleset from its header (see :func:`resolve_ruleset`).

    Returns:
        A report naming the first problem (record index and phase, or header field), if any.
    """
    parsed = parse(data, strict=True)
    if parsed.save is None or parsed.problems:
        problem = parsed.problems[0] if parsed.problems else Problem("file", "unreadable")
        return VerifyReport("", 0, 0, "", problem)
    save = parsed.save
    try:
        ruleset = rulesets(save.header)
    except SaveError as e:
        return VerifyReport(save.header.game_id, save.phase_count, len(save.records), parsed.final_chain, e.problem)
    return verify_save(save, ruleset, parsed.final_chain)


__all__ = [
    "InstalledRulesets", "RulesetSource", "resolve_ruleset", "Step", "read_order", "check_header",
    "replay_steps", "state_digest", "VerifyReport", "verify_save", "verify_bytes",
]
