"""Fixtures of the privacy tests: the arranged world, browsers signed in with each role, and the
mail worker with its scheduler hooks."""

from typing import Any

import pytest

from tests.conftest import Browser, sign_in_as
from tests.privacy.helpers import World, arrange_world


@pytest.fixture
async def world(session: Any, settings: Any) -> World:
    return await arrange_world(session, settings)


@pytest.fixture
async def editor(browser: Browser, session: Any) -> Browser:
    await sign_in_as(browser, session, "organizer")
    return browser


@pytest.fixture
async def viewer(browser: Browser, session: Any) -> Browser:
    await sign_in_as(browser, session, "viewer")
    return browser


# The mail worker delivering to a real SMTP server (aiosmtpd), from the mail area's fixtures.
from tests.mail.conftest import (  # noqa: E402
    SmtpServer,
    make_worker,
    relay_settings,
    smtp_server,  # noqa: F401 - a fixture
    smtp_servers,  # noqa: F401 - a fixture
)


@pytest.fixture
def worker_round(database: Any, settings: Any, smtp_server: SmtpServer) -> Any:  # noqa: F811
    """`await worker_round(settings)`: one round of the mail worker, scheduler hooks first, as
    `meetups worker --once` runs it."""

    async def run(with_settings: Any = None) -> Any:
        from meetups.mail.scheduler import registered_hooks

        worker = make_worker(
            database,
            relay_settings(with_settings or settings, smtp_server),
            hooks=registered_hooks(),
        )
        return await worker.run_once()

    return run
