"""Data-driven conformance: every case file in tests/conformance/ through the adjudicator.

Each case is compared key by key exactly as the independent checks compare the output of
``kessen adjudicate`` (see README.md here): results per order, positions, dislodged units,
retreat options, civil-disorder removals, centre counts, adjustments and the winner.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from server.conformance import run_case
from server.ruleset_files import load

HERE = Path(__file__).parent
EAST_ASIA_RULES = ("7.",)  # DATC section 7 (Colonial): TSR, Suez canal, Hong Kong


def _cases() -> list:
    params = []
    for path in sorted(HERE.glob("*.json")):
        for case in json.loads(path.read_text(encoding="utf-8")):
            marks = []
            if path.name == "datc.json" and case["id"].startswith(EAST_ASIA_RULES):
                marks.append(pytest.mark.east_asia)
            params.append(pytest.param(case, id=f"{path.stem}:{case['id']}", marks=marks))
    return params


def _units(lst: list) -> list[str]:
    return sorted(json.dumps(u, sort_keys=True) for u in lst or [])


def differences(case: dict, got: dict) -> list[str]:
    """Every way ``got`` departs from ``case['expected']`` (empty when it conforms)."""
    exp, diffs = case["expected"], []
    pending: dict[str, list[str]] = {}
    for r in got["results"]:
        pending.setdefault(r["order"], []).append(r["result"])
    for r in exp.get("results", []):
        have = pending.get(r["order"], [])
        result = have.pop(0) if have else None
        if r["result"] is not None and result != r["result"]:
            diffs.append(f"{r['order']}: want {r['result']}, got {result}")
    for key in ("positions_after", "dislodged_after"):
        if key in exp and _units(exp[key]) != _units(got[key]):
            diffs.append(f"{key}: want {_units(exp[key])}, got {_units(got[key])}")
    if "retreat_options" in exp:
        want = {k: sorted(v) for k, v in exp["retreat_options"].items()}
        have_opts = {k: sorted(v) for k, v in got["retreat_options"].items()}
        if want != have_opts:
            diffs.append(f"retreat_options: want {want}, got {have_opts}")
    if "civil_disorder_removals" in exp and sorted(exp["civil_disorder_removals"]) != sorted(got["civil_disorder_removals"]):
        diffs.append(f"civil_disorder_removals: want {exp['civil_disorder_removals']}, got {got['civil_disorder_removals']}")
    for key in ("supply_center_count_after", "adjustment_after", "winner"):
        if key in exp and exp[key] != got[key]:
            diffs.append(f"{key}: want {exp[key]}, got {got[key]}")
    if "supply_centers_after" in exp:
        have_sc = {k: sorted(v) for k, v in got["supply_centers_after"].items()}
        for k, v in exp["supply_centers_after"].items():
            if have_sc.get(k) != sorted(v):
                diffs.append(f"supply_centers_after[{k}]: want {sorted(v)}, got {have_sc.get(k)}")
    return diffs


@pytest.mark.parametrize("case", _cases())
def test_case(case: dict) -> None:
    """The adjudicator gives exactly the DATC's expected outcome for this case."""
    got = run_case(case, load)
    assert len(got["results"]) == len(case["orders"])
    assert [r["order"] for r in got["results"]] == case["orders"]
    assert differences(case, got) == []


def test_differences_detects_a_wrong_result() -> None:
    """The comparison itself fails on a flipped result, so the suite cannot pass vacuously."""
    case = next(c for c in json.loads((HERE / "datc.json").read_text()) if c["id"] == "6.A.11")
    got = run_case(case, load)
    got["results"][0]["result"] = "succeeds" if got["results"][0]["result"] != "succeeds" else "fails"
    assert differences(case, got)
