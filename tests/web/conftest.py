"""Fixtures for the browser tests in this folder."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser

from tests.web.browser import chromium


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, one per test module (started only by the modules that ask for it)."""
    with chromium() as browser:
        yield browser
