"""Fixtures of the address book's tests: the shared CSV files and a signed-in editor."""

from typing import Any

import pytest

from tests.conftest import DATA_DIR, Browser, sign_in_as


@pytest.fixture
def bloggers_csv() -> bytes:
    """UTF-8, commas, 40 good people and 7 rows that are wrong on purpose."""
    return (DATA_DIR / "bloggers.csv").read_bytes()


@pytest.fixture
def excel_csv() -> bytes:
    """The same 40 people as German Excel writes them: Windows-1252 and semicolons."""
    return (DATA_DIR / "bloggers-excel.csv").read_bytes()


@pytest.fixture
async def editor(browser: Browser, session: Any) -> Browser:
    """A browser signed in with the organizer role (may change things, is no admin)."""
    await sign_in_as(browser, session, "organizer")
    return browser


@pytest.fixture
async def viewer(browser: Browser, session: Any) -> Browser:
    await sign_in_as(browser, session, "viewer")
    return browser
