"""Tests for server.saves.format: the byte layout, the chain, strict and forgiving parsing."""

from __future__ import annotations

import msgpack
import pytest

from server.saves.builder import new_save
from server.saves.format import MAGIC, SaveEncoder, parse, to_bytes
from server.saves.model import Problem

from . import frames


def test_round_trip(small):
    """A save written to bytes parses back to an equal save with no problems."""
    parsed = parse(to_bytes(small))
    assert parsed.problems == ()
    assert parsed.save == small
    assert len(parsed.chains) == len(small.records)


def test_round_trip_with_embedded_ruleset(small_embedded, classic):
    """The embedded ruleset files come back unchanged."""
    parsed = parse(to_bytes(small_embedded))
    assert parsed.ok and parsed.save == small_embedded
    assert parsed.save.header.ruleset_digest == classic.digest


def test_bytes_are_deterministic(small, classic):
    """The same game gives the same bytes, whatever order the settings were given in."""
    from tests.saves.conftest import small_game

    assert to_bytes(small) == to_bytes(small_game(classic))
    a = new_save(classic, "g", settings={"a": 1, "b": [1, 2]}).to_bytes()
    b = new_save(classic, "g", settings={"b": [1, 2], "a": 1}).to_bytes()
    assert a == b


def test_file_starts_with_magic_and_version(small):
    """The first 8 bytes are the magic and the format version (1)."""
    assert to_bytes(small)[:8] == MAGIC + b"\x00\x01"


def test_frames_are_canonical_msgpack_without_floats(small):
    """Every frame is a map whose canonical re-encoding is itself; no float or ext anywhere."""
    _, payloads = frames.split(to_bytes(small))

    def walk(v):
        assert not isinstance(v, (float, msgpack.ExtType))
        if isinstance(v, dict):
            assert list(v) == sorted(v)
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    for p in payloads:
        obj = frames.decode(p)
        walk(obj)
        assert frames.encode(obj) == p


def test_streaming_encoder_matches_and_appends(small):
    """Writing frame by frame gives the same bytes; a prefix plus a fresh trailer parses."""
    enc = SaveEncoder(small.header, small.initial)
    parts = [enc.prelude()]
    for k, rec in enumerate(small.records):
        parts.append(enc.record(rec))
        if k == 3:
            partial = b"".join(parts) + enc.trailer()
            got = parse(partial)
            assert got.ok and len(got.save.records) == 4
    assert b"".join(parts) + enc.trailer() == to_bytes(small)


def test_wrong_magic():
    """A file that is not a save is named as such."""
    parsed = parse(b"PK\x03\x04 not a save at all")
    assert [str(p) for p in parsed.problems] == ["magic: not a Kessen save (wrong magic bytes)"]


def test_newer_format_version(small):
    """A newer format version names the header field 'format'."""
    data = bytearray(to_bytes(small))
    data[7] = 2
    (problem,) = parse(bytes(data)).problems
    assert problem.field == "format" and "newer" in problem.message


def test_truncated_at_a_frame_boundary(small):
    """A file cut after a record (trailer gone) names the last record kept."""
    prefix, payloads = frames.split(to_bytes(small))
    cut = frames.join(prefix, payloads[:2 + 5])
    (problem,) = parse(cut).problems
    assert problem.where == "trailer" and "after record 4" in problem.message


def test_truncated_inside_a_frame(small):
    """A file cut inside record 5 names record 5."""
    data = to_bytes(small)
    start, end = frames.spans(data)[2 + 5]
    problem = parse(data[:start + 10], strict=True).problems[0]
    assert (problem.where, problem.index) == ("record", 5)
    assert "truncated" in problem.message


def test_header_edit_is_detected(small):
    """Changing the title without rebuilding the chain breaks the header's chain."""
    prefix, payloads = frames.split(to_bytes(small))
    head = frames.decode(payloads[0])
    head["title"] = "Another title"
    payloads[0] = frames.encode(head)
    (problem,) = parse(frames.join(prefix, payloads)).problems
    assert str(problem) == "header: chain mismatch: the header was altered"


def test_record_edit_named_with_index_and_phase(small):
    """An edited order in record 5 is reported as record 5 with its phase."""
    prefix, payloads = frames.split(to_bytes(small))
    rec = frames.decode(payloads[2 + 5])
    assert rec["kind"] == "phase"
    nation = next(k for k, lst in enumerate(rec["orders"]) if lst)
    rec["orders"][nation][0][0] = "A par H"
    payloads[2 + 5] = frames.encode(rec)
    (problem,) = parse(frames.join(prefix, payloads)).problems
    assert str(problem) == f"record 5 (phase {rec['phase']}): chain mismatch: this record was altered"


def test_forgiving_parse_collects_every_problem(small):
    """Two damaged records give two problems; the rest of the game is still read."""
    prefix, payloads = frames.split(to_bytes(small))
    payloads[2 + 2] = b"\xc1garbage"
    rec = frames.decode(payloads[2 + 6])
    rec["digest"] = bytes(32)
    payloads[2 + 6] = frames.encode(rec)
    parsed = parse(frames.join(prefix, payloads))
    assert [(p.where, p.index) for p in parsed.problems] == [("record", 2), ("record", 6)]
    assert len(parsed.save.records) == len(small.records) - 1
    strict = parse(frames.join(prefix, payloads), strict=True)
    assert strict.save is None and len(strict.problems) == 1


def test_non_canonical_encoding_is_rejected(small):
    """The same values encoded with unsorted keys are refused as not canonical."""
    prefix, payloads = frames.split(to_bytes(small))
    rec = frames.decode(payloads[3])
    payloads[3] = msgpack.packb(dict(reversed(list(rec.items()))), use_bin_type=True)
    (problem,) = parse(frames.join(prefix, payloads)).problems
    assert (problem.where, problem.index) == ("record", 1)
    assert "canonical" in problem.message


def test_floats_are_refused(classic):
    """Settings and event data must be plain: a float is a ValueError."""
    with pytest.raises(ValueError, match="floats"):
        new_save(classic, "g", settings={"x": 1.5})
    rec = new_save(classic, "g")
    with pytest.raises(ValueError, match="floats"):
        rec.add_event("note", data={"x": 0.5})


def test_problem_text():
    """Problems print their location first."""
    assert str(Problem("record", "chain mismatch", index=17, phase="F1903M")) == \
        "record 17 (phase F1903M): chain mismatch"
    assert str(Problem("trailer", "missing")) == "trailer: missing"


def _forge(small, mutate):
    prefix, payloads = frames.split(to_bytes(small))
    objs = [frames.decode(p) for p in payloads]
    mutate(objs)
    return frames.rechain(prefix, objs)


def test_rechained_file_parses(small):
    """The test helper's rewrite of an unchanged file gives the same bytes (keys kept sorted)."""
    assert _forge(small, lambda objs: None) == to_bytes(small)


@pytest.mark.parametrize("what", ["bool result", "float result", "float reason", "float in data", "float year"])
def test_wrong_types_are_refused_even_with_a_valid_chain(small, what):
    """A writer that stores true for 1 or 1.0 for 1 is refused although the chain is right."""
    def mutate(objs):
        for o in objs:
            if o.get("kind") == "phase":
                for lst in o["orders"]:
                    for e in lst:
                        if what == "bool result" and len(e) == 2 and e[1] in (0, 1):
                            e[1] = bool(e[1])
                            return
                        if what == "float result" and len(e) == 2:
                            e[1] = float(e[1])
                            return
                        if what == "float reason" and len(e) == 3:
                            e[2][0] = float(e[2][0])
                            return
            if what == "float in data" and o.get("kind") == "event":
                o["data"]["x"] = 0.5
                return
            if what == "float year" and o.get("kind") == "initial":
                o["state"]["year"] = 1901.0
                return
        raise AssertionError("nothing to mutate")

    parse(to_bytes(small))  # warm any cache with the well-typed entries first
    problems = parse(_forge(small, mutate)).problems
    assert problems and problems[0].where in ("record", "initial state")
