"""Fixtures of the coverage tests: browsers signed in with each role."""

from typing import Any

import pytest

from tests.conftest import Browser, sign_in_as


@pytest.fixture
async def editor(browser: Browser, session: Any) -> Browser:
    await sign_in_as(browser, session, "organizer")
    return browser


@pytest.fixture
async def viewer(browser: Browser, session: Any) -> Browser:
    await sign_in_as(browser, session, "viewer")
    return browser
