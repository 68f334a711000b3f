"""The render modules are pure: no files, clock, randomness or rasteriser; the CLI does that."""

from __future__ import annotations

import ast

import pytest

from .conftest import ROOT

PURE = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "server" / "render").glob("*.py"))
FORBIDDEN = {"os", "pathlib", "io", "time", "datetime", "random", "asyncio", "socket", "sqlite3",
             "subprocess", "tempfile", "shutil", "zoneinfo", "server.saves.files",
             "server.ruleset_files", "global_land_mask", "resvg_py", "cairosvg", "server.render_cli"}


@pytest.mark.parametrize("path", PURE)
def test_render_module_is_pure(path):
    """A render module imports nothing that does I/O, reads the clock or rasterises."""
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            mod = node.module or ""
            if node.level:
                base = path.replace("/", ".").removesuffix(".py").split(".")[: -node.level]
                mod = ".".join(base + ([mod] if mod else []))
            names = [mod] + [f"{mod}.{a.name}" for a in node.names]
        for name in names:
            assert not any(name == f or name.startswith(f + ".") for f in FORBIDDEN), f"{path} imports {name}"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id != "open", f"{path} opens a file"
