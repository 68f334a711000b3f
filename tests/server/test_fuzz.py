"""Fuzzing the wire: the decoder never fails in any way but ``bad_frame``, and a live server
answers any well-formed frame with ``ok`` or an ``error`` whose code is in the table, without
dropping the connection."""

from __future__ import annotations

import asyncio
import itertools
import tempfile
import threading
from pathlib import Path
from typing import Any, Iterator

import msgpack
import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st
from websockets.sync.client import connect

from server.net.app import Server
from server.net.clock import FakeClock
from server.net.config import Config
from server.protocol.codec import decode, encode
from server.protocol.errors import CODES, ProtocolError
from server.protocol.messages import MESSAGES

# ---- values -----------------------------------------------------------------------------------
ints = st.integers(-(2**63), 2**64 - 1)  # what msgpack can encode
scalars = st.none() | st.booleans() | ints | st.floats(allow_nan=True) | st.text(max_size=20) | st.binary(max_size=20)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8) | ints, inner, max_size=4),
    max_leaves=12,
)


def check_decode(frame: bytes) -> None:
    try:
        got = decode(frame)
    except ProtocolError as e:
        assert e.code == "bad_frame", e
    else:
        assert type(got) is dict and all(type(k) is str for k in got)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_decode_of_arbitrary_bytes(frame: bytes) -> None:
    """Arbitrary bytes decode to a map with string keys or raise bad_frame, nothing else."""
    check_decode(frame)


@settings(max_examples=300, deadline=None)
@given(values)
def test_decode_of_arbitrary_values(value: Any) -> None:
    """Any msgpack-able value (deeply nested, non-string keys, big ints, bytes) decodes to a
    map or raises bad_frame; a map within the limits comes back equal."""
    frame = msgpack.packb(value, use_bin_type=True)
    check_decode(frame)
    check_decode(frame + b"\x00")  # trailing bytes


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 5000), st.sampled_from([b"\x91", b"\x81\xa1a", b"\x81\xa1a\x91"]), st.binary(max_size=3))
def test_decode_of_deep_nesting(depth: int, level: bytes, leaf: bytes) -> None:
    """Arrays and maps nested up to thousands deep are refused with bad_frame (or accepted
    when within the depth limit), never with a recursion error."""
    check_decode(b"\x81\xa1k" + level * depth + leaf)


# ---- a live server ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def live() -> Iterator[tuple[int, str, str]]:
    """A server on its own event loop in a thread (port, host token, a game id)."""
    ready: dict[str, Any] = {}
    started = threading.Event()
    tmp = tempfile.TemporaryDirectory()

    async def main() -> None:
        config = Config(db=str(Path(tmp.name) / "k.db"), port=0, tick=0.02, rate=1e9, burst=10**9, flood=10**9,
                        max_bad_frames=10**9)
        async with Server(config, clock=FakeClock()) as server:
            assert server.service is not None
            host, token = server.service.add_user("host", "host")
            room = server.service.create_game(host, "classic", "fuzz", None)
            stop = asyncio.Event()
            ready.update(port=server.port, token=token, game=room.id, stop=stop,
                         loop=asyncio.get_running_loop())
            started.set()
            await asyncio.wait_for(stop.wait(), 120)

    thread = threading.Thread(target=lambda: asyncio.run(main()), daemon=True)
    thread.start()
    assert started.wait(30), "the server did not start"
    try:
        yield ready["port"], ready["token"], ready["game"]
    finally:
        ready["loop"].call_soon_threadsafe(ready["stop"].set)
        thread.join(30)
        tmp.cleanup()


class Conn:
    """A blocking client: one request, its reply (pushes skipped)."""

    def __init__(self, ws: Any, token: str) -> None:
        self.ws = ws
        self.ids = itertools.count(1)
        welcome = self.request({"type": "hello", "versions": [1], "token": token})
        assert welcome["type"] == "ok", welcome

    def request(self, message: dict[str, Any]) -> dict[str, Any]:
        self.ws.send(encode({**message, "id": message.get("id", next(self.ids))}))
        return self.reply()

    def reply(self) -> dict[str, Any]:
        for _ in range(1000):
            msg = msgpack.unpackb(self.ws.recv(timeout=10), raw=False)
            if msg.get("type") != "push":
                return msg
        raise AssertionError("only pushes")  # pragma: no cover


def field_value(kind: str, game: str) -> st.SearchStrategy[Any]:
    known: dict[str, st.SearchStrategy[Any]] = {
        "str": st.sampled_from([game, "classic", "S1901M", "france", "A Par - Bur", ""]) | st.text(max_size=30),
        "int": st.integers(-5, 2**53 + 5),
        "bool": st.booleans(),
        "map": st.dictionaries(st.text(max_size=10), values, max_size=4),
        "list[int]": st.lists(st.integers(-3, 5), max_size=4),
    }
    return known.get(kind, values) | values


@st.composite
def requests(draw: st.DrawFn, game: str) -> dict[str, Any]:
    """A well-formed frame: a known or junk type, a usable (or not) id, the type's fields with
    plausible or random values, and now and then a field it does not have."""
    table = dict(MESSAGES)  # whatever the table holds now
    # known types and usable ids weigh more (one_of picks its branches evenly): with them at a
    # third and random game ids, a run of 400 could (one CI run in many) be refused throughout
    known, ids = st.sampled_from(sorted(table)), st.integers(0, 2**53 - 1)
    kind = draw(known | known | known | st.sampled_from(["", "nope", "PING", "ok", "error", "push"]) | values)
    message: dict[str, Any] = {"type": kind}
    message["id"] = draw(ids | ids | values)
    spec = table.get(kind) if isinstance(kind, str) else None
    if spec is not None:
        for name, (ftype, required) in spec.fields.items():
            if draw(st.integers(0, 9)) < (9 if required else 5):
                plausible = field_value(ftype, game)
                if name == "game":  # mostly the real game, so game-scoped requests get served too
                    plausible = st.just(game) | st.just(game) | plausible
                message[name] = draw(plausible)
    if draw(st.integers(0, 4)) == 0:
        message.update(draw(st.dictionaries(st.text(max_size=8), values, max_size=2)))
    return message


def test_any_well_formed_request_gets_ok_or_a_known_error(live: tuple[int, str, str]) -> None:
    """Every reply to a random request over an authenticated connection is ``ok`` (echoing the
    id) or an ``error`` of the uniform shape with a code from ``CODES``; the connection is never
    dropped, and it still answers ``ping`` afterwards."""
    port, token, game = live
    with connect(f"ws://127.0.0.1:{port}", open_timeout=5, close_timeout=1, max_size=2**22) as ws:
        _fuzz(Conn(ws, token), game)


def _fuzz(conn: Conn, game: str) -> None:
    seen: set[str] = set()

    # requests that must be served, whatever the random ones turn out to be (hypothesis
    # explores odd shapes: one seed in twenty drew 400 requests that were all refused)
    @settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
    @given(requests(game))
    @example({"type": "ping", "id": 1})
    @example({"type": "games", "id": 2})
    @example({"type": "game", "id": 3, "game": game})
    @example({"type": "history", "id": 4, "game": game})
    def one(message: dict[str, Any]) -> None:
        frame = encode(message)
        if len(frame) > 60_000:
            return
        mid = message["id"]
        conn.ws.send(frame)
        reply = conn.reply()
        usable = type(mid) is int and 0 <= mid < 2**53
        if reply["type"] == "ok":
            assert usable and reply["re"] == mid and isinstance(message["type"], str), (message, reply)
            seen.add(message["type"])
        else:
            assert reply["type"] == "error", (message, reply)
            assert set(reply) == {"type", "re", "code", "message", "field"}, reply
            assert reply["code"] in CODES, reply
            assert reply["code"] != "internal", (message, reply)
            assert isinstance(reply["message"], str)
            if reply["re"] is not None:
                assert reply["re"] == mid, (message, reply)

    one()
    assert conn.request({"type": "ping"})["type"] == "ok"
    assert {"ping", "games", "game", "history"} <= seen  # the explicit examples were served
