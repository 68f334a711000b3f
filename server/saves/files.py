"""Save files on disk (I/O edge): write, read forgivingly, verify strictly.

The byte format and the replay live in the pure modules; this one only reads and writes
files and finds installed rulesets.
"""

from __future__ import annotations

import functools
import os
import tempfile
from pathlib import Path
from typing import Iterable, Mapping

from ..engine.errors import RulesetError
from ..engine.ruleset import Ruleset, parse_ruleset
from ..ruleset_files import installed, load, read_folder, rulesets_dir
from .format import parse, to_bytes
from .model import Header, Problem, Save, SaveError
from .verify import VerifyReport, resolve_ruleset, verify_bytes

SUFFIX = ".kessen"


def installed_ruleset(ruleset_id: str) -> Ruleset | None:
    """The installed ruleset with this id, or ``None``."""
    if ruleset_id not in installed():
        return None
    try:
        return load(ruleset_id)
    except RulesetError:
        return None


@functools.lru_cache(maxsize=16)
def _parse_embedded(files: tuple[tuple[str, str], ...], folder: str) -> Ruleset:
    return parse_ruleset(dict(files), folder=folder)


def _parse_files(files: Mapping[str, str], folder: str) -> Ruleset:
    return _parse_embedded(tuple(sorted(files.items())), folder)


def ruleset_for(header: Header) -> Ruleset:
    """The ruleset a save was played with: embedded, or installed with the same digest.

    Raises:
        SaveError: naming the header field (``ruleset.digest``, ``ruleset.id``, ...).
    """
    return resolve_ruleset(header, installed_ruleset, _parse_files)


def installed_files(ruleset_id: str) -> dict[str, str]:
    """The files of an installed ruleset, to embed in a save."""
    return read_folder(rulesets_dir() / ruleset_id)


def write_bytes_atomic(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", dir=p.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; saves are for sharing
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_game(path: str | Path, save: Save) -> int:
    """Write ``save`` to ``path``; returns the number of bytes written."""
    data = to_bytes(save)
    write_bytes_atomic(path, data)
    return len(data)


def read_file(path: str | Path) -> bytes:
    """The file's bytes.

    Raises:
        SaveError: the file cannot be read (``where`` is ``"file"``).
    """
    try:
        return Path(path).read_bytes()
    except OSError as e:
        raise SaveError(Problem("file", f"cannot read: {e.strerror or e}")) from None


def load_game(path: str | Path) -> tuple[Save | None, tuple[Problem, ...]]:
    """Read a save forgivingly: everything readable, and every problem found.

    Returns:
        ``(save, problems)``; ``save`` is ``None`` when the header or the initial state is
        unreadable. No re-adjudication: see :func:`verify_file` for that.
    """
    try:
        data = read_file(path)
    except SaveError as e:
        return None, (e.problem,)
    parsed = parse(data)
    return parsed.save, parsed.problems


def open_save(path: str | Path) -> tuple[Save, Ruleset]:
    """A save that parses without any problem, with its ruleset.

    Raises:
        SaveError: the first problem found.
    """
    data = read_file(path)
    parsed = parse(data, strict=True)
    if parsed.save is None or parsed.problems:
        raise SaveError(parsed.problems[0] if parsed.problems else Problem("file", "unreadable"))
    return parsed.save, ruleset_for(parsed.save.header)


def verify_file(path: str | Path) -> VerifyReport:
    """Strictly verify one save file (bytes, chain, ruleset, every phase re-adjudicated)."""
    try:
        data = read_file(path)
    except SaveError as e:
        return VerifyReport("", 0, 0, "", e.problem)
    return verify_bytes(data, ruleset_for)


def find_saves(paths: Iterable[str | Path]) -> list[Path]:
    """Files named directly, and every ``*.kessen`` under named directories (sorted)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(q for q in p.rglob(f"*{SUFFIX}") if q.is_file()))
        else:
            out.append(p)
    return out


__all__ = [
    "SUFFIX", "installed_ruleset", "ruleset_for", "installed_files", "save_game", "read_file",
    "load_game", "open_save", "verify_file", "find_saves", "write_bytes_atomic",
]
