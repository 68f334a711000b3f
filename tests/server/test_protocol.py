"""The pure protocol core: codec limits, the message table, the session, settings (synchronous)."""

from __future__ import annotations

import msgpack
import pytest

from server.protocol.codec import Limits, decode, encode
from server.protocol.errors import CODES, ProtocolError
from server.protocol.messages import MESSAGES, validate
from server.protocol.session import Session
from server.protocol.settings import next_deadline, normalise


def refused(code: str, fn, *args) -> ProtocolError:  # type: ignore[no-untyped-def]
    with pytest.raises(ProtocolError) as info:
        fn(*args)
    assert info.value.code == code, info.value
    return info.value


@pytest.mark.parametrize("frame", [
    b"", b"\xc1", msgpack.packb([1, 2]), msgpack.packb({"a": 1}) + b"\x00", msgpack.packb({1: 2}),
    msgpack.packb({"a": "x" * 20_000}), msgpack.packb({"a": list(range(600))}),
    msgpack.packb({"a": [[[[[[[[1]]]]]]]]}), msgpack.packb({"a": msgpack.ExtType(1, b"x")}),
    b"\xff" * 70_000, "text",
])
def test_bad_frames_are_refused(frame: bytes) -> None:
    """Anything but one msgpack map within the limits is bad_frame, never an exception leak."""
    refused("bad_frame", decode, frame)


def test_limits_are_configurable_and_round_trip() -> None:
    """A frame within limits decodes to what was encoded; tighter limits refuse it."""
    msg = {"type": "orders", "id": 1, "game": "g", "phase": "S1901M", "text": "A par - bur"}
    assert decode(encode(msg)) == msg
    refused("bad_frame", decode, encode(msg), Limits(max_frame=10))
    refused("bad_frame", decode, encode({"a": {"b": 1}}), Limits(max_depth=1))


def test_every_message_names_its_fields_and_role() -> None:
    """The table: phase-scoped messages require game and phase; roles are known."""
    for name, spec in MESSAGES.items():
        assert spec.role in ("any", "user", "host")
        if spec.scope == "phase":
            assert spec.fields["game"] == ("str", True) and spec.fields["phase"] == ("str", True), name


@pytest.mark.parametrize("msg, code, field", [
    ({"id": 1}, "bad_message", "type"),
    ({"type": "warp", "id": 1}, "unknown_type", "type"),
    ({"type": "ping"}, "bad_message", "id"),
    ({"type": "ping", "id": -1}, "bad_message", "id"),
    ({"type": "ping", "id": True}, "bad_message", "id"),
    ({"type": "ping", "id": 1, "x": 1}, "bad_message", "x"),
    ({"type": "orders", "id": 1, "game": "g", "phase": "S1901M"}, "bad_message", "text"),
    ({"type": "orders", "id": 1, "game": "g", "phase": 3, "text": ""}, "bad_message", "phase"),
    ({"type": "hello", "id": 1, "versions": ["1"]}, "bad_message", "versions"),
])
def test_invalid_requests_name_the_field(msg: dict, code: str, field: str) -> None:
    """Validation errors carry a code from the closed list and the offending field."""
    e = refused(code, validate, msg)
    assert e.field == field and e.code in CODES
    assert e.reply(7) == {"type": "error", "re": 7, "code": code, "message": e.message, "field": field}


def test_session_requires_hello_first_and_checks_roles() -> None:
    """Before the welcome only a hello is accepted; host-only requests need the host role."""
    s = Session()
    e = refused("auth_required", s.receive, encode({"type": "games", "id": 4}))
    assert e.re == 4
    assert s.receive(encode({"type": "hello", "id": 1, "versions": [1], "token": "u1.x"})).type == "hello"
    refused("auth_required", s.receive, encode({"type": "games", "id": 2}))
    s.authenticated(1, "player", 1)
    assert s.receive(encode({"type": "games", "id": 3})).id == 3
    refused("forbidden", s.receive, encode({"type": "create_game", "id": 5, "ruleset": "classic", "title": "t"}))
    refused("bad_message", s.receive, encode({"type": "hello", "id": 6, "versions": [1]}))


def test_settings_are_normalised_and_checked() -> None:
    """Every setting gets a default; bad ones name the field under settings."""
    s = normalise({"deadlines": {"adjustment": {"at": "06:30", "tz": "Asia/Tokyo"}}, "grace": 60,
                   "start": {"at": 5}})
    assert s["deadlines"]["movement"] == {"after": 86400} and s["start_at"] == 5 and s["early"] is True
    for raw, field in [({"deadlines": {"movement": {"after": 0}}}, "settings.deadlines.movement.after"),
                       ({"deadlines": {"retreat": {"at": "25:00"}}}, "settings.deadlines.retreat.at"),
                       ({"deadlines": {"retreat": {"at": "10:00", "tz": "Mars/Olympus"}}}, "settings.deadlines.retreat.tz"),
                       ({"early": "yes"}, "settings.early"), ({"start": "soon"}, "settings.start"),
                       ({"colour": 1}, "settings.colour")]:
        assert refused("bad_settings", normalise, raw).field == field


def test_time_of_day_deadlines_follow_the_zone() -> None:
    """A time-of-day deadline is the next such local time, across DST changes."""
    s = normalise({"deadlines": {"movement": {"at": "18:00", "tz": "Europe/London"}}})
    # 2025-03-29 19:00 UTC (after 18:00 GMT): next is 2025-03-30 18:00 BST = 17:00 UTC
    assert next_deadline(s, "movement", 1743274800) == 1743354000
    assert next_deadline(s, "movement", 1743354000 - 1) == 1743354000
