"""Find and read ruleset folders from disk (I/O edge for the pure ruleset loader)."""

from __future__ import annotations

import functools
import os
from pathlib import Path

from .engine.errors import RulesetError
from .engine.ruleset import Ruleset, parse_ruleset

ROOT = Path(__file__).resolve().parent.parent


def rulesets_dir() -> Path:
    """The folder holding installed rulesets (``$KESSEN_RULESETS`` overrides)."""
    return Path(os.environ.get("KESSEN_RULESETS", ROOT / "rulesets"))


def read_folder(path: Path) -> dict[str, str]:
    """Every ``*.toml`` file of a ruleset folder, by name."""
    if not path.is_dir():
        raise RulesetError(str(path), "", "no such ruleset folder", "give a folder holding scenario.toml and map.toml")
    files = {}
    for f in sorted(path.glob("*.toml")):
        try:
            files[f.name] = f.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise RulesetError(str(f), "", "not UTF-8 text", "save the file as UTF-8") from None
    return files


def load_path(path: str | Path) -> Ruleset:
    """Load and validate the ruleset in folder ``path``."""
    p = Path(path)
    try:
        shown = str(p.resolve().relative_to(Path.cwd()))
    except ValueError:
        shown = str(p)
    return parse_ruleset(read_folder(p), folder=shown)


@functools.lru_cache(maxsize=None)
def load(ruleset_id: str) -> Ruleset:
    """Load an installed ruleset by id (``classic``), cached per process."""
    folder = rulesets_dir() / ruleset_id
    if not folder.is_dir():
        known = ", ".join(sorted(d.name for d in rulesets_dir().iterdir() if d.is_dir()))
        raise RulesetError(f"rulesets/{ruleset_id}", "", "no such ruleset", f"use one of: {known}")
    return parse_ruleset(read_folder(folder), folder=f"rulesets/{ruleset_id}")


def installed() -> list[str]:
    """Ids of the installed rulesets."""
    return sorted(d.name for d in rulesets_dir().iterdir() if (d / "scenario.toml").is_file())
