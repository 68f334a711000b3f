"""`kessen bench server` still runs end to end (a tiny load: it guards the script, not the figures)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_server_runs_on_a_tiny_load(tmp_path: Path) -> None:
    out = tmp_path / "figures.json"
    proc = subprocess.run(
        [sys.executable, "-m", "server.cli", "bench", "server", "--clients", "14", "--games", "2",
         "--seconds", "1", "--sat-seconds", "0.5", "--no-echo", "--json", str(out)],
        capture_output=True, text=True, timeout=240, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "p99 acknowledgement" in proc.stdout and "idle server" in proc.stdout
    assert out.exists() and out.stat().st_size > 0


def test_bench_server_refuses_no_rounds(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "server.cli", "bench", "server", "--rounds", "0"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 2
    assert proc.stderr.strip() == "kessen: --rounds must be at least 1 and --sat-seconds more than 0"
