"""Tests for server.saves_cli: the verify, replay, export, import and stats sub-commands."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from server.cli import main
from server.saves.files import save_game
from server.saves.format import to_bytes

from . import frames
from .conftest import DATA, ROOT


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
    return code, out.out, out.err


@pytest.fixture()
def game_file(tmp_path, small):
    path = tmp_path / "small.kessen"
    save_game(path, small)
    return path


def test_verify_ok(capsys, game_file, small):
    """A good save prints one ok line and exits 0."""
    code, out, _ = run(capsys, "verify", str(game_file))
    assert code == 0
    assert out == f"ok  small-3  {small.phase_count} phases  chain ok\n"


@pytest.mark.parametrize("damage, expected", [
    (lambda d: d[:len(d) // 2], "truncated"),
    (lambda d: b"XX" + d[2:], "magic: not a Kessen save"),
    (lambda d: d[:7] + b"\x09" + d[8:], "header field 'format': version 9 is newer"),
])
def test_verify_bad_file_is_one_line(capsys, game_file, damage, expected):
    """A bad file prints one error line naming the file and the problem, and exits 1."""
    game_file.write_bytes(damage(game_file.read_bytes()))
    code, out, _ = run(capsys, "verify", str(game_file))
    assert code == 1
    assert out.count("\n") == 1 and out.startswith(f"error  {game_file}  ") and expected in out


def test_verify_names_the_record(capsys, game_file):
    """A flipped bit inside record 6 is reported as record 6 with its phase."""
    data = bytearray(game_file.read_bytes())
    start, end = frames.spans(bytes(data))[2 + 6]
    data[(start + end) // 2] ^= 1
    game_file.write_bytes(bytes(data))
    code, out, _ = run(capsys, "verify", str(game_file))
    assert code == 1 and f"error  {game_file}  record 6 (phase " in out


def test_verify_directory(capsys, tmp_path, small):
    """A directory is verified file by file; one bad file makes the exit status 1."""
    d = tmp_path / "many"
    for k in range(3):
        save_game(d / f"g{k}.kessen", small)
    (d / "bad.kessen").write_bytes(b"nope")
    code, out, err = run(capsys, "verify", str(d), "--jobs", "1")
    assert code == 1
    lines = out.splitlines()
    assert len(lines) == 4 and sum(line.startswith("ok  ") for line in lines) == 3
    assert "4 files: 3 ok, 1 failed" in err


def test_replay_text_and_json(capsys, game_file, small):
    """replay shows the board at a phase, as text or JSON; an unknown phase is an error."""
    phase = small.phases[2].phase
    code, out, _ = run(capsys, "replay", str(game_file), "--phase", phase)
    assert code == 0 and phase in out.splitlines()[0] and "centres:" in out
    code, out, _ = run(capsys, "replay", str(game_file), "--phase", phase, "--json")
    board = json.loads(out)
    assert code == 0 and board["phase"] == phase and board["orders"]
    code, out, _ = run(capsys, "replay", str(game_file))
    assert code == 0 and "after the last record" in out
    code, out, _ = run(capsys, "replay", str(game_file), "--phase", "S1777M")
    assert code == 1 and "no phase S1777M" in out


def test_export_json_and_import_back(capsys, tmp_path, game_file):
    """export --format json then import json gives the identical file."""
    code, _, _ = run(capsys, "export", str(game_file), "--format", "json", "--out", str(tmp_path / "x"))
    assert code == 0
    exported = tmp_path / "x" / "small.json"
    code, out, _ = run(capsys, "import", "json", str(exported), "-o", str(tmp_path / "back.kessen"))
    assert code == 0 and out.startswith("ok  small-3")
    assert (tmp_path / "back.kessen").read_bytes() == game_file.read_bytes()


def test_import_json_refuses_an_edited_export(capsys, tmp_path, game_file):
    """An edited export is refused with one line naming the record."""
    run(capsys, "export", str(game_file), "--format", "json", "--out", str(tmp_path / "x"))
    path = tmp_path / "x" / "small.json"
    doc = json.loads(path.read_text())
    doc["records"][3]["by"] = "mallory" if doc["records"][3]["kind"] == "event" else None
    if doc["records"][3]["kind"] == "phase":
        doc["records"][3]["state_digest"] = "0" * 64
    path.write_text(json.dumps(doc))
    code, out, _ = run(capsys, "import", "json", str(path), "-o", str(tmp_path / "y.kessen"))
    assert code == 1 and "record 3" in out and out.count("\n") == 1


def test_export_csv(capsys, tmp_path, game_file):
    """export --format csv writes the tables with their header rows."""
    code, out, _ = run(capsys, "export", str(game_file), "--format", "csv", "--out", str(tmp_path / "csv"))
    assert code == 0
    for name in ("phases", "units", "centres", "orders", "events"):
        first = (tmp_path / "csv" / f"{name}.csv").read_text().splitlines()[0]
        assert first.startswith("game,record,phase")


def test_import_mila_many_with_recheck(capsys, tmp_path):
    """JSON lines give one save per game, one line per game and a final total."""
    out_dir = tmp_path / "mila"
    code, out, _ = run(capsys, "import", "mila", str(DATA / "mila-games.jsonl"), "-o", str(out_dir), "--recheck")
    lines = out.splitlines()
    assert sorted(p.name for p in out_dir.iterdir()) == [f"peer-100{k}.kessen" for k in range(5)]
    assert sum(line.startswith("ok  peer-") for line in lines) == 5
    assert lines[-1].startswith("total  5 games  305 phases checked  ")
    assert "unexplained" in lines[-1] and ", 0 unexplained" in lines[-1]
    assert all("DATC 6.G.8" in line for line in lines if "differs:" in line)
    assert code == 1  # some phases differ (the peer follows pre-3.0 DATC 6.G.8)
    code, _, _ = run(capsys, "import", "mila", str(DATA / "mila-games.jsonl"), "-o", str(out_dir),
                     "--recheck", "--allow-datc")
    assert code == 0
    code, out, _ = run(capsys, "verify", str(out_dir), "--jobs", "1", "--no-progress")
    assert code == 0 and out.count("chain ok") == 5


def test_import_mila_one_game(capsys, tmp_path):
    """A file holding one game gives one save at -o."""
    one = tmp_path / "one.json"
    one.write_text((DATA / "mila-games.jsonl").read_text().splitlines()[1])
    code, out, _ = run(capsys, "import", "mila", str(one), "-o", str(tmp_path / "one.kessen"))
    assert code == 0 and out.startswith("ok  peer-1001  ") and (tmp_path / "one.kessen").exists()


def test_import_mila_bad_order(capsys, tmp_path):
    """An unreadable MILA order is one line naming the game and phase."""
    game = json.loads((DATA / "mila-games.jsonl").read_text().splitlines()[0])
    game["phases"][0]["orders"]["ENGLAND"][0] = "F LON ~~ NTH"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(game))
    code, out, _ = run(capsys, "import", "mila", str(path), "-o", str(tmp_path / "bad.kessen"))
    assert code == 1 and "game peer-1000, phase S1901M: ENGLAND order 'F LON ~~ NTH'" in out


def test_stats(capsys, tmp_path, small):
    """stats prints one game's tables, or aggregates a directory; --json is JSON."""
    d = tmp_path / "games"
    save_game(d / "a.kessen", small)
    save_game(d / "b.kessen", small)
    code, out, _ = run(capsys, "stats", str(d / "a.kessen"))
    assert code == 0 and "supply centres at the end of each year" in out
    code, out, _ = run(capsys, "stats", str(d), "--jobs", "1", "--no-progress")
    assert code == 0 and out.startswith("2 games (classic)")
    code, out, _ = run(capsys, "stats", str(d), "--jobs", "1", "--json", "--no-progress")
    assert code == 0 and len(json.loads(out)["games"]) == 2


def test_stats_plot_without_matplotlib(capsys, monkeypatch, game_file, tmp_path):
    """--plot without matplotlib says how to install it, and exits 1 after the figures."""
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    code, out, err = run(capsys, "stats", str(game_file), "--plot", str(tmp_path / "x.png"))
    assert code == 1 and "supply centres" in out
    assert "pip install -e '.[plot]'" in err


@pytest.mark.slow
def test_verify_directory_in_parallel_with_progress(tmp_path, small):
    """`kessen verify DIR --jobs 2` runs in two processes and draws a progress bar on stderr."""
    d = tmp_path / "bulk"
    data = to_bytes(small)
    for k in range(12):
        (d / f"{k:02d}").mkdir(parents=True, exist_ok=True)
        (d / f"{k:02d}" / "g.kessen").write_bytes(data)
    proc = subprocess.run([sys.executable, "-m", "server.cli", "verify", str(d), "--jobs", "2"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("chain ok") == 12
    assert "verify" in proc.stderr and "12/12" in proc.stderr


def test_stats_plot_with_matplotlib(capsys, game_file, tmp_path):
    """--plot writes a PNG when matplotlib is installed (the optional 'plot' extra)."""
    pytest.importorskip("matplotlib")
    out = tmp_path / "centres.png"
    code, _, _ = run(capsys, "stats", str(game_file), "--plot", str(out))
    assert code == 0 and out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
