"""Shared fixtures for the save-file tests: the classic ruleset and small recorded games."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.engine.ruleset import Ruleset
from server.ruleset_files import load, read_folder, rulesets_dir
from server.saves.builder import new_save
from server.saves.model import Save
from server.selfplay import play

ROOT = Path(__file__).resolve().parents[2]
SAVES = ROOT / "saves"
DATA = ROOT / "tests" / "data"


@pytest.fixture(scope="session")
def classic() -> Ruleset:
    return load("classic")


@pytest.fixture(scope="session")
def classic_files() -> dict[str, str]:
    return read_folder(rulesets_dir() / "classic")


def small_game(rs: Ruleset, *, years: int = 2, seed: int = 3, files: dict[str, str] | None = None) -> Save:
    """A short self-play game with a few events, recorded with the builder."""
    rec = new_save(rs, f"small-{seed}", "Small game", players={"france": "Ann"},
                   settings={"deadline_hours": 24, "tags": ["test"]}, created=1_700_000_000,
                   seed=seed, ruleset_files=files)
    rec.add_event("press", by="france", time=1_700_000_100,
                  data={"from": "france", "to": "england", "text": "hello", "phase": "S1901M"})
    for k, p in enumerate(play(rs, seed, years)):
        rec.add_turn(rs, p.orders, p.turn, entered_by={"italy": "host"} if k == 1 else None)
        if k == 2:
            rec.add_event("pause", by="host", reason="holiday", time=1_700_000_200)
    return rec.to_save()


@pytest.fixture(scope="session")
def small(classic: Ruleset) -> Save:
    return small_game(classic)


@pytest.fixture(scope="session")
def small_embedded(classic: Ruleset, classic_files: dict[str, str]) -> Save:
    return small_game(classic, files=classic_files)
