#!/usr/bin/env python3
"""Regenerate the sample games in ``saves/`` (deterministic: same engine, same bytes).

    python tools/make_sample_saves.py [OUT_DIR]      (default: saves/)

Samples:

* ``classic-selfplay-30y.kessen``: a long classic self-play game (seeded random play,
  30 years or until a solo).
* ``classic-convoys-retreats.kessen``: a scripted classic game whose phases hold a
  convoy, a retreat, builds, a waived build and a removal, with press, host actions
  (pause, resume, extend, replacement) and a rollback; then a few self-play years.
* ``mila-peer-1000.kessen``: a MILA saved game imported with Kessen's re-adjudication
  (its ``board`` events mark where the peer's pre-DATC-3.0 choices differ).

Every save embeds its ruleset, so it replays wherever the engine is the same. Creation
times are fixed here, so regenerating gives identical bytes.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from server.engine.notation import format_order, parse_order  # noqa: E402  (path set above)
from server.engine.orders import Build, Convoy, Disband, Move, Retreat, Waive  # noqa: E402
from server.engine.state import initial_state, phase_name  # noqa: E402
from server.engine.turn import step  # noqa: E402
from server.ruleset_files import load, read_folder, rulesets_dir  # noqa: E402
from server.saves.builder import new_save, record_game_from_turns  # noqa: E402
from server.saves.files import save_game  # noqa: E402
from server.saves.mila import convert_game, games_from_text  # noqa: E402
from server.saves.verify import verify_save  # noqa: E402
from server.selfplay import play  # noqa: E402

CREATED = 1_767_225_600  # 2026-01-01T00:00:00Z, fixed so the bytes do not change
MILA_SAMPLES = ROOT / "tests" / "data" / "mila-games.jsonl"

SCRIPT: list[tuple[str, dict[str, list[str]]]] = [
    ("S1901M", {
        "austria": ["F tri - alb", "A vie - gal", "A bud - ser"],
        "england": ["F lon - nth", "F edi - nwg", "A lvp - yor"],
        "france": ["F bre - mao", "A par - bur", "A mar - spa"],
        "germany": ["F kie - den", "A ber - kie", "A mun - ruh"],
        "italy": ["F nap - ion", "A rom - apu", "A ven H"],
        "russia": ["F sev - bla", "A mos - ukr", "A war - gal", "F stp/sc - bot"],
        "turkey": ["F ank - bla", "A con - bul", "A smy - con"],
    }),
    ("F1901M", {
        "austria": ["F alb - gre", "A ser S F alb - gre", "A vie H"],
        "england": ["F nth C A yor - nwy", "A yor - nwy via convoy", "F nwg - bar"],
        "france": ["F mao - por", "A bur - bel", "A spa H"],
        "germany": ["F den H", "A kie - hol", "A ruh S A kie - hol"],
        "italy": ["F ion C A apu - tun", "A apu - tun via convoy", "A ven H"],
        "russia": ["A ukr - rum", "F bot - swe", "A war H", "F sev H"],
        "turkey": ["F ank - arm", "A con H", "A bul H"],
    }),
    ("W1901A", {
        "austria": ["B F tri", "B A bud"],
        "england": ["B F lon"],
        "france": ["B A par", "B F bre", "B A mar"],
        "germany": ["B A ber", "B F kie"],
        "italy": ["B F nap"],
        "russia": ["B A mos", "B F stp/nc"],
        "turkey": ["waive"],
    }),
    ("S1902M", {
        "germany": ["A hol - bel", "A ruh S A hol - bel", "F den H", "A ber - mun", "F kie - hol"],
        "france": ["A bel H", "F por H", "A spa H", "A par H", "F bre - mao", "A mar - bur"],
        "england": ["F nth H", "A nwy H", "F bar H", "F lon - eng"],
    }),
    ("S1902R", {"france": ["A bel R pic"]}),
    ("F1902M", {
        "germany": ["A bel H", "A ruh S A bel", "F hol S A bel", "A mun H", "F den H"],
        "france": ["A pic - bel", "A bur S A pic - bel"],
    }),
    # The host rolls F1902M back (France's orders were entered late by the host) and the
    # phase is played again with France's real orders.
    ("rollback", {}),
    ("F1902M", {
        "germany": ["A bel H", "A ruh S A bel", "F hol S A bel", "A mun H", "F den H"],
        "france": ["A pic H", "A bur H", "F mao - wes"],
    }),
    ("W1902A", {"france": ["D A pic"], "germany": ["B F ber"]}),
]


def _scripted_game(rs, files):
    rec = new_save(
        rs, "sample-convoys-retreats", "Convoys, retreats, builds and removals",
        players={"england": "Ada", "france": "Blaise", "germany": "Carl", "italy": "Marco",
                 "austria": "Dora", "russia": "Egor", "turkey": "Filiz"},
        settings={"deadline_hours": 48, "press": "full", "source": "tools/make_sample_saves.py"},
        created=CREATED, seed=None, ruleset_files=files,
    )
    state = initial_state(rs)
    t = CREATED
    seen = {"convoy": False, "retreat": False, "build": False, "waive": False, "removal": False}
    starts = {}
    rolled_back = False
    for phase, texts in SCRIPT:
        t += 86_400
        if phase == "rollback":
            rec.add_event("rollback", by="host", reason="France's orders were entered late by the host",
                          time=t, data={"to": "F1902M"})
            state = starts["F1902M"]
            rolled_back = True
            continue
        assert phase_name(rs, state) == phase, (phase_name(rs, state), phase)
        starts[phase] = state
        if phase == "S1901M":
            rec.add_event("press", by="england", time=t, data={
                "from": "england", "to": "france", "phase": phase,
                "text": "Shall we keep the Channel empty this year?"})
        if phase == "F1901M":
            rec.add_event("pause", by="host", reason="a player is travelling", time=t)
            rec.add_event("resume", by="host", reason="back on line", time=t + 3600)
        if phase == "S1902M":
            rec.add_event("extend", by="host", reason="holiday weekend", time=t, data={"seconds": 86_400})
            rec.add_event("replacement", by="host", reason="Marco left the game", time=t,
                          data={"nation": "italy", "old": "Marco", "new": "Giulia"})
        orders = {n: [parse_order(x, rs) for x in xs] for n, xs in texts.items()}
        turn = step(rs, state, orders)
        entered = {"france": "host"} if phase == "F1902M" and not rolled_back else {}
        rec.add_turn(rs, orders, turn, entered_by=entered)
        for r in turn.results:
            o = r.order
            if r.ok and isinstance(o, Convoy):
                seen["convoy"] = True
            if r.ok and isinstance(o, Retreat):
                seen["retreat"] = True
            if r.ok and isinstance(o, Build):
                seen["build"] = True
            if r.ok and isinstance(o, Waive):
                seen["waive"] = True
            if r.ok and isinstance(o, Disband) and phase.endswith("A"):
                seen["removal"] = True
            if isinstance(o, Move) and o.via_convoy and o.dest in ("nwy", "tun"):
                assert r.ok, f"{phase}: {format_order(o)} {r.result} {r.reason}"
        state = turn.state
    missing = [k for k, v in seen.items() if not v]
    assert not missing, f"the scripted game lacks: {missing}"
    for played in play(rs, seed=1902, years=3, start=state):
        rec.add_turn(rs, played.orders, played.turn)
    return rec.to_save()


def make_samples(out: Path) -> list[Path]:
    """Write the samples into ``out``; returns their paths."""
    rs = load("classic")
    files = read_folder(rulesets_dir() / "classic")
    written = []

    long_game = record_game_from_turns(
        rs, play(rs, seed=7, years=30), "sample-selfplay-30y", "Classic self-play, seed 7, 30 years",
        created=CREATED, seed=7, ruleset_files=files,
        settings={"policy": "W-rand v1", "years": 30, "source": "tools/make_sample_saves.py"},
    )
    scripted = _scripted_game(rs, files)
    game = games_from_text(MILA_SAMPLES.read_text(encoding="utf-8"))[0]
    mila = convert_game(rs, game, ruleset_files=files).save

    for name, save in (("classic-selfplay-30y", long_game), ("classic-convoys-retreats", scripted),
                       ("mila-peer-1000", mila)):
        report = verify_save(save, rs)
        assert report.ok, f"{name}: {report.problem}"
        path = out / f"{name}.kessen"
        save_game(path, save)
        written.append(path)
    return written


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else ROOT / "saves"
    for p in make_samples(out):
        print(f"wrote {p}  {p.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
