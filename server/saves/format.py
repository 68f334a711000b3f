"""The ``.kessen`` byte format: canonical msgpack frames linked by a SHA-256 chain (PURE).

Layout (see SAVES.md for the full schema)::

    b"KESSEN" + u16 format version (big-endian)
    frame 0    header          {"kind": "header", ..., "chain"}
    frame 1    initial state   {"kind": "initial", "state", "chain"}
    frame 2..  records         {"kind": "phase"|"event", "i": record index, ..., "chain"}
    last       trailer         {"kind": "end", "records": count, "chain": final chain}

Each frame is a u32 big-endian length and the canonical msgpack of one map
(:func:`server.engine.canonical.encode`: sorted keys, no floats, no extension types). The
chain of a frame is ``sha256(previous chain || canonical bytes of the frame without its
"chain" key)``; the header's previous chain is the 8 bytes of magic and version. So an altered, removed,
duplicated, reordered or inserted frame breaks the chain at its own index, a bit flip that
breaks decoding is reported for the frame it falls in, and the trailer catches a file cut
at a frame boundary.

:class:`SaveEncoder` writes a save frame by frame (streaming: a server appends records and
rewrites only the trailer); :func:`parse` reads one back, collecting every problem it finds
(forgiving) or stopping at the first (strict).
"""

from __future__ import annotations

import hashlib
import struct
import sys
from typing import Any, Iterator, Mapping, Sequence

import attrs
import msgpack

from ..engine import canonical
from ..engine.state import GameState
from .entries import (
    REASON_CODES,
    RESULT_CODES,
    SEQ,
    Bad,
    check_entry,
    entry_plain,
    entry_values,
    reason_from_plain,
    reason_plain,
)
from .model import (
    FORMAT_VERSION,
    EventRecord,
    Header,
    PhaseRecord,
    Problem,
    Record,
    Save,
)

MAGIC = b"KESSEN"
_VERSION = struct.Struct(">H")
_LENGTH = struct.Struct(">I")
PREFIX_LEN = len(MAGIC) + _VERSION.size
MAX_FRAME = 64 << 20  # a longer frame is corruption, not a game

_INT_MIN, _INT_MAX = -(1 << 63), (1 << 64) - 1


# --- plain data ---------------------------------------------------------------------------


def check_plain(value: Any, field: str) -> None:
    """Raise :class:`Bad` unless ``value`` is canonical plain data (no floats, bytes, ext).

    >>> check_plain({"a": [1, "x", None, True]}, "settings")
    >>> check_plain({"a": 1.5}, "settings")
    Traceback (most recent call last):
    server.saves.entries.Bad: settings.a: floats are not allowed
    """
    if value is None or isinstance(value, (bool, str)):
        return
    if isinstance(value, int):
        if not _INT_MIN <= value <= _INT_MAX:
            raise Bad("integer out of the 64-bit range", field)
        return
    if isinstance(value, float):
        raise Bad("floats are not allowed", field)
    if isinstance(value, (list, tuple)):
        for k, v in enumerate(value):
            check_plain(v, f"{field}[{k}]")
        return
    if isinstance(value, Mapping):
        for k, v in value.items():
            if not isinstance(k, str):
                raise Bad("map keys must be strings", field)
            check_plain(v, f"{field}.{k}")
        return
    raise Bad(f"{type(value).__name__} values are not allowed", field)


def _thaw(value: Any) -> Any:
    """Plain data with tuples as lists and maps as dicts (what decoding gives back)."""
    if isinstance(value, Mapping):
        return {k: _thaw(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_thaw(v) for v in value]
    return value


def _need(p: Mapping[str, Any], key: str, typ: type | tuple[type, ...], field: str) -> Any:
    if key not in p:
        raise Bad("missing", f"{field}{key}")
    v = p[key]
    if not isinstance(v, typ) or (isinstance(v, bool) and typ in (int, (int, type(None)))):
        raise Bad(f"expected {_typename(typ)}, found {type(v).__name__}", f"{field}{key}")
    return v


def _typename(typ: type | tuple[type, ...]) -> str:
    if isinstance(typ, tuple):
        return " or ".join(t.__name__ for t in typ)
    return typ.__name__


def _keys(p: Mapping[str, Any], allowed: Sequence[str], field: str) -> None:
    extra = sorted(set(p) - set(allowed))
    if extra:
        raise Bad(f"unknown key {extra[0]!r}", field.rstrip(".") or None)


# --- header -------------------------------------------------------------------------------


def header_plain(h: Header) -> dict[str, Any]:
    """The canonical plain form of a header (without its chain)."""
    files = None if h.ruleset_files is None else {k: h.ruleset_files[k] for k in sorted(h.ruleset_files)}
    plain = {
        "kind": "header",
        "format": h.format,
        "engine": h.engine,
        "ruleset": {"id": h.ruleset_id, "digest": h.ruleset_digest, "files": files},
        "game": h.game_id,
        "title": h.title,
        "nations": [[n, p] for n, p in h.nations],
        "settings": _thaw(h.settings),
        "created": h.created,
        "seed": h.seed,
    }
    check_plain(plain, "header")
    return plain


_HEADER_KEYS = ("kind", "format", "engine", "ruleset", "game", "title", "nations", "settings", "created", "seed", "chain")


def header_from_plain(p: Any) -> Header:
    """Inverse of :func:`header_plain`; raises :class:`Bad` naming the header field."""
    if not isinstance(p, dict) or p.get("kind") != "header":
        raise Bad("not a header frame", "kind")
    _keys(p, _HEADER_KEYS, "")
    fmt = _need(p, "format", int, "")
    engine = _need(p, "engine", str, "")
    rs = _need(p, "ruleset", dict, "")
    _keys(rs, ("id", "digest", "files"), "ruleset.")
    rid = _need(rs, "id", str, "ruleset.")
    digest = _need(rs, "digest", str, "ruleset.")
    files = _need(rs, "files", (dict, type(None)), "ruleset.")
    if files is not None:
        for k, v in files.items():
            if not isinstance(v, str):
                raise Bad("file text must be a string", f"ruleset.files.{k}")
    nations_p = _need(p, "nations", SEQ, "")
    nations = []
    for k, item in enumerate(nations_p):
        if not (isinstance(item, SEQ) and len(item) == 2 and isinstance(item[0], str)
                and (item[1] is None or isinstance(item[1], str))):
            raise Bad("expected [nation id, player name or null]", f"nations[{k}]")
        nations.append((item[0], item[1]))
    if len({n for n, _ in nations}) != len(nations):
        raise Bad("a nation is listed twice", "nations")
    settings = _need(p, "settings", dict, "")
    check_plain(settings, "settings")
    settings = _thaw(settings)
    created = _need(p, "created", int, "")
    seed = _need(p, "seed", (int, type(None)), "")
    return Header(
        game_id=_need(p, "game", str, ""), title=_need(p, "title", str, ""),
        ruleset_id=rid, ruleset_digest=digest, nations=tuple(nations), created=created,
        seed=seed, settings=settings, ruleset_files=files, engine=engine, format=fmt,
    )


# --- records ------------------------------------------------------------------------------


def record_plain(index: int, rec: Record, nations: Sequence[str]) -> dict[str, Any]:
    """The canonical plain form of record ``index`` (without its chain)."""
    if isinstance(rec, PhaseRecord):
        by_nation = dict(rec.entries_plain())
        unknown = sorted(set(by_nation) - set(nations))
        if unknown:
            raise Bad(f"orders for {unknown[0]!r}, not a nation of this game", "orders")
        try:
            digest = bytes.fromhex(rec.digest)
        except ValueError:
            raise Bad("state digest is not hex", "digest") from None
        if len(digest) != 32:
            raise Bad("a state digest has 32 bytes", "digest")
        return {
            "kind": "phase", "i": index, "phase": rec.phase,
            "orders": [by_nation.get(n, ()) for n in nations],
            "digest": digest,
        }
    plain = {
        "kind": "event", "i": index, "event": rec.event, "by": rec.by, "reason": rec.reason,
        "time": rec.time, "data": _thaw(rec.data),
    }
    check_plain(plain, "event")
    return plain


def record_from_plain(p: Any, nations: Sequence[str]) -> Record:
    """Inverse of :func:`record_plain` (the index is checked by the caller)."""
    kind = p.get("kind")
    if kind == "phase":
        _keys(p, ("kind", "i", "phase", "orders", "digest", "chain"), "")
        phase = _need(p, "phase", str, "")
        orders_p = _need(p, "orders", SEQ, "")
        if len(orders_p) != len(nations):
            raise Bad(f"{len(orders_p)} order lists for {len(nations)} nations", "orders")
        packed = []  # PhaseRecord's in-memory form: the stored entries paired with nations
        for n, lst in zip(nations, orders_p):
            if not isinstance(lst, SEQ):
                raise Bad("expected a list of orders", f"orders.{n}")
            for k, e in enumerate(lst):
                check_entry(e, f"orders.{n}[{k}]")
            if lst:
                packed.append((n, lst))
        digest = _need(p, "digest", bytes, "")
        if len(digest) != 32:
            raise Bad("a state digest has 32 bytes", "digest")
        return PhaseRecord(sys.intern(phase), msgpack.packb(packed, use_bin_type=True), digest.hex())
    if kind == "event":
        _keys(p, ("kind", "i", "event", "by", "reason", "time", "data", "chain"), "")
        data = _need(p, "data", dict, "")
        check_plain(data, "data")
        data = _thaw(data)
        return EventRecord(
            _need(p, "event", str, ""), _need(p, "by", str, ""), _need(p, "reason", str, ""),
            _need(p, "time", (int, type(None)), ""), data,
        )
    raise Bad(f"unknown record kind {kind!r}", "kind")


def state_frame_plain(state: GameState) -> dict[str, Any]:
    return {"kind": "initial", "state": canonical.state_plain(state)}


def state_from_frame(p: Any) -> GameState:
    if p.get("kind") != "initial":
        raise Bad("expected the initial state frame", "kind")
    _keys(p, ("kind", "state", "chain"), "")
    return plain_state(_need(p, "state", dict, ""), "state")


def plain_state(p: Any, field: str) -> GameState:
    """:func:`canonical.state_from_plain` that raises :class:`Bad` and checks canonical order."""
    check_plain(p, field)
    try:
        state = canonical.state_from_plain(p)
        same = canonical.encode(canonical.state_plain(state)) == canonical.encode(p)
    except (KeyError, TypeError, ValueError, AttributeError):
        raise Bad("not a game state", field) from None
    if not same:
        raise Bad("game state not in canonical form", field)
    return state


# --- frames and the chain -----------------------------------------------------------------


def _start_chain() -> bytes:
    return MAGIC + _VERSION.pack(FORMAT_VERSION)


def link(prev: bytes, body: bytes) -> bytes:
    """The chain value of a frame whose canonical bytes (without "chain") are ``body``."""
    return hashlib.sha256(prev + body).digest()


def _frame(plain: dict[str, Any], prev: bytes) -> tuple[bytes, bytes]:
    body = canonical.encode(plain)
    chain = link(prev, body)
    data = canonical.encode({**plain, "chain": chain})
    return _LENGTH.pack(len(data)) + data, chain


class SaveEncoder:
    """Writes a save frame by frame (sans-I/O: returns bytes for the caller to write).

    >>> from server.engine.state import GameState
    >>> enc = SaveEncoder(Header("g1", "Demo", "demo", "00" * 32, (("france", None),), 0),
    ...                   GameState.build(1901, "spring", "movement", (), ()))
    >>> data = enc.prelude() + enc.trailer()
    >>> data[:6], enc.count
    (b'KESSEN', 0)
    """

    def __init__(self, header: Header, initial: GameState) -> None:
        self.header, self.initial = header, initial
        self._nations = header.nation_ids
        self._chain = _start_chain()
        self.count = 0

    @property
    def chain(self) -> str:
        """The chain value so far (hex)."""
        return self._chain.hex()

    def prelude(self) -> bytes:
        """Magic, header and initial-state frames; call once, first."""
        head, self._chain = _frame(header_plain(self.header), self._chain)
        init, self._chain = _frame(state_frame_plain(self.initial), self._chain)
        return _start_chain() + head + init

    def record(self, rec: Record) -> bytes:
        """The frame of the next record."""
        data, self._chain = _frame(record_plain(self.count, rec, self._nations), self._chain)
        self.count += 1
        return data

    def trailer(self) -> bytes:
        """The trailer frame for the records written so far (rewrite it after appending)."""
        data = canonical.encode({"kind": "end", "records": self.count, "chain": self._chain})
        return _LENGTH.pack(len(data)) + data


def to_bytes(save: Save) -> bytes:
    """The whole save as bytes."""
    enc = SaveEncoder(save.header, save.initial)
    parts = [enc.prelude()]
    parts.extend(enc.record(r) for r in save.records)
    parts.append(enc.trailer())
    return b"".join(parts)


# --- reading ------------------------------------------------------------------------------


@attrs.frozen
class Parsed:
    """What :func:`parse` read: the save (``None`` if the header or initial state is
    unreadable), every problem found, and the chain values (hex) of the records read."""

    save: Save | None
    problems: tuple[Problem, ...]
    chains: tuple[str, ...] = ()
    final_chain: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems


class _Stop(Exception):
    pass


class _Unsorted(ValueError):
    pass


def _sorted_map(pairs: list[tuple[Any, Any]]) -> dict[Any, Any]:
    """``object_pairs_hook``: a map whose keys are strings in strictly increasing order."""
    prev = None
    for k, _ in pairs:
        if type(k) is not str or (prev is not None and not prev < k):
            raise _Unsorted
        prev = k
    return dict(pairs)


class _Reader:
    def __init__(self, data: bytes, strict: bool) -> None:
        self.data, self.strict = data, strict
        self.problems: list[Problem] = []

    def add(self, problem: Problem) -> None:
        self.problems.append(problem)
        if self.strict:
            raise _Stop

    def frames(self) -> Iterator[tuple[int, bytes | None]]:
        """``(frame number, payload)``; payload None for a frame cut short (then stops)."""
        data, pos, k = self.data, PREFIX_LEN, 0
        while pos < len(data):
            if len(data) - pos < _LENGTH.size:
                yield k, None
                return
            (n,) = _LENGTH.unpack_from(data, pos)
            pos += _LENGTH.size
            if n > MAX_FRAME or n > len(data) - pos:
                yield k, None
                return
            yield k, data[pos:pos + n]
            pos += n
            k += 1

    def where(self, k: int, phase: str | None = None, trailer: bool = False) -> tuple[str, dict[str, Any]]:
        if trailer:
            return "trailer", {}
        if k == 0:
            return "header", {}
        if k == 1:
            return "initial state", {}
        return "record", {"index": k - 2, "phase": phase}

    def decode(self, k: int, payload: bytes) -> dict[str, Any] | None:
        """Decode one frame and check it is canonical; None (problem added) if not.

        Canonical means: every map's keys are strings in strictly increasing order (checked
        as the map is decoded) and re-encoding the decoded value gives the same bytes
        (minimal integer and length encodings, str/bin as written). Floats and extension
        types are refused by the schema checks that follow.
        """
        where, kw = self.where(k)
        try:
            obj = msgpack.unpackb(payload, raw=False, strict_map_key=True, use_list=False,
                                  object_pairs_hook=_sorted_map)
        except _Unsorted:
            self.add(Problem(where, "corrupt: not in canonical form (map keys out of order)", **kw))
            return None
        except Exception as e:  # msgpack raises many types on garbage; all mean "corrupt"
            self.add(Problem(where, f"cannot be decoded ({type(e).__name__}): corrupt", **kw))
            return None
        if not isinstance(obj, dict):
            self.add(Problem(where, "corrupt: a frame holds a map", **kw))
            return None
        try:
            canon = msgpack.packb(obj, use_bin_type=True) == payload
        except (TypeError, ValueError, OverflowError) as e:
            self.add(Problem(where, f"corrupt: {e}", **kw))
            return None
        if not canon:
            self.add(Problem(where, "corrupt: not in canonical form", **kw))
            return None
        return obj

    def chain_of(self, obj: dict[str, Any], prev: bytes) -> tuple[bytes, bytes | None]:
        """(computed chain, stored chain or None if missing/malformed).

        ``obj`` passed :meth:`decode`, so its keys are sorted and plain ``packb`` gives the
        canonical bytes (:func:`canonical.encode` would give the same, more slowly).
        """
        body = msgpack.packb({k: v for k, v in obj.items() if k != "chain"}, use_bin_type=True)
        stored = obj.get("chain")
        return link(prev, body), stored if isinstance(stored, bytes) and len(stored) == 32 else None

    def run(self) -> Parsed:
        try:
            return self._run()
        except _Stop:
            return Parsed(None, tuple(self.problems))

    def _run(self) -> Parsed:
        data = self.data
        if len(data) < PREFIX_LEN or data[:len(MAGIC)] != MAGIC:
            if data[:len(MAGIC)] == MAGIC[:len(data)] and len(data) < PREFIX_LEN:
                self.add(Problem("header", "file truncated inside the magic bytes"))
            else:
                self.add(Problem("magic", "not a Kessen save (wrong magic bytes)"))
            return Parsed(None, tuple(self.problems))
        (version,) = _VERSION.unpack_from(data, len(MAGIC))
        if version > FORMAT_VERSION:
            self.add(Problem("header", f"version {version} is newer than this Kessen reads "
                             f"({FORMAT_VERSION}); upgrade Kessen", field="format"))
            return Parsed(None, tuple(self.problems))
        if version < 1:
            self.add(Problem("header", f"unknown format version {version}", field="format"))
            return Parsed(None, tuple(self.problems))
        frames = self.frames()
        header, initial = self._header(frames)
        if header is None or initial is None:
            return Parsed(None, tuple(self.problems))
        return self._records(frames, header, initial)

    def _header(self, frames: Iterator[tuple[int, bytes | None]]) -> tuple[Header | None, GameState | None]:
        prev = _start_chain()
        header = initial = None
        for expected in (0, 1):
            item = next(frames, None)
            if item is None or item[1] is None:
                self.add(Problem(self.where(expected)[0], "truncated"))
                return None, None
            obj = self.decode(expected, item[1])
            if obj is None:
                return None, None
            chain, stored = self.chain_of(obj, prev)
            try:
                if expected == 0:
                    header = header_from_plain(obj)
                else:
                    initial = state_from_frame(obj)
            except Bad as e:
                if expected == 0:
                    self.add(Problem("header", e.message, field=e.field))
                else:
                    self.add(Problem("initial state", str(e)))
                return None, None
            if stored != chain:
                msg = "chain mismatch: the header was altered" if expected == 0 else "chain mismatch: the initial state was altered"
                self.add(Problem(self.where(expected)[0], msg))
            if expected == 0 and header is not None and header.format != FORMAT_VERSION:
                self.add(Problem("header", f"says version {header.format} but the file is version "
                                 f"{FORMAT_VERSION}", field="format"))
            prev = stored if stored is not None else chain
        self._prev = prev
        return header, initial

    def _records(self, frames: Iterator[tuple[int, bytes | None]], header: Header, initial: GameState) -> Parsed:
        nations = header.nation_ids
        records: list[Record] = []
        chains: list[str] = []
        prev = self._prev
        ended = lost = False
        index = 0
        for k, payload in frames:
            if ended:
                self.add(Problem("trailer", "data after the trailer (records appended after the end?)"))
                break
            if payload is None:
                self.add(Problem("record", "truncated: the file ends inside this frame", index=index))
                break
            obj = self.decode(k, payload)
            if obj is None:
                index += 1
                lost = True  # the chain resumes from the next record's stored value
                continue
            if obj.get("kind") == "end":
                ended = True
                self._trailer(obj, index, prev)
                continue
            phase = obj.get("phase") if isinstance(obj.get("phase"), str) else None
            chain, stored = self.chain_of(obj, prev)
            i = obj.get("i")
            if type(i) is not int or i != index:
                self.add(Problem("record", f"index says {i!r}: a record is missing, duplicated, "
                                 "inserted or out of order here", index=index, phase=phase))
            elif stored != chain and not lost:
                self.add(Problem("record", "chain mismatch: this record was altered", index=index, phase=phase))
            lost = False
            try:
                records.append(record_from_plain(obj, nations))
            except Bad as e:
                self.add(Problem("record", f"malformed: {e}", index=index, phase=phase))
            prev = stored if stored is not None else chain
            chains.append(prev.hex())
            index += 1
        if not ended:
            last = f"after record {index - 1}" if index else "after the initial state"
            self.add(Problem("trailer", f"missing: the file is truncated {last}"))
        save = Save(header, initial, tuple(records))
        return Parsed(save, tuple(self.problems), tuple(chains), prev.hex())

    def _trailer(self, obj: dict[str, Any], count: int, prev: bytes) -> None:
        n = obj.get("records")
        if set(obj) != {"kind", "records", "chain"} or type(n) is not int:
            self.add(Problem("trailer", "malformed"))
        elif n != count:
            self.add(Problem("trailer", f"says {n!r} records but the file holds {count}: "
                             f"records removed or added after record {count - 1}"))
        elif obj.get("chain") != prev:
            self.add(Problem("trailer", "final chain mismatch"))


def parse(data: bytes, *, strict: bool = False) -> Parsed:
    """Read a save from bytes.

    Args:
        data: the file's bytes.
        strict: stop at the first problem (``Parsed.save`` is then ``None``).

    Returns:
        The records read and the problems found, each naming its record index or header
        field. A forgiving parse skips frames it cannot decode and goes on.
    """
    return _Reader(data, strict).run()


__all__ = [
    "MAGIC", "RESULT_CODES", "REASON_CODES", "Bad", "SaveEncoder", "Parsed", "parse",
    "to_bytes", "header_plain", "header_from_plain", "record_plain", "record_from_plain",
    "entry_plain", "entry_values", "reason_plain", "reason_from_plain", "check_plain",
    "plain_state", "link",
]
