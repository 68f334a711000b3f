"""Optional mypyc build of the engine's hot modules (pure-Python fallback).

Everything else about the package lives in pyproject.toml. Set KESSEN_PURE=1 to skip
compilation; without mypy or a C compiler the build falls back to pure Python too.
"""
import glob
import hashlib
import os
import sys

from setuptools import setup
from setuptools.command.build_ext import build_ext

HOT = [
    "server/engine/resolve.py",
    "server/engine/turn.py",
    "server/engine/adjustments.py",
    "server/engine/outcome.py",
    "server/engine/railway.py",
]


class optional_build_ext(build_ext):
    """Build the compiled modules, or none of them: a half-built set would shadow the .py
    files with extension modules that cannot import their shared library."""

    def run(self):
        try:
            super().run()
        except Exception as exc:  # no compiler, missing headers, ...
            self._fallback(exc)

    def _fallback(self, exc):
        print(f"kessen: mypyc build failed ({exc}); installing pure Python", file=sys.stderr)
        for ext in self.extensions:
            path = self.get_ext_fullpath(ext.name)
            if os.path.exists(path):
                os.remove(path)
        self.extensions = []
        remove_compiled()


HERE = os.path.dirname(os.path.abspath(__file__))
RECORD = os.path.join(HERE, "server", "engine", "compiled_sources.txt")


def remove_compiled():
    """Delete compiled modules left by an earlier build: they would shadow the sources."""
    for path in HOT:
        stem = os.path.join(HERE, path[:-3])
        for so in glob.glob(stem + ".*.so") + glob.glob(stem + "__mypyc.*.so"):
            os.remove(so)
    if os.path.exists(RECORD):
        os.remove(RECORD)


def record_sources():
    """Write the digest of each compiled source; tests/test_build.py checks the build is current."""
    with open(RECORD, "w", encoding="utf-8") as fh:
        for path in HOT:
            with open(os.path.join(HERE, path), "rb") as src:
                fh.write(f"{hashlib.sha256(src.read()).hexdigest()}  {path}\n")


def ext_modules():
    if os.environ.get("KESSEN_PURE") == "1" or sys.implementation.name != "cpython":
        remove_compiled()
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        print("kessen: mypy not available; installing pure Python", file=sys.stderr)
        return []
    try:
        # separate=True: one shared library per module, placed inside server/engine/ (the
        # default single group library goes to the top level, which editable installs miss)
        modules = mypycify(["--follow-imports=silent", *HOT], opt_level="3", separate=True)
        record_sources()
        return modules
    except BaseException as exc:  # mypy exits (SystemExit) on a type error it rejects
        print(f"kessen: mypyc rejected the sources ({exc!r}); installing pure Python", file=sys.stderr)
        return []


setup(ext_modules=ext_modules(), cmdclass={"build_ext": optional_build_ext})
