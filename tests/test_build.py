"""The optional compiled (mypyc) engine modules always match their sources."""

from __future__ import annotations

import hashlib
from pathlib import Path

import server.engine.resolve as resolve

ENGINE = Path(resolve.__file__).resolve().parent
RECORD = ENGINE / "compiled_sources.txt"


def test_compiled_modules_match_their_sources() -> None:
    """A compiled module is used only while its source is unchanged since the build."""
    compiled = sorted(p for p in ENGINE.glob("*.so") if "__mypyc" not in p.name)
    if not compiled:
        assert resolve.__file__.endswith(".py")  # pure Python install: nothing to check
        return
    assert RECORD.exists(), "compiled modules without a build record: run pip install -e . again"
    recorded = {}
    for line in RECORD.read_text(encoding="utf-8").splitlines():
        digest, path = line.split()
        recorded[Path(path).name] = digest
    for so in compiled:
        source = ENGINE / (so.name.split(".")[0] + ".py")
        now = hashlib.sha256(source.read_bytes()).hexdigest()
        assert recorded.get(source.name) == now, (
            f"{source.name} changed after it was compiled: run `pip install -e .` again "
            "(or `KESSEN_PURE=1 pip install -e .` for pure Python)"
        )
