"""Fixtures of the mail tests: an app whose mail catcher is on, and a browser signed in on it.
The real SMTP server (aiosmtpd) and the helpers that point the worker at it are in tests/smtp.py,
shared by every area."""

from collections.abc import AsyncIterator
from typing import Any

import pytest

from meetups.config import Settings
from meetups.db import Database
from meetups.web import create_app
from tests import factories
from tests.conftest import Browser
from tests.network import free_port
from tests.smtp import relay_settings


@pytest.fixture
def catcher_settings(settings: Settings) -> Settings:
    return relay_settings(settings, mail_catcher=True, mail_catcher_port=free_port())


@pytest.fixture
async def catcher_browser(
    catcher_settings: Settings, database: Database, session: Any
) -> AsyncIterator[Browser]:
    """A browser signed in as an organizer, on an app whose mail catcher is on."""
    app = create_app(catcher_settings, database)
    organizer = await factories.make_organizer(session, email="olga@example.com", role="organizer")
    await session.commit()
    async with Browser(app, catcher_settings.secret) as browser:
        await browser.sign_in(organizer.email)
        yield browser
