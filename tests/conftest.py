"""Shared test configuration."""

import os

# Servers started by the tests (in-process or as subprocesses, which inherit this) publish no
# posts or maps: rendering costs seconds. tests/server/test_http.py turns it on explicitly.
os.environ.setdefault("KESSEN_NO_RENDER", "1")
