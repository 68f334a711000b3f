"""Tests for server.saves.files: writing, forgiving loads and strict verification on disk."""

from __future__ import annotations

import stat

import pytest

from server.saves.files import (
    find_saves,
    installed_ruleset,
    load_game,
    open_save,
    ruleset_for,
    save_game,
    verify_file,
)
from server.saves.format import to_bytes
from server.saves.model import SaveError

from . import frames


def test_save_and_load(tmp_path, small):
    """A written save loads back equal, with no problems, readable by everyone."""
    path = tmp_path / "g.kessen"
    n = save_game(path, small)
    assert n == path.stat().st_size == len(to_bytes(small))
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    save, problems = load_game(path)
    assert problems == () and save == small


def test_load_is_forgiving(tmp_path, small):
    """A damaged file still loads what can be read, listing every problem."""
    prefix, payloads = frames.split(to_bytes(small))
    payloads[3] = b"\xc1" + payloads[3][1:]  # 0xc1 is never used by msgpack
    path = tmp_path / "bad.kessen"
    path.write_bytes(frames.join(prefix, payloads))
    save, problems = load_game(path)
    assert save is not None and len(save.records) == len(small.records) - 1
    assert [(p.where, p.index) for p in problems] == [("record", 1)]


def test_missing_file(tmp_path):
    """A missing file is one problem, not an exception."""
    save, problems = load_game(tmp_path / "nope.kessen")
    assert save is None and problems[0].where == "file"
    report = verify_file(tmp_path / "nope.kessen")
    assert not report.ok and "cannot read" in str(report.problem)


def test_verify_file(tmp_path, small, small_embedded):
    """verify_file re-adjudicates the whole game; a damaged file names the record."""
    for save in (small, small_embedded):
        path = tmp_path / f"{save.header.game_id}.kessen"
        save_game(path, save)
        report = verify_file(path)
        assert report.ok and report.phases == save.phase_count
    data = bytearray((tmp_path / "small-3.kessen").read_bytes())
    start, _ = frames.spans(bytes(data))[2 + 4]
    data[start + 12] ^= 0x10
    (tmp_path / "flipped.kessen").write_bytes(bytes(data))
    report = verify_file(tmp_path / "flipped.kessen")
    assert (report.problem.where, report.problem.index) == ("record", 4)


def test_open_save_raises_the_first_problem(tmp_path):
    """open_save raises SaveError with the first problem."""
    path = tmp_path / "x.kessen"
    path.write_bytes(b"not a save")
    with pytest.raises(SaveError, match="wrong magic"):
        open_save(path)


def test_find_saves(tmp_path, small):
    """Directories are searched recursively for *.kessen; named files are kept as given."""
    (tmp_path / "a" / "b").mkdir(parents=True)
    for p in ("a/1.kessen", "a/b/2.kessen", "a/notes.txt"):
        (tmp_path / p).write_bytes(b"x")
    found = find_saves([tmp_path / "a", tmp_path / "a" / "notes.txt"])
    assert [p.name for p in found] == ["1.kessen", "2.kessen", "notes.txt"]


def test_ruleset_lookup(small, small_embedded, classic):
    """Installed rulesets are found by id; embedded ones are parsed from the save."""
    assert installed_ruleset("classic") is classic
    assert installed_ruleset("atlantis") is None
    assert ruleset_for(small.header) is classic
    assert ruleset_for(small_embedded.header).digest == classic.digest
