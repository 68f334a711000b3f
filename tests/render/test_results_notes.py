"""Server history entries exported as notes read well in a results post, and looks (preview,
export) and the summary stay out of it."""

from __future__ import annotations

from server.render.results import _event_text
from server.ruleset_files import load
from server.saves.model import EventRecord


def test_notes_from_the_server_history() -> None:
    rs = load("classic")

    def text(data: dict[str, object], reason: str = "") -> str | None:
        return _event_text(rs, EventRecord("note", "gm", reason, 0, data))

    assert text({"kind": "process"}, "all in") == "Processed before the deadline by gm (all in)"
    assert text({"kind": "enter_orders", "nation": "france", "orders": 3}) == "France's orders entered by gm"
    assert text({"kind": "advertise", "nation": "italy", "open": True}) == "Italy's seat open to a standby player"
    assert text({"kind": "concession", "winner": "russia"}) == "The game ended by concession to Russia"
    for quiet in ("preview", "export", "summary"):
        assert text({"kind": quiet}) is None
    assert text({"anything": 1}, "hello") == "Note from gm (hello)"
