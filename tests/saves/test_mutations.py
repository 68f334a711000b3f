"""Property: every mutation of a sample save is detected, at the right index.

More than 1,000 mutations per run (bit flips, byte edits, truncations, removed, duplicated,
reordered and inserted records, header edits, a foreign ruleset digest); each must fail
strict verification with a problem located in the frame that was changed (the record index,
the header, the initial state or the trailer). Unmodified files verify (no false alarms).
"""

from __future__ import annotations

import attrs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.saves.files import ruleset_for
from server.saves.format import parse, to_bytes
from server.saves.verify import verify_bytes

from . import frames
from .conftest import SAVES

SAMPLES = {p.name: p.read_bytes() for p in sorted(SAVES.glob("*.kessen"))}
SMALLEST = min(SAMPLES, key=lambda k: len(SAMPLES[k]))
NAMES = sorted(SAMPLES)

FAST = settings(deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

Where = tuple[str, "int | None"]


def _slot(data: bytes, k: int) -> set[Where]:
    """Acceptable problem locations for damage in frame ``k`` of ``data``."""
    n_frames = len(frames.spans(data))
    if k == 0:
        return {("header", None)}
    if k == 1:
        return {("initial state", None)}
    if k == n_frames - 1:  # the trailer: a cut-short frame there reads as the slot after the records
        return {("trailer", None), ("record", k - 2)}
    return {("record", k - 2)}


def _region(data: bytes, offset: int) -> set[Where]:
    if offset < 6:
        return {("magic", None), ("header", None)}
    if offset < 8:
        return {("header", None)}
    for k, (a, b) in enumerate(frames.spans(data)):
        if a <= offset < b:
            return _slot(data, k)
    raise AssertionError(offset)


def _found(data: bytes) -> Where:
    report = verify_bytes(data, ruleset_for)
    assert not report.ok, "mutation not detected"
    return report.problem.where, report.problem.index


def test_unmodified_samples_verify():
    """No false alarms: every sample as shipped verifies."""
    for name, data in SAMPLES.items():
        report = verify_bytes(data, ruleset_for)
        assert report.ok, f"{name}: {report.problem}"


@settings(FAST, max_examples=1200)
@given(st.data())
def test_bit_flips_are_detected_where_they_fall(data):
    """A single flipped bit anywhere is reported for the frame it falls in."""
    name = data.draw(st.sampled_from([SMALLEST] * 3 + NAMES), label="sample")
    raw = SAMPLES[name]
    offset = data.draw(st.integers(0, len(raw) - 1), label="offset")
    bit = data.draw(st.integers(0, 7), label="bit")
    mutated = bytearray(raw)
    mutated[offset] ^= 1 << bit
    assert _found(bytes(mutated)) in _region(raw, offset)


@settings(FAST, max_examples=150)
@given(st.data())
def test_byte_edits_are_detected_where_they_fall(data):
    """Any byte replaced by another value is reported for its frame."""
    raw = SAMPLES[data.draw(st.sampled_from(NAMES), label="sample")]
    offset = data.draw(st.integers(0, len(raw) - 1), label="offset")
    value = data.draw(st.integers(0, 255).filter(lambda v: v != raw[offset]), label="value")
    mutated = bytearray(raw)
    mutated[offset] = value
    assert _found(bytes(mutated)) in _region(raw, offset)


@settings(FAST, max_examples=150)
@given(st.data())
def test_truncations_are_detected(data):
    """A file cut anywhere is refused: inside a frame that frame is named, at a boundary the
    trailer is missing."""
    raw = SAMPLES[data.draw(st.sampled_from(NAMES), label="sample")]
    cut = data.draw(st.integers(0, len(raw) - 1), label="cut")
    got = _found(raw[:cut])
    if cut < 8:
        assert got in {("header", None), ("magic", None)}
        return
    for k, (a, b) in enumerate(frames.spans(raw)):
        if cut == a and k >= 2:
            assert got == ("trailer", None)
            return
        if a <= cut < b:
            assert got in _slot(raw, k)
            return


OPS = ("remove", "duplicate", "swap", "insert")


@settings(FAST, max_examples=220)
@given(st.data())
def test_record_surgery_is_detected_at_its_index(data):
    """Removed, duplicated, reordered or foreign records are named by their index."""
    name = data.draw(st.sampled_from(NAMES), label="sample")
    prefix, payloads = frames.split(SAMPLES[name])
    n = len(payloads) - 3  # records
    op = data.draw(st.sampled_from(OPS), label="op")
    k = data.draw(st.integers(0, n - 1), label="record")
    p = list(payloads)
    if op == "remove":
        del p[2 + k]
        expected = {("record", k)} if k < n - 1 else {("trailer", None)}
    elif op == "duplicate":
        p.insert(2 + k + 1, p[2 + k])
        expected = {("record", k + 1)}
    elif op == "swap":
        k = min(k, n - 2)
        p[2 + k], p[2 + k + 1] = p[2 + k + 1], p[2 + k]
        expected = {("record", k)}
    else:
        other = data.draw(st.sampled_from([x for x in NAMES if x != name]), label="other")
        _, foreign = frames.split(SAMPLES[other])
        j = data.draw(st.integers(2, len(foreign) - 2), label="foreign record")
        p.insert(2 + k, foreign[j])
        expected = {("record", k)}
    assert _found(frames.join(prefix, p)) in expected


HEADER_EDITS = ("title", "game", "created", "seed", "player", "settings", "engine", "digest")


@settings(FAST, max_examples=60)
@given(st.data())
def test_header_edits_are_detected(data):
    """Editing any header field (without rebuilding the chain) is named as the header."""
    name = data.draw(st.sampled_from(NAMES), label="sample")
    prefix, payloads = frames.split(SAMPLES[name])
    head = frames.decode(payloads[0])
    field = data.draw(st.sampled_from(HEADER_EDITS), label="field")
    if field in ("title", "game", "engine"):
        head[field] = head[field] + data.draw(st.text(min_size=1, max_size=5), label="suffix")
    elif field == "created":
        head["created"] += data.draw(st.integers(1, 10**6), label="delta")
    elif field == "seed":
        head["seed"] = data.draw(st.integers(0, 2**32).filter(lambda s: s != head["seed"]), label="seed")
    elif field == "player":
        k = data.draw(st.integers(0, len(head["nations"]) - 1), label="nation")
        head["nations"][k][1] = "Mallory"
        if frames.encode(head) == payloads[0]:
            head["nations"][k][1] = "Trent"
    elif field == "settings":
        head["settings"]["extra"] = data.draw(st.integers(-(2**63), 2**63 - 1), label="value")
    else:
        head["ruleset"]["digest"] = "0" * 64
    payloads[0] = frames.encode(head)
    assert _found(frames.join(prefix, payloads)) == ("header", None)


def test_foreign_ruleset_digest_names_the_header_field():
    """A save rewritten (chain and all) with another ruleset digest fails on ruleset.digest."""
    for name, raw in SAMPLES.items():
        save = parse(raw).save
        forged = attrs.evolve(save, header=attrs.evolve(save.header, ruleset_digest="1" * 64))
        report = verify_bytes(to_bytes(forged), ruleset_for)
        assert report.problem.field == "ruleset.digest", name


def test_at_least_a_thousand_mutations():
    """The property tests above draw more than 1,000 mutations per run."""
    tests = (test_bit_flips_are_detected_where_they_fall, test_byte_edits_are_detected_where_they_fall,
             test_truncations_are_detected, test_record_surgery_is_detected_at_its_index,
             test_header_edits_are_detected)
    total = sum(t._hypothesis_internal_use_settings.max_examples for t in tests)
    assert total >= 1000
