"""`kessen adjudicate` follows the conformance contract: one JSON line per case with every key,
exit 0; a malformed case gives exit 2 and one line naming the case and field, no traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
KEYS = ["id", "results", "positions_after", "dislodged_after", "retreat_options", "civil_disorder_removals",
        "supply_center_count_after", "adjustment_after", "supply_centers_after", "winner"]


def run(arg: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "server.cli", "adjudicate", arg], input=stdin,
                          capture_output=True, text=True, timeout=120, cwd=HERE.parent)


def test_every_case_prints_one_line_with_every_key() -> None:
    """Every case of the DATC file yields one JSON line holding exactly the contract's keys."""
    cases = json.loads((HERE / "conformance" / "datc.json").read_text())
    proc = run(str(HERE / "conformance" / "datc.json"))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == len(cases)
    for case, line in zip(cases, lines):
        out = json.loads(line)
        assert list(out) == KEYS and out["id"] == case["id"]
        assert [r["order"] for r in out["results"]] == case["orders"]


def test_single_case_from_stdin() -> None:
    """A single case object on stdin is adjudicated like a list of one."""
    case = {"id": "x", "phase": "S1901M", "units": [{"power": "france", "type": "army", "loc": "par"}],
            "orders": ["france: A par - bur"], "expected": {}}
    proc = run("-", json.dumps(case))
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["positions_after"] == [{"power": "france", "type": "army", "loc": "bur"}]


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("{not json", "not valid JSON"),
        ('{"id": "c1", "units": []}', "case c1: field 'phase'"),
        ('{"id": "c2", "phase": "X1901Q"}', "case c2: field 'phase'"),
        ('{"id": "c3", "phase": "S1901M", "units": [{"power": "france", "type": "tank", "loc": "par"}]}', "case c3: field 'units[0].type'"),
        ('{"id": "c4", "phase": "S1901M", "units": [{"power": "narnia", "type": "army", "loc": "par"}]}', "case c4: field 'units[0].power'"),
        ('{"id": "c5", "phase": "S1901M", "units": [], "orders": ["A par - bur"]}', "case c5: field 'orders[0]'"),
        ('{"id": "c6", "variant": "atlantis", "phase": "S1901M"}', "case c6: field 'variant'"),
        ('{"id": "c7", "phase": "S1901M", "supply_centers": {"france": ["bur"]}}', "case c7: field 'supply_centers.france'"),
        ('[1, 2]', "case ?"),
    ],
)
def test_malformed_case_exits_2_with_one_line(text: str, needle: str) -> None:
    """Malformed input gives exit status 2 and a single line naming the case and the field."""
    proc = run("-", text)
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in proc.stderr


def test_unreadable_order_is_illegal_not_fatal() -> None:
    """An order the parser cannot read is reported illegal; the case is still adjudicated."""
    case = {"id": "u", "phase": "S1901M", "units": [{"power": "france", "type": "army", "loc": "par"}],
            "orders": ["france: A par flies to the moon"], "expected": {}}
    out = json.loads(run("-", json.dumps(case)).stdout)
    assert out["results"] == [{"order": "france: A par flies to the moon", "result": "illegal"}]
