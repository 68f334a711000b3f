"""Order notation: read the orders players type, write them back in canonical form.

The parser accepts the forms people actually write, in any case::

    A par - bur          A Paris -> Burgundy       A par moves to bur      Par - Bur (with units)
    A lon - bel via convoy                         A LON - NWY VIA         A mos - TSR - vla
    A tyr S A ven        F mar supports F gas to spa(nc)                   F nth C A lon - bel
    F tri R alb          D A pic   A pic disband   B A kie   F STP/NC B    waive   SC F med - red

and :func:`format_order` writes the one canonical form (``A par - bur``) that parses back to
the same order. Province names are matched through the ruleset's names table
(:func:`~server.engine.ruleset.normalise_name`): ids, names and aliases, multi-word names
(``North Sea``), and unambiguous prefixes (``Burg``); an exact match always wins over a
prefix. Text that cannot be read raises :class:`OrderSyntaxError` naming the 1-based column
of the offending token; an order that reads fine but is impossible is the adjudicator's
business, so ``A par - mos`` and ``B F stp`` parse.
"""

from __future__ import annotations

import bisect
import difflib
import re
import weakref
from typing import Iterable, Mapping

import attrs

from .errors import AmbiguousNameError, OrderSyntaxError
from .orders import (
    Build,
    Convoy,
    Disband,
    Hold,
    Move,
    Order,
    Permit,
    Retreat,
    Support,
    Waive,
)
from .ruleset import Ruleset, normalise_name, parse_ruleset, province_of

__all__ = ["format_order", "parse_location", "parse_order", "parse_orders"]

# --- vocabulary -------------------------------------------------------------------------

_UNIT_WORDS = {"a": "A", "f": "F", "army": "A", "fleet": "F"}
_HOLD = frozenset({"h", "hold", "holds", "stand", "stands"})
_MOVE_WORDS = frozenset({"to", "m", "move", "moves"})
_SUPPORT = frozenset({"s", "support", "supports"})
_CONVOY = frozenset({"c", "convoy", "convoys"})
_RETREAT = frozenset({"r", "retreat", "retreats"})
_DISBAND = frozenset({"d", "disband", "disbands", "remove", "removes"})
_BUILD = frozenset({"b", "build", "builds"})
_PERMIT = frozenset({"sc", "permit"})
_VIA = frozenset({"via", "by"})
_WAIVE = frozenset({"waive", "waives"})
# words that end a province name: a multi-word *prefix* match never swallows one of them
_KEYWORDS = frozenset(
    set(_UNIT_WORDS) | _HOLD | _MOVE_WORDS | _SUPPORT | _CONVOY | _RETREAT | _DISBAND
    | _BUILD | _PERMIT | _VIA | _WAIVE
)
# coast words -> coast id; the one-letter forms are only read after "/" or "("
_COAST_WORDS = {
    "nc": "nc", "north": "nc", "northern": "nc", "n": "nc",
    "sc": "sc", "south": "sc", "southern": "sc", "s": "sc",
    "ec": "ec", "east": "ec", "eastern": "ec", "e": "ec",
    "wc": "wc", "west": "wc", "western": "wc", "w": "wc",
}
_BARE_COASTS = frozenset({"nc", "sc", "ec", "wc"})
_DIRECTIONS = frozenset(
    {"north", "south", "east", "west", "northern", "southern", "eastern", "western"}
)
_IDENT = re.compile(r"^[a-z][a-z0-9_]{0,15}$")
_TOKEN = re.compile(r"(->|=>|\u2192|[-\u2013\u2014])|([/(),;])|([^\s/(),;\-\u2013\u2014\u2192]+)")
_MIN_PREFIX = 2


@attrs.frozen
class _Token:
    text: str
    low: str
    start: int  # 0-based offset in the parsed string
    end: int
    kind: str  # "arrow" | "sym" | "word"


def _tokenise(text: str) -> list[_Token]:
    out = []
    for m in _TOKEN.finditer(text):
        kind = "arrow" if m.group(1) else "sym" if m.group(2) else "word"
        s = m.group(0)
        out.append(_Token(s, s.lower(), m.start(), m.end(), kind))
    return out


@attrs.frozen(eq=False)
class _Tables:
    """Per-ruleset lookup tables, built once (see :func:`_tables`)."""

    names: Mapping[str, tuple[str, ...]]
    keys: tuple[str, ...]  # sorted normalised names, for prefix search
    max_words: int
    display: Mapping[str, str]  # province id -> name
    coasts: Mapping[str, tuple[str, ...]]


_TABLES: weakref.WeakKeyDictionary[Ruleset, _Tables] = weakref.WeakKeyDictionary()


def _tables(ruleset: Ruleset) -> _Tables:
    t = _TABLES.get(ruleset)
    if t is None:
        names = dict(ruleset.names)
        t = _Tables(
            names=names,
            keys=tuple(sorted(names)),
            max_words=max((len(k.split()) for k in names), default=1),
            display={pid: p.name for pid, p in ruleset.provinces.items()},
            coasts={pid: p.coasts for pid, p in ruleset.provinces.items()},
        )
        _TABLES[ruleset] = t
    return t


def _join_or(items: list[str]) -> str:
    """``['a']`` -> ``'a'``; ``['a', 'b', 'c']`` -> ``'a, b or c'``.

    >>> _join_or(["Paris"]), _join_or(["Paris", "Picardy", "Prussia"])
    ('Paris', 'Paris, Picardy or Prussia')
    """
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"


# --- the parser -------------------------------------------------------------------------


class _Parser:
    """A cursor over the tokens of one order (or one location)."""

    def __init__(
        self,
        source: str,
        ruleset: Ruleset,
        units: Mapping[str, tuple[str, str]] | None,
        text: str | None = None,
        column: int = 1,
    ) -> None:
        self.source = source
        self.text = source if text is None else text
        self.base = column  # column of source[0] within text
        self.toks = _tokenise(source)
        self.pos = 0
        self.t = _tables(ruleset)
        self.units = units

    # -- cursor -----------------------------------------------------------------------
    def peek(self, ahead: int = 0) -> _Token | None:
        i = self.pos + ahead
        return self.toks[i] if i < len(self.toks) else None

    def peek_low(self, ahead: int = 0) -> str:
        tok = self.peek(ahead)
        return tok.low if tok is not None else ""

    def take(self) -> _Token:
        tok = self.toks[self.pos]
        self.pos += 1
        return tok

    def col(self, tok: _Token) -> int:
        return self.base + tok.start

    def error(self, message: str, tok: _Token | None) -> OrderSyntaxError:
        """An error at ``tok``, or at the last token when the text ended early."""
        if tok is None:
            tok = self.toks[self.pos - 1] if self.pos else (self.toks[-1] if self.toks else None)
        return OrderSyntaxError(message, text=self.text, column=self.col(tok) if tok else self.base)

    def expect_end(self) -> None:
        tok = self.peek()
        if tok is not None:
            raise self.error(f"unexpected {tok.text!r}", tok)

    def is_arrow(self, ahead: int = 0) -> bool:
        tok = self.peek(ahead)
        return tok is not None and (tok.kind == "arrow" or tok.low in _MOVE_WORDS)

    def take_arrow(self) -> _Token | None:
        """Consume ``-``, ``->``, ``to``, ``m``, ``moves``, ``moves to``; None if absent."""
        if not self.is_arrow():
            return None
        tok = self.take()
        if tok.low in ("m", "move", "moves") and self.peek_low() == "to":
            tok = self.take()
        return tok

    # -- units --------------------------------------------------------------------------
    def take_unit(self) -> str | None:
        """``A``/``F``/``Army``/``Fleet`` -> ``"A"``/``"F"``; None (nothing consumed) if absent."""
        tok = self.peek()
        if tok is not None and tok.kind == "word" and tok.low in _UNIT_WORDS:
            self.pos += 1
            return _UNIT_WORDS[tok.low]
        return None

    def unit_from_board(self, loc: str, tok: _Token) -> str:
        if self.units is None:
            raise self.error("unit type missing: write A or F", tok)
        found = self.units.get(province_of(loc))
        if found is None:
            raise self.error(f"no unit in {province_of(loc)}: write A or F", tok)
        return found[0]

    def unit_and_location(self, *, fill: bool) -> tuple[str, str]:
        """``[A|F] location``; an omitted letter is taken from ``units`` when ``fill``."""
        unit = self.take_unit()
        before = self.pos
        first = self.peek()
        loc = self.location(after=self.toks[before - 1] if before else None)
        if unit is None:
            if not fill:
                raise self.error("unit type missing: write A or F", first)
            assert first is not None
            unit = self.unit_from_board(loc, first)
        return unit, loc

    # -- provinces and coasts -----------------------------------------------------------
    def _spans(self) -> list[tuple[int, str, bool]]:
        """Name candidates at the cursor: (end index, normalised key, holds a keyword).

        A span runs over word tokens, and over a ``-`` only when it is glued to words on
        both sides (``Mid-Atlantic``), so ``par - bur`` is never one name. Shortest first.
        """
        toks, i = self.toks, self.pos
        if i >= len(toks) or toks[i].kind != "word":
            return []
        words = [toks[i].low]
        keyword = toks[i].low in _KEYWORDS
        out = [(i + 1, normalise_name(words[0]), False)]
        j = i + 1
        while len(words) < self.t.max_words and j < len(toks):
            tok = toks[j]
            if (
                tok.text == "-"
                and toks[j - 1].end == tok.start
                and j + 1 < len(toks)
                and toks[j + 1].kind == "word"
                and toks[j + 1].start == tok.end
            ):
                nxt = toks[j + 1]
                j += 2
            elif tok.kind == "word":
                nxt = tok
                j += 1
            else:
                break
            words.append(nxt.low)
            keyword = keyword or nxt.low in _KEYWORDS
            out.append((j, normalise_name(" ".join(words)), keyword))
        return out

    def province(self, *, after: _Token | None) -> str:
        """Read a province name at the cursor; return its id."""
        tok = self.peek()
        spans = self._spans()
        names = self.t.names
        for end, key, _ in reversed(spans):  # exact match, longest first
            ids = names.get(key)
            if ids:
                if len(ids) > 1:
                    raise self.ambiguous(end, ids)
                self.pos = end
                return ids[0]
        if tok is None or not spans or tok.low in _KEYWORDS:
            where = f" after {after.text!r}" if after is not None else ""
            raise self.error(f"expected a province{where}", tok)
        keys = self.t.keys
        for end, key, keyword in reversed(spans):  # unambiguous prefix, longest first
            if len(key) < _MIN_PREFIX or (keyword and end - self.pos > 1):
                continue
            found = set()
            k = bisect.bisect_left(keys, key)
            while k < len(keys) and keys[k].startswith(key):
                found.update(names[keys[k]])
                k += 1
            if len(found) == 1:
                self.pos = end
                return found.pop()
            if found:
                raise self.ambiguous(end, found)
        raise self.error(self.unknown_message(tok, spans), tok)

    def is_province(self) -> bool:
        """Whether a province name (exact or prefix) starts at the cursor; consumes nothing."""
        start = self.pos
        try:
            self.province(after=None)
        except OrderSyntaxError:
            return False
        finally:
            self.pos = start
        return True

    def ambiguous(self, end: int, ids: Iterable[str]) -> AmbiguousNameError:
        first = self.toks[self.pos]
        name = self.source[first.start : self.toks[end - 1].end]
        return AmbiguousNameError(name, sorted(ids), text=self.text, column=self.col(first))

    def unknown_message(self, tok: _Token, spans: list[tuple[int, str, bool]]) -> str:
        suggestions = self.suggest(spans)
        msg = f"unknown province {tok.text!r}"
        return f"{msg}: did you mean {_join_or(suggestions)}?" if suggestions else msg

    def suggest(self, spans: list[tuple[int, str, bool]]) -> list[str]:
        """Up to three province names close to what was typed (difflib)."""
        scored: dict[str, float] = {}
        for n, (end, key, _) in enumerate(spans):
            last = self.toks[end - 1].low
            if n and (last in _KEYWORDS or normalise_name(last) in self.t.names):
                break  # "X par": par is a name of its own, not the end of a misspelt one
            for m in difflib.get_close_matches(key, self.t.keys, n=5, cutoff=0.7):
                score = difflib.SequenceMatcher(None, key, m).ratio()
                for pid in self.t.names[m]:
                    scored[pid] = max(scored.get(pid, 0.0), score)
        best = sorted(scored, key=lambda pid: (-scored[pid], pid))[:3]
        return [self.t.display[pid] for pid in best]

    def coast_word(self, pid: str, *, bracketed: bool) -> str:
        """Read ``nc`` / ``north`` / ``north coast`` (and ``n`` when bracketed)."""
        tok = self.peek()
        if tok is None or tok.kind != "word":
            raise self.error("expected a coast (nc, sc, ec or wc)", tok)
        own = self.t.coasts[pid]
        if tok.low in own:
            coast = tok.low
        elif tok.low in _COAST_WORDS and (bracketed or len(tok.low) > 1):
            coast = _COAST_WORDS[tok.low]
        else:
            raise self.error(f"unknown coast {tok.text!r}: write nc, sc, ec or wc", tok)
        self.pos += 1
        if self.peek_low() == "coast":
            self.pos += 1
        if coast not in own:
            if own:
                listed = ", ".join(own)
                raise self.error(f"{pid} has no {coast} coast: its coasts are {listed}", tok)
            raise self.error(f"{pid} has no coasts: write {pid} alone", tok)
        return coast

    def location(self, *, after: _Token | None) -> str:
        """``province``, ``province/coast``, ``province (coast)`` or ``province coast``."""
        pid = self.province(after=after)
        tok = self.peek()
        if tok is None:
            return pid
        if tok.text == "/":
            self.pos += 1
            return f"{pid}/{self.coast_word(pid, bracketed=True)}"
        if tok.text == "(":
            self.pos += 1
            coast = self.coast_word(pid, bracketed=True)
            close = self.peek()
            if close is None or close.text != ")":
                raise self.error("expected ')' after the coast", close)
            self.pos += 1
            return f"{pid}/{coast}"
        if tok.kind == "word" and (
            tok.low in _BARE_COASTS
            or (tok.low in _DIRECTIONS and self.t.coasts[pid])
            or (tok.low in self.t.coasts[pid] and len(tok.low) > 1 and tok.low not in _KEYWORDS)
        ):
            return f"{pid}/{self.coast_word(pid, bracketed=False)}"
        return pid

    # -- orders -------------------------------------------------------------------------
    def order(self) -> Order:
        first = self.peek()
        if first is None:
            raise OrderSyntaxError("empty order", text=self.text, column=self.base)
        low = first.low
        if first.kind == "word" and low in _WAIVE:
            self.pos += 1
            self.expect_end()
            return Waive()
        if first.kind == "word" and low in _PERMIT:
            self.pos += 1
            unit, loc = self.unit_and_location(fill=self.units is not None)
            arrow = self.take_arrow()
            if arrow is None:
                raise self.error(f"expected '-' after {loc!r}", self.peek())
            dest = self.location(after=arrow)
            self.expect_end()
            return Permit(unit, loc, dest)
        if first.kind == "word" and low in _BUILD:
            self.pos += 1
            unit, loc = self.unit_and_location(fill=False)
            self.expect_end()
            return Build(unit, loc)
        if first.kind == "word" and low in _DISBAND:
            self.pos += 1
            unit, loc = self.unit_and_location(fill=self.units is not None)
            self.expect_end()
            return Disband(unit, loc)
        unit = self.take_unit()
        if unit is None:
            if first.kind != "word" or (low in _KEYWORDS and low not in self.t.names):
                raise self.error(f"unknown order word {first.text!r}", first)
            spans = self._spans()
            try:
                loc = self.location(after=None)
            except OrderSyntaxError as e:
                unknown = type(e) is OrderSyntaxError and e.column == self.col(first)
                if unknown and not self.suggest(spans):
                    raise self.error(f"unknown order word {first.text!r}", first) from None
                raise
            unit = self.unit_from_board(loc, first)
        else:
            loc = self.location(after=self.toks[self.pos - 1])
        return self.action(unit, loc)

    def action(self, unit: str, loc: str) -> Order:
        tok = self.peek()
        if tok is None:
            raise self.error(f"order word missing after {loc!r}: write H, -, S, C, R, D or B", None)
        low = tok.low
        if self.is_arrow():
            return self.move(unit, loc)
        self.pos += 1
        if tok.kind != "word":
            raise self.error(f"unexpected {tok.text!r}", tok)
        if low in _HOLD:
            self.expect_end()
            return Hold(unit, loc)
        if low in _SUPPORT:
            return self.support(unit, loc, tok)
        if low in _CONVOY:
            return self.convoy(unit, loc, tok)
        if low in _RETREAT:
            return self.retreat(unit, loc, tok)
        if low in _DISBAND:
            self.expect_end()
            return Disband(unit, loc)
        if low in _BUILD:
            self.expect_end()
            return Build(unit, loc)
        raise self.error(f"unknown order word {tok.text!r}", tok)

    def move(self, unit: str, loc: str) -> Move:
        arrow = self.take_arrow()
        via = ""
        via_convoy = False
        # Colonial "A mos - TSR - vla": a short word that is not a province, between arrows
        word = self.peek()
        if (
            word is not None
            and word.kind == "word"
            and self.is_arrow(1)
            and _IDENT.match(word.low)
            and word.low not in _KEYWORDS
            and not self.is_province()
        ):
            self.pos += 1
            via = word.low
            arrow = self.take_arrow()
        dest = self.location(after=arrow)
        while self.peek_low() in _VIA:
            kw = self.take()
            what = self.peek()
            if what is None:
                if kw.low != "via":
                    raise self.error(f"expected 'convoy' after {kw.text!r}", kw)
                via_convoy = True
            elif what.low == "convoy":
                self.pos += 1
                via_convoy = True
            elif what.kind == "word" and _IDENT.match(what.low) and what.low not in _KEYWORDS:
                self.pos += 1
                via = what.low
            else:
                raise self.error(f"expected 'convoy' or a railway after {kw.text!r}", what)
        self.expect_end()
        return Move(unit, loc, dest, via_convoy=via_convoy, via=via)

    def target(self, after: _Token, *, default: str | None) -> tuple[str, str]:
        """The unit a support or convoy is for: ``[A|F] location``."""
        unit = self.take_unit()
        first = self.peek()
        loc = self.location(after=self.toks[self.pos - 1] if unit else after)
        if unit is None:
            assert first is not None
            unit = default or self.unit_from_board(loc, first)
        return unit, loc

    def support(self, unit: str, loc: str, word: _Token) -> Support:
        target_unit, target = self.target(word, default=None)
        dest = None
        if self.peek_low() in _HOLD:
            self.pos += 1
        else:
            arrow = self.take_arrow()
            if arrow is not None:
                dest = self.location(after=arrow)
        self.expect_end()
        return Support(unit, loc, target_unit, target, dest)

    def convoy(self, unit: str, loc: str, word: _Token) -> Convoy:
        target_unit, target = self.target(word, default="A")
        arrow = self.take_arrow()
        if arrow is None:
            raise self.error(f"expected '-' and the destination after {target!r}", self.peek())
        dest = self.location(after=arrow)
        self.expect_end()
        return Convoy(unit, loc, target_unit, target, dest)

    def retreat(self, unit: str, loc: str, word: _Token) -> Retreat:
        if self.peek_low() == "to":
            word = self.take()
        dest = self.location(after=word)
        tok = self.peek()
        if tok is not None and tok.low in _VIA:
            what = self.peek(1)
            how = what.text if what is not None else "convoy"
            raise self.error(f"a retreat cannot go {tok.low} {how}", tok)
        self.expect_end()
        return Retreat(unit, loc, dest)


# --- public API -------------------------------------------------------------------------


def parse_location(name: str, ruleset: Ruleset, *, text: str = "", column: int = 0) -> str:
    """Resolve a province name (id, name or alias, any case) with an optional coast.

    Args:
        name: ``stp/sc``, ``stp (sc)``, ``St Petersburg (south coast)``, ``Spain north coast``,
            or an unambiguous prefix such as ``Burg``.
        ruleset: the ruleset whose names are used.
        text: the whole order ``name`` was taken from, for error messages (default ``name``).
        column: 1-based column of ``name`` within ``text`` (default 1).

    Returns:
        The location: a province id, or ``prov/coast``.

    Raises:
        AmbiguousNameError: the name fits several provinces (candidates sorted).
        OrderSyntaxError: unknown name (with suggestions), unknown coast or trailing text.

    >>> rs = _example_ruleset()
    >>> parse_location("Paris", rs), parse_location("Spain (north coast)", rs)
    ('par', 'spa/nc')
    >>> parse_location("spa sc", rs), parse_location("Burg", rs)
    ('spa/sc', 'bur')
    >>> parse_location("Parsi", rs)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    server.engine.errors.OrderSyntaxError: unknown province 'Parsi': did you mean Paris? ...
    """
    p = _Parser(name, ruleset, None, text=text or name, column=column or 1)
    loc = p.location(after=None)
    p.expect_end()
    return loc


def parse_order(
    text: str, ruleset: Ruleset, *, units: Mapping[str, tuple[str, str]] | None = None
) -> Order:
    """Parse one order.

    Args:
        text: the order, e.g. ``A Paris -> Burgundy``; any case, surrounding space ignored.
        ruleset: the ruleset whose province names are used.
        units: optional ``{province id: (unit kind, location)}`` of the units on the board,
            used only to fill in an omitted unit letter (``Par - Bur``).

    Returns:
        One of the order values of :mod:`server.engine.orders`.

    Raises:
        OrderSyntaxError: the text cannot be read; ``column`` points at the offending token.
        AmbiguousNameError: a name fits several provinces.

    >>> rs = _example_ruleset()
    >>> parse_order("A Paris -> Burgundy", rs)
    Move(unit='A', loc='par', dest='bur', via_convoy=False, via='')
    >>> parse_order("F mao S F gas - spa(nc)", rs)
    Support(unit='F', loc='mao', target_unit='F', target='gas', dest='spa/nc')
    >>> parse_order("Par H", rs, units={"par": ("A", "par")})
    Hold(unit='A', loc='par')
    """
    return _Parser(text, ruleset, units).order()


def parse_orders(
    text: str, ruleset: Ruleset, *, units: Mapping[str, tuple[str, str]] | None = None
) -> list[tuple[int, str, Order | OrderSyntaxError]]:
    """Parse one order per line; never raises for a bad line.

    Blank lines and lines starting with ``#`` or ``//`` are skipped; each line is trimmed.

    Returns:
        ``(line number from 1, trimmed line, order or the OrderSyntaxError)`` per order line.

    >>> rs = _example_ruleset()
    >>> for n, line, got in parse_orders("# France\\nA par H\\n\\nA par - xyz", rs):
    ...     print(n, line, "->", got)
    2 A par H -> Hold(unit='A', loc='par')
    4 A par - xyz -> unknown province 'xyz' (column 9): 'A par - xyz'
    """
    out: list[tuple[int, str, Order | OrderSyntaxError]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#") or line.startswith("//"):
            continue
        try:
            result: Order | OrderSyntaxError = parse_order(line, ruleset, units=units)
        except OrderSyntaxError as e:
            result = e
        out.append((number, line, result))
    return out


def format_order(order: Order) -> str:
    """The canonical text of an order; :func:`parse_order` reads it back to ``order``.

    >>> format_order(Move("A", "lon", "bel", via_convoy=True))
    'A lon - bel via convoy'
    >>> format_order(Move("A", "mos", "vla", via="tsr"))
    'A mos - vla via tsr'
    >>> format_order(Support("F", "mar", "F", "gas", "spa/nc"))
    'F mar S F gas - spa/nc'
    >>> format_order(Support("A", "tyr", "A", "ven")), format_order(Hold("A", "par"))
    ('A tyr S A ven', 'A par H')
    >>> format_order(Convoy("F", "nth", "A", "lon", "bel"))
    'F nth C A lon - bel'
    >>> format_order(Retreat("F", "tri", "alb"))
    'F tri R alb'
    >>> format_order(Disband("A", "pic")), format_order(Build("F", "stp/nc"))
    ('D A pic', 'B F stp/nc')
    >>> format_order(Waive()), format_order(Permit("F", "med", "red"))
    ('waive', 'SC F med - red')
    """
    if isinstance(order, Hold):
        return f"{order.unit} {order.loc} H"
    if isinstance(order, Move):
        text = f"{order.unit} {order.loc} - {order.dest}"
        if order.via_convoy:
            text += " via convoy"
        if order.via:
            text += f" via {order.via}"
        return text
    if isinstance(order, Support):
        text = f"{order.unit} {order.loc} S {order.target_unit} {order.target}"
        return text if order.dest is None else f"{text} - {order.dest}"
    if isinstance(order, Convoy):
        return f"{order.unit} {order.loc} C {order.target_unit} {order.target} - {order.dest}"
    if isinstance(order, Retreat):
        return f"{order.unit} {order.loc} R {order.dest}"
    if isinstance(order, Disband):
        return f"D {order.unit} {order.loc}"
    if isinstance(order, Build):
        return f"B {order.unit} {order.loc}"
    if isinstance(order, Waive):
        return "waive"
    if isinstance(order, Permit):
        return f"SC {order.unit} {order.loc} - {order.dest}"
    raise TypeError(f"not an order: {order!r}")


# --- doctest support --------------------------------------------------------------------

_EXAMPLE_SCENARIO = """
id = "example"
name = "Example"
victory = { centres = 1 }
calendar = { seasons = [{ id = "spring", letter = "S", phases = ["movement"], ownership = true }] }
nations.france = { name = "France", colour = "#0055a4" }
start = { year = 1901, season = "spring" }
"""
_EXAMPLE_MAP = """
[provinces.par]
name = "Paris"
terrain = "land"
centre = true
anchor = [48.9, 2.3]
army = ["bur", "gas"]
[provinces.bur]
name = "Burgundy"
terrain = "land"
anchor = [47.0, 4.8]
army = ["par", "gas"]
[provinces.gas]
name = "Gascony"
terrain = "coast"
anchor = [44.0, 0.0]
army = ["par", "bur", "spa"]
fleet = ["mao", "spa/nc"]
[provinces.spa]
name = "Spain"
terrain = "coast"
anchor = [40.4, -3.7]
army = ["gas"]
fleet = { nc = ["gas", "mao"], sc = ["mao"] }
[provinces.mao]
name = "Mid-Atlantic Ocean"
aliases = ["Mid-Atlantic"]
terrain = "sea"
anchor = [44.0, -15.0]
fleet = ["gas", "spa/nc", "spa/sc"]
"""


def _example_ruleset() -> Ruleset:
    """A five-province ruleset for the examples in these docstrings."""
    global _EXAMPLE
    if _EXAMPLE is None:
        files = {"scenario.toml": _EXAMPLE_SCENARIO, "map.toml": _EXAMPLE_MAP}
        _EXAMPLE = parse_ruleset(files, "example")
    return _EXAMPLE


_EXAMPLE: Ruleset | None = None
