"""Shared test configuration."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip the DATC section 7 cases until the East Asia issue (railways, canals, ports) lands."""
    skip = pytest.mark.skip(reason="DATC section 7 belongs to the East Asia issue (TSR, Suez, Hong Kong): not implemented yet")
    for item in items:
        if "east_asia" in item.keywords:
            item.add_marker(skip)
