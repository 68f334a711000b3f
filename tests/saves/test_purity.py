"""The format and replay modules are pure: no files, clock, randomness, processes or sockets."""

from __future__ import annotations

import ast

import pytest

from .conftest import ROOT

PURE = ["server/saves/model.py", "server/saves/entries.py", "server/saves/format.py",
        "server/saves/verify.py", "server/saves/builder.py", "server/saves/replay.py",
        "server/saves/mila.py", "server/analysis/stats.py"]
FORBIDDEN = {"os", "pathlib", "io", "time", "datetime", "random", "asyncio", "socket", "sqlite3",
             "subprocess", "tempfile", "shutil", "concurrent", "multiprocessing", "threading",
             "server.saves.files", "server.ruleset_files", "tqdm", "matplotlib"}


@pytest.mark.parametrize("path", PURE)
def test_pure_module_imports(path):
    """A pure module imports nothing that does I/O or reads the clock."""
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            mod = node.module or ""
            if node.level:
                base = path.replace("/", ".").rsplit(".", 2)[0].split(".")[: -(node.level - 1) or None]
                mod = ".".join(base + ([mod] if mod else []))
            names = [mod] + [f"{mod}.{a.name}" for a in node.names]
        for name in names:
            assert not any(name == f or name.startswith(f + ".") for f in FORBIDDEN), f"{path} imports {name}"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id != "open", f"{path} opens a file"
