"""Tests for server.saves.entries: the stored form of order entries and outcomes."""

from __future__ import annotations

import pytest

from server.engine.outcome import REASONS, Reason
from server.saves.entries import (
    REASON_CODES,
    Bad,
    check_entry,
    entry_plain,
    entry_values,
    reason_from_plain,
    reason_plain,
)
from server.saves.model import OrderEntry, PhaseRecord


def test_entry_plain_drops_trailing_defaults():
    """An entry keeps only what differs from the defaults, and reads back."""
    assert entry_plain("A par - bur", "succeeds", None, "") == ["A par - bur", 0]
    assert entry_plain("A par - bur", "fails", Reason("bounced", at="bur"), "host") == \
        ["A par - bur", 1, [28, "bur"], "host"]
    assert entry_plain("A par H", "succeeds", None, "host") == ["A par H", 0, None, "host"]
    for e in (OrderEntry("A par - bur", "succeeds"), OrderEntry("A par - bur", "fails", Reason("bounced", at="bur"), "host"),
              OrderEntry("A par H", "succeeds", None, "host")):
        p = tuple(entry_plain(e.text, e.result, e.reason, e.by))
        check_entry(p, "e")
        assert OrderEntry(*entry_values(p, "e")) == e


@pytest.mark.parametrize("bad", [
    ("A par H", 0, None),          # trailing null kept
    ("A par H", 0, None, ""),      # trailing default kept
    ("A par H", True),             # a boolean is not a result code
    ("A par H", 1.0),              # nor is a float
    ("A par H", 7),                # out of the table
    ("A par H", 1, (28.0, "bur")),  # float reason code
    ("A par H", 1, (28, 5)),       # a province must be text
    ("A par H", 1, ("bounced", "bur")),  # a listed code must be stored by index
    (5, 0),
])
def test_non_canonical_entries_are_refused(bad):
    """Every non-canonical entry is refused, even after equal-looking ones were seen."""
    check_entry(("A par H", 1, (28, "bur")), "warm the cache")
    with pytest.raises(Bad):
        check_entry(bad, "e")


def test_unknown_reason_code_is_kept_as_text():
    """A reason code missing from the v1 table is stored by name and read back."""
    r = Reason("brand_new", at="bur", detail="x")
    assert reason_plain(r) == ["brand_new", "bur", None, "x"]
    assert reason_from_plain(tuple(reason_plain(r)), "r") == r


def test_v1_table_covers_the_engine_reasons():
    """Every reason code the engine knows today is in the v1 table (stored as a small int)."""
    assert set(REASONS) <= set(REASON_CODES)


def test_phase_record_packs_and_unpacks():
    """A phase record keeps its orders packed and gives the same entries back."""
    orders = (("england", (OrderEntry("F lon - nth", "succeeds"),)),
              ("france", (OrderEntry("A par - bur", "fails", Reason("bounced", at="bur"), "host"),)))
    rec = PhaseRecord.build("S1901M", orders + (("italy", ()),), "ab" * 32)
    assert rec.orders == orders
    assert rec.order_count == 2 and rec.orders_of("france") == orders[1][1]
    assert rec == PhaseRecord.build("S1901M", orders, "ab" * 32)
    assert "A par - bur" in repr(rec)
